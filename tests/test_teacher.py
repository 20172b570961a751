"Teacher: normalisation, fusion, soft labels, ranking metrics, caches, cross-encoder training."
import math
import numpy as np
import pandas as pd
import pytest

import embedding_lab.teacher as T
from embedding_lab.core import Config
from conftest import fake_encode


def test_soft_labels_values():
    p = T.soft_labels(np.array([[2.0, 1.0, 0.0]]), 1.0)
    e = np.exp([2.0, 1.0, 0.0]); np.testing.assert_allclose(p, [e / e.sum()])
    np.testing.assert_allclose(T.soft_labels(np.array([0.1, 0.0]), 0.05), [1 / (1 + math.exp(-2)), 1 - 1 / (1 + math.exp(-2))])
    big = T.soft_labels(np.random.default_rng(0).normal(size=(5, 8)) * 100, 0.01)
    np.testing.assert_allclose(big.sum(1), 1.0)
    assert np.isfinite(big).all()
    assert T.soft_labels(np.array([1.0, np.nan]), 1.0).tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="tau"): T.soft_labels(np.ones(3), -1)


def test_normalize_and_fuse():
    np.testing.assert_allclose(T.normalize_scores(np.array([[5., 10., 0.]])), [[0.5, 1.0, 0.0]])
    z = T.normalize_scores(np.array([[1., 2., 3.]]), "zscore")
    np.testing.assert_allclose(z.mean(), 0, atol=1e-12); np.testing.assert_allclose(z.std(), 1)
    f = T.fuse_scores({"a": np.array([[0., 1.]]), "b": np.array([[1., 0.]])}, {"a": 3, "b": 1})
    np.testing.assert_allclose(f, [[0.25, 0.75]])
    with pytest.raises(ValueError): T.normalize_scores(np.ones((1, 2)), "bogus")


def test_ranking_metrics_by_hand():
    m = T.ranking_metrics(np.array([[0.5, 0.9, 0.1, 0.7], [1.0, 0.0, 0.0, 0.0]]))
    assert m["pos_beats_neg"] == pytest.approx(4 / 6)
    assert m["mrr_at_10"] == pytest.approx((1 / 3 + 1) / 2)
    assert m["ndcg_at_10"] == pytest.approx((1 / math.log2(4) + 1) / 2)


def test_bm25_and_empty_corpus():
    idx = T.BM25Index(["apple pie recipe", "car engine repair", "apple orchard tour"])
    assert idx.scores(["engine repair"]).argmax() == 1
    with pytest.raises(ValueError, match="non-empty"): T.BM25Index([])


def test_embedding_cache_does_not_reencode(tmp_path, encode_calls):
    cfg = Config.load("tiny", run_dir=tmp_path)
    texts = ["a first text", "a second text"]
    e1 = T.cached_embeddings(cfg, texts)
    e2 = T.cached_embeddings(cfg, texts)
    assert encode_calls == [2]                       # encoded once
    np.testing.assert_array_equal(e1, e2)
    assert len(list((tmp_path / "artifacts/teacher").glob("emb-*.npy"))) == 1
    T.cached_embeddings(cfg, texts + ["new"])   # other texts: another key
    assert encode_calls == [2, 3]


def test_score_cache_and_eval(tmp_path, encode_calls, monkeypatch):
    cfg = Config.load("tiny", run_dir=tmp_path)
    q = ["cheap flights", "football results"]
    cands = [["cheap flights to rome", "football scores"], ["football results today", "flights"]]
    n_bm25 = []
    orig = T.BM25Index.score_pairs
    monkeypatch.setattr(T.BM25Index, "score_pairs", lambda self, *a: n_bm25.append(1) or orig(self, *a))
    s1 = T.score_lists(cfg, q, cands)
    s2 = T.score_lists(cfg, q, cands)
    assert set(s1) == {"bm25", "dense"}         # no cross-encoder configured at tiny
    assert len(n_bm25) == 1 and sum(encode_calls) == 2 + 4
    for k in s1: np.testing.assert_allclose(s1[k], s2[k])
    assert (T.fused(cfg, s1)[:, 0] >= T.fused(cfg, s1)[:, 1]).all()


def test_train_corpus_and_candidates():
    tr = pd.DataFrame({"query": ["q1", "q2"], "positive": ["p1", "p2"], "negatives": [["n1", "p2"], []]})
    assert T.train_corpus(tr) == ["p1", "p2", "n1"]
    pool = ["p1", "x", "P1", "y"]
    lists = T.candidate_lists(["q"], ["p1"], pool, np.array([[4., 3, 2, 1]]), np.array([[.9, .1, .8, .7]]), 5)
    assert lists == [["p1", "x", "y"]]


def test_cross_encoder_train_tiny(tmp_path):
    tr = pd.DataFrame({"query": ["cats purr", "dogs bark", "stocks fall", "rain today"],
                       "positive": ["a cat purrs", "the dog barked", "markets dropped", "wet weather coming"]})
    path = T.train_cross_encoder(tr, tmp_path / "ce", steps=2, batch_size=4, max_length=32)
    assert (path / "config.json").exists()
    cfg = Config.load("tiny", run_dir=tmp_path / "run", teacher__cross_encoder=str(path), teacher__cross_max_length=32)
    ce = T.load_cross_encoder(cfg)
    s = T.cross_scores(ce, ["cats purr"], [["a cat purrs", None]])
    assert s.shape == (1, 2) and np.isfinite(s[0, 0]) and np.isnan(s[0, 1])
