"""embedding_lab.st_loss: the LGAI loss as a sentence-transformers loss trains a SentenceTransformer with
SentenceTransformerTrainer on a mined FlagEmbedding file; the loader names bad rows; the loss is train.py's."""
import json
import numpy as np
import pytest
import torch

from embedding_lab import st_loss as L


def _mined_file(path, n_pairs=16, n_pool=32, n_neg=3):
    "A FlagEmbedding file as `embedding-lab mine --flag-jsonl` writes it: news headlines, leads, MiniLM-scored negatives."
    from sentence_transformers import SentenceTransformer
    from embedding_lab.core import asset_path
    from embedding_lab.data import news_pairs
    from embedding_lab.mining import write_flag_jsonl
    model = SentenceTransformer(str(asset_path("minilm")), device="cpu")
    news = news_pairs(max_pairs=n_pairs + n_pool, positive_chars=160, seed=0)
    pairs, pool = news.iloc[:n_pairs].reset_index(drop=True), news.positive.iloc[n_pairs:].tolist()
    q, d, p = (model.encode(x, normalize_embeddings=True) for x in (pairs["query"].tolist(), pairs["positive"].tolist(), pool))
    hard = np.argsort(-(q @ p.T), axis=1)[:, :n_neg]
    mined = pairs.assign(negatives=[[pool[j] for j in h] for h in hard],
                         teacher_scores=[[float(q[i] @ d[i])] + [float(q[i] @ p[j]) for j in h] for i, h in enumerate(hard)])
    return write_flag_jsonl(mined, path), model


def test_sentence_transformers_trainer_lowers_the_lgai_loss(tmp_path):
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    torch.manual_seed(0)
    flag, model = _mined_file(tmp_path / "mined.jsonl")
    ds = L.flag_dataset(flag, teacher_tau=0.05)
    assert ds.column_names == ["anchor", "positive", "negative_1", "negative_2", "negative_3", "label"] and len(ds) == 16
    loss = L.LGAILoss(model, tau=0.02, kl_tau=0.02, kl_weight=1.0)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=6, per_device_train_batch_size=8, per_device_eval_batch_size=8,
        learning_rate=2e-5, save_strategy="no", logging_steps=1, report_to="none", seed=0, use_cpu=True,
        disable_tqdm=True, dataloader_drop_last=True)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=ds, eval_dataset=ds, loss=loss)
    before = trainer.evaluate()["eval_loss"]
    trainer.train()
    after = trainer.evaluate()["eval_loss"]
    assert after < before, (before, after)
    assert set(loss.last_parts) == {"infonce", "kl"} and all(np.isfinite(v) for v in loss.last_parts.values())


def test_the_loss_is_train_loss_from_embeddings():
    from embedding_lab.train import loss_from_embeddings
    g = torch.Generator().manual_seed(0)
    b, n, dim = 3, 2, 8
    reps = [torch.nn.functional.normalize(torch.randn(b, dim, generator=g), dim=-1) for _ in range(2 + n)]
    lab = torch.softmax(torch.randn(b, 1 + n, generator=g), -1)
    docs = torch.cat([reps[1], torch.stack(reps[2:], 1).reshape(b * n, dim)])
    want, parts = loss_from_embeddings("distill", reps[0], docs, b, n, lab, 0.02, 0.03, 0.5)
    loss = L.LGAILoss(None, tau=0.02, kl_tau=0.03, kl_weight=0.5)
    assert torch.allclose(loss.compute_loss_from_embeddings(reps, lab), want)
    hard, _ = loss_from_embeddings("hardneg", reps[0], docs, b, n, None, 0.02, 0.03, 0.5)
    assert torch.allclose(loss.compute_loss_from_embeddings(reps, torch.zeros(b)), hard)   # no label column
    assert torch.allclose(L.LGAILoss(None, kl_weight=0.0).compute_loss_from_embeddings(reps, lab), hard)
    assert loss.get_config_dict() == {"tau": 0.02, "kl_tau": 0.03, "kl_weight": 0.5} and "2506.07438" in loss.citation
    with pytest.raises(ValueError, match="a temperature must be > 0"): L.LGAILoss(None, tau=0)


def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


ROW = {"query": "q1", "pos": ["p1"], "neg": ["n1", "n2"], "pos_scores": [0.9], "neg_scores": [0.5, 0.1], "prompt": "Find it"}


@pytest.mark.parametrize("rows, msg", [
    ([ROW, "{not json"], "x.jsonl:2: invalid JSON"),
    ([ROW, {**ROW, "query": " "}], "x.jsonl:2: 'query' is missing or empty"),
    ([ROW, {**ROW, "pos": []}], "x.jsonl:2: 'pos' is not a non-empty list of texts"),
    ([ROW, {**ROW, "neg": "n1"}], "x.jsonl:2: 'neg' is not a list of texts"),
    ([ROW, {**ROW, "neg_scores": [0.5, float("nan")]}], "x.jsonl:2: 'neg_scores' is not a list of 2 finite numbers"),
    ([{k: v for k, v in ROW.items() if k != "pos_scores"}], "x.jsonl:1: 'pos_scores' is not a list of 1 finite numbers"),
    ([], "x.jsonl: no rows"),
])
def test_bad_rows_are_named_by_line(tmp_path, rows, msg):
    with pytest.raises(ValueError) as e: L.flag_dataset(_write(tmp_path / "x.jsonl", rows))
    assert msg in str(e.value), str(e.value)


def test_loader_negatives_examples_and_hard_labels(tmp_path):
    f = _write(tmp_path / "x.jsonl", [ROW, {**ROW, "query": "q2", "neg": ["n1"], "neg_scores": [0.2]},
                                      {**ROW, "query": "q3", "prompt": "Other task"}])
    ds = L.flag_dataset(f)
    assert ds.column_names == ["anchor", "positive", "negative_1", "label"]            # the fewest any row has
    assert ds[0]["anchor"] == "Instruct: Find it\nQuery: q1"
    with pytest.raises(ValueError, match="x.jsonl:2: 1 negatives, fewer than n_neg=2"): L.flag_dataset(f, n_neg=2)
    ex = L.flag_dataset(f, n_examples=2)["anchor"]
    assert ex[0].startswith("Instruct: Find it\nQuery: q2\nResponse: p1") and ex[2] == "Instruct: Other task\nQuery: q3"
    assert "label" not in L.flag_dataset(f, teacher_tau=None).column_names
    assert L.flag_dataset(f, instruction="")[0]["anchor"] == "q1"                          # no instruction: the text
    with pytest.raises(FileNotFoundError, match="missing.jsonl: no such file"): L.flag_dataset(tmp_path / "missing.jsonl")


def test_an_exported_student_trains_with_the_trainer_too(tmp_path):
    "The exported student (Mistral body, last-token pooling, left padding) is a SentenceTransformer the trainer runs."
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from transformers import AutoTokenizer, MistralConfig, MistralModel
    from embedding_lab import model as M
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(M.builtin_path())
    body = MistralModel(MistralConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, sliding_window=None))
    st = SentenceTransformer(str(M.export_student(body, tok, tmp_path / "student", max_length=32)), device="cpu")
    words = ["rates", "frogs", "rain", "stocks", "votes", "storms", "trains", "films"]
    rows = [{"query": f"news about {w}", "pos": [f"an article on {w} today"],
             "neg": [f"an article on {words[(i + k) % 8]} today" for k in (1, 2)], "pos_scores": [0.9],
             "neg_scores": [0.4, 0.3], "prompt": "Find the article"} for i, w in enumerate(words)]
    ds = L.flag_dataset(_write(tmp_path / "m.jsonl", rows))
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), max_steps=5, per_device_train_batch_size=4, per_device_eval_batch_size=4,
        learning_rate=3e-3, save_strategy="no", report_to="none", seed=0, use_cpu=True, disable_tqdm=True)
    trainer = SentenceTransformerTrainer(model=st, args=args, train_dataset=ds, eval_dataset=ds, loss=L.LGAILoss(st))
    before = trainer.evaluate()["eval_loss"]
    trainer.train()
    assert trainer.evaluate()["eval_loss"] < before
