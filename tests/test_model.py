"Tests of embedding_lab.model: pooling with left padding, encode contract, LoRA, export equivalence, bad inputs."
import copy, json
import numpy as np
import pytest
import torch

from embedding_lab.core import asset_path
from embedding_lab import model as M

DOCS = ["The prime minister resigned after the vote.", "A new species of frog was found in Peru.",
        "Rain is expected across the north tomorrow, with strong winds on the coast.", "Stocks fell."]


@pytest.fixture(scope="module")
def emb():
    torch.set_num_threads(2)
    return M.load_embedder("builtin:smollm2-135m", max_length=48)


def test_last_token_pool_left_and_right_padding():
    h = torch.randn(3, 5, 4)
    left = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])
    assert torch.equal(M.last_token_pool(h, left), h[:, -1])
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    assert torch.equal(M.last_token_pool(h, right), torch.stack([h[0, 2], h[1, 4], h[2, 0]]))


def test_tokenizer_appends_eos_and_pads_left(emb):
    b = emb.tokenize(["a b c d", "x"])
    eos = emb.tokenizer.eos_token_id
    assert (b["input_ids"][:, -1] == eos).all()
    assert b["attention_mask"][1, 0] == 0 and b["attention_mask"][1, -1] == 1      # left padding


def test_encode_contract(emb):
    v = emb.encode(DOCS, batch_size=2)
    assert v.shape == (4, emb.dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    # input order kept and padding does not change a vector (length-sorted batches mix lengths)
    alone = np.stack([emb.encode([d])[0] for d in DOCS])
    np.testing.assert_allclose(v, alone, atol=1e-4)
    q = emb.encode(["frog"], instruction="Find the article")
    np.testing.assert_allclose(q, emb.encode(["Instruct: Find the article\nQuery: frog"]), atol=1e-5)
    assert isinstance(emb.name, str) and emb.name == "builtin:smollm2-135m"


def test_truncation_is_counted_and_keeps_eos(emb):
    n0 = emb.truncated
    long = "word " * 300
    b = emb.tokenize([long, "short"])
    assert b["input_ids"].shape[1] == emb.max_length
    assert b["input_ids"][0, -1] == emb.tokenizer.eos_token_id
    assert emb.truncated == n0 + 1


def test_empty_text_rejected_with_row(emb):
    with pytest.raises(ValueError, match="row 2"):
        emb.encode(["a", "b", ""])
    with pytest.raises(ValueError, match="row 0"):
        emb.encode([None])


def test_not_a_causal_lm_rejected():
    with pytest.raises(ValueError, match="not a causal"):
        M.load_embedder(asset_path("minilm"))
    with pytest.raises(ValueError, match="unknown builtin"):
        M.load_embedder("builtin:nope")


def test_lora_bad_target(emb):
    with pytest.raises(ValueError, match="match no linear layer"):
        M.add_lora(copy.deepcopy(emb.model), targets=["q_proj", "c_attn"])


def test_mistral_config_mapping():
    from transformers import LlamaConfig
    mc = M.mistral_config_from(LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                           num_attention_heads=4, num_key_value_heads=2, vocab_size=100))
    assert mc.model_type == "mistral" and mc.sliding_window is None and mc.num_key_value_heads == 2


@pytest.fixture(scope="module")
def exported(emb, tmp_path_factory):
    lora = M.add_lora(copy.deepcopy(emb.model), r=4, alpha=8, base_name=emb.name)
    with torch.no_grad():
        for n, p in lora.named_parameters():
            if "lora_B" in n: p.normal_(0, 0.02)
    root = tmp_path_factory.mktemp("export")
    le = M.Embedder(lora, emb.tokenizer, "lora", 48, query_prompt=M.query_prompt_for("Find the article"))
    adir = M.save_adapter(le, root / "adapter")
    sdir = M.export_student(lora, emb.tokenizer, root / "student", query_prompt=le.query_prompt, max_length=48)
    return le, adir, sdir


def test_export_equivalence_with_sentence_transformers(exported, emb):
    from sentence_transformers import SentenceTransformer
    le, adir, sdir = exported
    ours = M.load_embedder(sdir)
    assert ours.max_length == 48
    st = SentenceTransformer(str(sdir), device="cpu")
    a, b = ours.encode(DOCS, batch_size=3), st.encode(DOCS, batch_size=3)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert ours.fast_body() is not None                       # the student takes the fast path: still ST's vectors
    np.testing.assert_allclose(ours.encode(["word " * 80, "Stocks fell."]),  # one text cut at max_length
                               st.encode(["word " * 80, "Stocks fell."]), atol=1e-5)
    assert np.abs(a - emb.encode(DOCS)).max() > 1e-3          # the LoRA weights were merged in
    np.testing.assert_allclose(ours.encode(["frog"], instruction="Find the article"),
                               st.encode(["frog"], prompt_name="query"), atol=1e-5)
    # the adapter folder loads on its base and gives the merged model's vectors
    ad = M.load_embedder(adir)
    np.testing.assert_allclose(ad.encode(DOCS), a, atol=1e-4)
    assert ad.name.startswith("builtin:smollm2-135m+lora:")


def test_adapter_on_wrong_base_is_clear(exported, tmp_path):
    le, adir, sdir = exported
    bad = tmp_path / "bad"
    import shutil
    shutil.copytree(adir, bad)
    cfg = json.loads((bad / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(asset_path("minilm"))
    (bad / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="not a causal"):
        M.load_embedder(bad)


def test_retrieval_metrics_hand_checked():
    e = np.eye(4, dtype=np.float32)
    d = np.stack([e[1], e[2], e[0], e[3]])
    r = M.retrieval_metrics(e[:1], d, [3], k=2)            # e0 (index 2) scores 1; indices 0, 1, 3 tie at 0
    # ties are ordered as trec_eval (and so mteb) orders them: by document id, the higher index first
    assert r["mrr_at_2"] == pytest.approx(0.5) and r["ndcg_at_2"] == pytest.approx(1 / np.log2(3))
    assert M.retrieval_metrics(e[:1], d, [1], k=3)["mrr_at_3"] == pytest.approx(1 / 3)
    r = M.retrieval_metrics(e[:1], d, [2], k=10)
    assert r == {"ndcg_at_10": 1.0, "mrr_at_10": 1.0, "recall_at_10": 1.0}


# ---- the fast CPU encode path (FastBody) and the int8 option: a 2-layer cut keeps these to seconds
MIXED = ["Stocks fell.", "A new species of frog was found in Peru, scientists said on Monday.",
         "word " * 60, "Rain is expected across the north tomorrow, with strong winds on the coast and snow on hills.",
         "Hi", "The prime minister resigned after the vote. " * 5]


@pytest.fixture(scope="module")
def small():
    torch.set_num_threads(2)
    return M.load_embedder("builtin:smollm2-135m", max_length=32, layers=2)


def encode_both(e, texts, **kw):
    "(fast path, model forward) vectors of the same texts."
    fast = e.encode(texts, **kw)
    e.fast = False
    try: return fast, e.encode(texts, **kw)
    finally: e.fast = True


def test_fast_path_matches_model_forward(small):
    assert small.fast_body() is not None                      # a plain Mistral body on CPU takes the fast path
    fast, slow = encode_both(small, MIXED, batch_size=4)      # mixed lengths, padded batches, two texts cut at 32
    assert (fast * slow).sum(1).min() >= 0.999
    np.testing.assert_allclose(fast, slow, atol=1e-5)
    np.testing.assert_allclose(*encode_both(small, ["frog " * 40], instruction="Find the article"), atol=1e-5)
    w = small.model.layers[1].mlp.up_proj.weight
    with torch.no_grad(): w.mul_(1.5)                         # a weight changed in place: the fused copy follows
    try:
        moved, slow = encode_both(small, MIXED, batch_size=4)
        assert np.abs(moved - fast).max() > 1e-3
        np.testing.assert_allclose(moved, slow, atol=1e-5)
    finally:
        with torch.no_grad(): w.div_(1.5)


def test_quantize_int8_option_and_bad_values(small):
    q = M.Embedder(small.model, small.tokenizer, "small", 32, quantize="int8")     # the fp32 model is left as it is
    assert q.quantize == "int8" and q.name == "small+int8" and "quantize='int8'" in repr(q)
    v, ref = q.encode(MIXED, batch_size=4), small.encode(MIXED, batch_size=4)
    assert v.shape == ref.shape and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert 0.98 < (v * ref).sum(1).min() and np.abs(v - ref).max() > 1e-4       # close to fp32, not equal
    with pytest.raises(ValueError, match="quantize='int4'"):
        M.load_embedder("builtin:smollm2-135m", quantize="int4")                # refused before loading
    with pytest.raises(ValueError, match="quantize"):
        q.quantize = "fp8"
    lora = M.add_lora(copy.deepcopy(small.model), r=2, alpha=4)
    for w in (p for n, p in lora.named_parameters() if "lora_B" in n): torch.nn.init.normal_(w, std=0.1)
    le = M.Embedder(lora.eval(), small.tokenizer, "lora", 32)   # a PEFT model: FastBody with the adapters folded in
    assert le.fast_body() is not None
    le.fast = False; slow = le.encode(MIXED, batch_size=4); le.fast = True
    np.testing.assert_allclose(le.encode(MIXED, batch_size=4), slow, atol=1e-4)
    assert np.abs(slow - ref).max() > 1e-3                    # the adapters count
    lq = M.Embedder(lora, small.tokenizer, "lora", 32, quantize="int8")
    assert 0.98 < (lq.encode(MIXED, batch_size=4) * slow).sum(1).min()
