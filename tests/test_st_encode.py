"""`Embedder.encode` is `SentenceTransformer.encode` on an exported student (same arguments, same arrays), and the
exported folder is sentence-transformers' own (its `save`, lengths as trained, model card); bad arguments are named."""
import inspect, json
import numpy as np
import pytest
import torch

from embedding_lab import model as M

DOCS = ["The prime minister resigned after the vote.", "A new species of frog was found in Peru.",
        "Rain is expected across the north tomorrow, with strong winds on the coast and heavy seas in the west "
        "for much of the day.", "Stocks fell."]
QUERIES = ["minister quits", "frog species found in south america after a long search by the team"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    "A tiny random Mistral body with SmolLM2's tokenizer, exported as a student (documents 16 tokens, queries 24)."
    from transformers import AutoTokenizer, MistralConfig, MistralModel
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(M.builtin_path())
    body = MistralModel(MistralConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, sliding_window=None)).eval()
    return M.export_student(body, tok, tmp_path_factory.mktemp("st") / "student",
                            query_prompt=M.query_prompt_for("Retrieve the article"), max_length=16,
                            query_max_length=24, base_model="builtin:smollm2-135m", train_datasets=["news headlines"])


@pytest.fixture(scope="module")
def both(folder):
    from sentence_transformers import SentenceTransformer
    return M.load_embedder(folder, device="cpu"), SentenceTransformer(str(folder), device="cpu")


def test_encode_takes_sentence_transformers_arguments_in_their_order():
    from sentence_transformers import SentenceTransformer
    theirs = list(inspect.signature(SentenceTransformer.encode).parameters)[:15]    # up to chunk_size
    ours = list(inspect.signature(M.Embedder.encode).parameters)
    assert ours[:15] == ["self", "inputs", *theirs[2:]], (ours, theirs)
    assert {"instruction", "examples"} <= {n for n, p in inspect.signature(M.Embedder.encode).parameters.items()
                                           if p.kind is p.KEYWORD_ONLY}


@pytest.mark.parametrize("kw", [
    {}, dict(normalize_embeddings=False), dict(normalize_embeddings=True), dict(prompt_name="query"),
    dict(prompt="query: "), dict(truncate_dim=8), dict(truncate_dim=8, normalize_embeddings=False),
    dict(truncate_dim=8, normalize_embeddings=True), dict(precision="binary"), dict(precision="ubinary"),
    dict(batch_size=1), dict(show_progress_bar=False)])
def test_same_arguments_same_arrays(both, kw):
    ours, st = both
    a, b = ours.encode(DOCS, **kw), st.encode(DOCS, **kw)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_query_document_helpers_and_tensors(both):
    ours, st = both
    np.testing.assert_allclose(ours.encode_query(QUERIES), st.encode_query(QUERIES), atol=1e-5)
    np.testing.assert_allclose(ours.encode_document(DOCS), st.encode_document(DOCS), atol=1e-5)
    np.testing.assert_allclose(ours.encode_query(QUERIES, truncate_dim=4), st.encode_query(QUERIES, truncate_dim=4),
                               atol=1e-5)
    # the LGAI instruction keyword gives what the stored query prompt gives
    np.testing.assert_allclose(ours.encode(QUERIES, instruction="Retrieve the article"), st.encode_query(QUERIES),
                               atol=1e-5)
    np.testing.assert_allclose(ours.encode_queries(QUERIES, "Retrieve the article"), st.encode_query(QUERIES), atol=1e-5)
    t1, t2 = ours.encode(DOCS, convert_to_tensor=True), st.encode(DOCS, convert_to_tensor=True)
    assert isinstance(t1, torch.Tensor) and torch.allclose(t1, t2.cpu(), atol=1e-5)
    l1, l2 = ours.encode(DOCS, convert_to_numpy=False), st.encode(DOCS, convert_to_numpy=False)
    assert isinstance(l1, list) and len(l1) == len(l2) and torch.allclose(l1[0], l2[0], atol=1e-5)
    s1, s2 = ours.encode("Stocks fell."), st.encode("Stocks fell.")
    assert s1.shape == s2.shape == (32,)
    tok = ours.encode(["Stocks fell."], output_value="token_embeddings")
    assert torch.allclose(tok[0], st.encode(["Stocks fell."], output_value="token_embeddings")[0], atol=1e-5)


def test_the_folder_is_sentence_transformers_own(folder, both):
    ours, st = both
    cfg = json.loads((folder / "config_sentence_transformers.json").read_text())
    assert cfg["__version__"]["sentence_transformers"] and cfg["similarity_fn_name"] == "cosine"
    assert set(cfg["prompts"]) == {"query", "document"}
    sb = json.loads((folder / "sentence_bert_config.json").read_text())
    assert (sb["query_length"], sb["document_length"]) == (24, 16)           # each side as trained
    assert (ours.query_max_length, ours.max_length) == (24, 16)
    assert [m["type"].rsplit(".", 1)[1] for m in json.loads((folder / "modules.json").read_text())] == \
        ["Transformer", "Pooling", "Normalize"]
    assert json.loads((folder / "1_Pooling" / "config.json").read_text())["pooling_mode"] == "lasttoken"
    card = (folder / "README.md").read_text()
    for s in ("base_model: HuggingFaceTB/SmolLM2-135M-Instruct", "license: apache-2.0", "- en", "news headlines"):
        assert s in card, s
    assert not (folder / "_body").exists() and "chat_template" not in (folder / "tokenizer_config.json").read_text()
    # a long query is cut at the query length, a long document at the document length, in both libraries
    long = "word " * 40
    np.testing.assert_allclose(ours.encode_query([long]), st.encode_query([long]), atol=1e-5)
    assert not np.allclose(ours.encode_query([long]), ours.encode([long], prompt_name="query"), atol=1e-4)


@pytest.mark.parametrize("kw, msg", [
    (dict(prompt_name="passage"), "prompt_name 'passage' is not one of this model's prompts (document, query)"),
    (dict(truncate_dim=33), "truncate_dim=33: the embeddings have 32 dimensions"),
    (dict(truncate_dim=0), "truncate_dim=0"),
    (dict(precision="float16"), "precision='float16' does not exist; give one of float32, int8, uint8, binary, ubinary"),
    (dict(output_value="logits"), "output_value='logits'"),
    (dict(task="passage"), "task='passage'"),
    (dict(pool={}), "multi-process encoding"),
])
def test_bad_arguments_are_named(both, kw, msg):
    ours, _ = both
    with pytest.raises(ValueError, match=None) as e: ours.encode(DOCS, **kw)
    assert msg in str(e.value), str(e.value)


def test_card_data_names_a_hub_base_not_a_local_folder(tmp_path):
    assert M.student_card_data("builtin:smollm2-135m").base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert M.student_card_data("mistralai/Mistral-7B-v0.1").base_model == "mistralai/Mistral-7B-v0.1"
    card = M.student_card_data(str(tmp_path), train_datasets=["news"])
    assert card.base_model is None and f"base:{tmp_path.name}" in card.tags
    assert card.train_datasets[0]["name"] == "news" and card.license == "apache-2.0" and card.language == ["en"]
