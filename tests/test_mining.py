"Mining: margin rule by hand, faiss search, selection, bad inputs, caching, load_mined and the CLI."
import json
import numpy as np
import pandas as pd
import pytest

import embedding_lab.mining as M
import embedding_lab.teacher as T
from embedding_lab.core import Config
from conftest import fake_encode
from embedding_lab.cli import main


PAIRS = pd.DataFrame({"query": ["cat food", "dog toys", "stock prices", "rainy weather"],
                      "positive": ["cats eat fish food", "dogs chew toys", "stock prices fell", "rainy weather ahead"]})
EXTRA = ["cat food brands", "dog toys for puppies", "stock market prices", "weather is rainy", "CATS eat fish  food"]


def test_margin_rule_by_hand():
    pos = np.array([1.0, 0.5, -0.2])
    cand = np.array([[0.96, 0.95, 0.5], [0.476, 0.475, 0.40], [-0.19, -0.22, -0.5]])
    np.testing.assert_array_equal(M.margin_mask(pos, cand), [[False, True, True], [False, True, True],
                                                             [False, True, True]])
    # pos < 0: pos * 0.95 = -0.19 lies *above* pos, so the absolute rule (cand <= pos - 0) is what drops -0.19
    np.testing.assert_array_equal(M.margin_mask(np.array([0.8]), np.array([[0.75, 0.6, 0.59]]), 0.0, 0.2),
                                  [[False, True, True]])
    np.testing.assert_array_equal(M.margin_mask(np.array([0.8]), np.array([[0.8]]), 0.0, 0.0), [[True]])


def test_select_and_valid():
    s = np.array([[0.9, 0.7, 0.8, 0.1]]); keep = np.array([[True, True, False, True]])
    assert M.select_negatives(s, keep, 2)[0].tolist() == [0, 1]
    w = M.select_negatives(s, keep, 5, "window", (1, 4))[0].tolist()
    assert set(w) == {1, 3}                      # rank 0 (col 0) is outside the window, col 2 dropped
    ids = np.array([[0, 1, 2]])
    assert M.valid_candidates(ids, np.array([0]), ["p", "p", "q"], ["p"]).tolist() == [[False, False, True]]


def test_search_bad_inputs():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(20, 8)).astype(np.float32)
    idx = M.build_index(c)
    S, I = M.search(idx, c[:2], k=100)             # k larger than the corpus: clamped, no -1 ids
    assert I.shape == (2, 20) and (I >= 0).all()
    with pytest.raises(M.MiningError, match="empty"): M.build_index(np.zeros((0, 8), np.float32))
    c[3, 2] = np.nan
    with pytest.raises(M.MiningError, match=r"rows \[3\]"): M.build_index(c)
    with pytest.raises(M.MiningError, match="dims"): M.search(idx, np.ones((1, 4), np.float32), 2)
    for kind in ("ivf", "hnsw"):
        ann = M.build_index(np.nan_to_num(c), kind, nprobe=64)
        assert M.search(ann, np.nan_to_num(c)[:1], 3)[1].shape == (1, 3)
    assert M.index_kind(10, "auto", 5, "hnsw") == "hnsw" and M.index_kind(10, "auto", 50) == "flat"


def test_mine_counts_bad_rows(tmp_path, encode_calls):
    cfg = Config.load("tiny", run_dir=tmp_path, mining__top_k=50, mining__negatives=3)
    pairs = pd.concat([PAIRS, pd.DataFrame({"query": ["orphan query", " "], "positive": [None, "x"]})], ignore_index=True)
    pairs.loc[len(pairs)] = ["a query whose positive is elsewhere", "a document not in the corpus"]
    corpus = PAIRS.positive.tolist() + EXTRA
    r = M.mine(cfg, pairs, corpus)
    x = r.metrics
    assert x["skipped_no_positive"] == 2 and x["positives_missing_from_corpus"] == 1
    assert x["queries"] == 5 and x["k_clamped"] is True
    assert x["index"] == "flat" and not [k for k in x if k.startswith("ann_")]   # small corpus: exact, metrics as before
    assert list(r.frame.columns) == M.MINED_COLUMNS
    for p, negs, sc in zip(r.frame.positive, r.frame.negatives, r.frame.teacher_scores):
        assert " ".join(p.lower().split()) not in {" ".join(n.lower().split()) for n in negs}   # duplicate excluded
        assert len(sc) == 1 + len(negs) and len(negs) <= 3
    with pytest.raises(M.MiningError, match="corpus is empty"): M.mine(cfg, PAIRS, [])
    with pytest.raises(M.MiningError, match="no pair"): M.mine(cfg, pairs.iloc[4:6], corpus)


def test_mine_nan_embeddings_counted(tmp_path, monkeypatch):
    def enc(model, texts, batch_size=64, desc=""):
        e = fake_encode(model, texts)
        e[[i for i, t in enumerate(texts) if "brands" in t or t == "dog toys"]] = np.nan
        return e
    monkeypatch.setattr(T, "encode_texts", enc)
    monkeypatch.setattr(T, "load_bi_encoder", lambda name="minilm", device="cpu": object())
    cfg = Config.load("tiny", run_dir=tmp_path, mining__top_k=4)
    r = M.mine(cfg, PAIRS, PAIRS.positive.tolist() + EXTRA)
    assert r.metrics["corpus_nan_rows"] == 1 and r.metrics["skipped_nan_query"] == 1
    assert "cat food brands" not in {n for ns in r.frame.negatives for n in ns}


def test_margin_drops_near_duplicates(tmp_path, encode_calls):
    cfg = Config.load("tiny", run_dir=tmp_path, mining__top_k=10, mining__relative_margin=0.05)
    r = M.mine(cfg, PAIRS, PAIRS.positive.tolist() + EXTRA + ["cat food: cats eat fish food"])
    row = r.frame.set_index("query").loc["cat food"]
    assert "cat food: cats eat fish food" not in row.negatives   # scores above the positive: a likely false negative
    assert "dog toys for puppies" in row.negatives                # a clearly lower candidate is kept
    kept = r.margins[r.margins.kept]
    assert (kept.cand <= kept.pos * 0.95 + 1e-6).all()
    assert r.metrics["share_dropped_false_negatives"] > 0


def test_caching_second_run_does_not_encode(tmp_path, encode_calls):
    cfg = Config.load("tiny", run_dir=tmp_path)
    M.mine(cfg, PAIRS, PAIRS.positive.tolist() + EXTRA)
    n = len(encode_calls)
    assert n >= 2
    r = M.mine(cfg, PAIRS, PAIRS.positive.tolist() + EXTRA)
    assert len(encode_calls) == n and r.metrics["queries"] == 4


def test_load_mined_reads_what_the_runner_built(tmp_path, encode_calls):
    from embedding_lab.core import StaleOutputError
    from embedding_lab.report import ensure_inputs
    cfg = Config.load("tiny", run_dir=tmp_path)
    with pytest.raises(StaleOutputError, match="artifacts/mining is missing: run 03_mining"):
        M.load_mined(cfg)                         # a loader never mines
    assert not M.mining_path(cfg).exists()
    assert ensure_inputs(cfg, "05_train") == ["data", "mining"]
    df = M.load_mined(cfg)
    assert list(df.columns) == M.MINED_COLUMNS and len(df) > 100
    assert isinstance(df.negatives.iloc[0], list) and isinstance(df.teacher_scores.iloc[0][0], float)
    mtime = M.mining_path(cfg).stat().st_mtime_ns
    n = len(encode_calls)
    assert len(M.load_mined(cfg)) == len(df) and len(encode_calls) == n
    assert M.mining_path(cfg).stat().st_mtime_ns == mtime
    train = pd.read_parquet(tmp_path / "artifacts/data/train.parquet")
    test = pd.read_parquet(tmp_path / "artifacts/data/test.parquet")
    assert not set(test.positive) & {x for ns in df.negatives for x in ns}   # never mined from test


def test_cli_mine(tmp_path, encode_calls, capsys):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": q, "positive": p}) + "\n" for q, p in PAIRS.values))
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in EXTRA))
    rc = main(["mine", "--pairs", str(pairs), "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--profile", "tiny",
                     "-p", "mining.negatives=2"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "mined 4 queries against 5 documents" in out
    df = pd.read_parquet(tmp_path / "run/artifacts/mining/mined.parquet")
    assert len(df) == 4 and df.negatives.map(len).max() <= 2
    (tmp_path / "empty.txt").write_text("\n")
    assert main(["mine", "--pairs", str(pairs), "--corpus", str(tmp_path / "empty.txt"), "--out", str(tmp_path / "r2")]) == 2
    assert "corpus is empty" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"; bad.write_text('{"query": "q"}\n')
    assert main(["mine", "--pairs", str(bad), "--out", str(tmp_path / "r3")]) == 2
    assert "missing 'positive'" in capsys.readouterr().err


def _clustered(n=2000, d=32, q=300, seed=1):
    g = np.random.default_rng(seed)
    cent = g.normal(size=(40, d)).astype(np.float32)
    x = cent[g.integers(40, size=n)] + 0.6 * g.normal(size=(n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    qs = x[:q] + 0.2 * g.normal(size=(q, d)).astype(np.float32)
    return x, qs / np.linalg.norm(qs, axis=1, keepdims=True)


def test_ann_tuner_reaches_target_and_records_it():
    x, q = _clustered()
    for kind, param in (("ivf", "ann_nprobe"), ("hnsw", "ann_ef_search")):
        idx, m = M.ann_index(x, q, k=10, kind=kind, target=0.97, sample=150)
        assert m["ann_recall_at_k"] >= 0.97 and m["ann_sample_queries"] == 150 and m["ann_k"] == 10
        assert m["ann_recall_target"] == 0.97 and M.search_param(idx)[1] == m[param]
        # measured again on queries outside the tuning sample: close to the target
        got = M.search(idx, q, 10)[1]
        assert M.recall_at_k(got, M.exact_ids(x, q, 10)) >= 0.95
    assert m.get("ann_nlist") is None and M.ann_index(x, q, 10, "ivf")[1]["ann_nlist"] == 51
    _, fixed = M.ann_index(x, q, 10, "ivf", target=None, nprobe=2, sample=100)   # no target: measured, not tuned
    assert fixed["ann_nprobe"] == 2 and 0 < fixed["ann_recall_at_k"] < 1 and "ann_recall_target" not in fixed
    assert M.ann_index(x, q, 10, "flat") [1] == {}


def test_ann_unreachable_target_names_best_recall():
    x, q = _clustered()
    idx = M.build_index(x, "ivf")
    truth = M.exact_ids(x, q[:100], 10)
    with pytest.raises(M.AnnRecallError, match=r"reached recall@10 0\.\d{3} at best \(nprobe=2, the most it tries\)") as e:
        M.tune_search(idx, q[:100], truth, target=0.999, max_value=2)
    assert e.value.best < 0.999 and [v for v, *_ in e.value.curve] == [1, 2]
    assert isinstance(e.value, M.MiningError)              # the CLI's exit code 2
    with pytest.raises(M.MiningError, match="no search setting"): M.tune_search(M.build_index(x), q, truth)


def test_ann_bad_vectors():
    x, q = _clustered(n=500, q=50)
    bad = x.copy(); bad[[7, 300]] = np.nan
    with pytest.raises(M.MiningError, match=r"corpus embeddings: 2 row\(s\) with NaN or inf values \(rows \[7, 300\]\)"):
        M.ann_index(bad, q, 10)
    qb = q.copy(); qb[3, 0] = np.inf
    with pytest.raises(M.MiningError, match=r"query embeddings: .*rows \[3\]"): M.ann_index(x, qb, 10)
    with pytest.raises(M.MiningError, match="query embeddings have 16 dims, expected 32"): M.ann_index(x, q[:, :16], 10)


def test_mine_ann_metrics(tmp_path, encode_calls):
    corpus = PAIRS.positive.tolist() + EXTRA
    cfg = Config.load("tiny", run_dir=tmp_path / "ivf", mining__top_k=4, mining__ann_min_corpus=3)
    r = M.mine(cfg, PAIRS, corpus)
    x = r.metrics
    assert x["index"] == "ivf" and x["ann_recall_at_k"] >= 0.98 and x["ann_recall_target"] == 0.98
    assert x["ann_sample_queries"] == 4 and x["ann_nlist"] >= 1 and x["ann_nprobe"] >= 1
    with pytest.raises(Exception, match="ann_recall"): Config.load("tiny", mining__ann_recall=1.5)
    assert Config.load("tiny", overrides=["mining.ann_recall=null"]).mining.ann_recall is None


def _bench():
    import importlib.util, pathlib
    p = pathlib.Path(__file__).parent.parent / "benchmarks" / "bench_ann.py"
    spec = importlib.util.spec_from_file_location("bench_ann", p)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def test_bench_ann_vectors_file(tmp_path, capsys):
    bench = _bench()
    x, q = _clustered(n=3000, d=16, q=200)
    np.save(tmp_path / "x.npy", x); np.save(tmp_path / "q.npy", q)
    rc = bench.main(["--vectors", str(tmp_path / "x.npy"), "--query-vectors", str(tmp_path / "q.npy"), "--full-queries", "200",
                     "--k-full", "10", "--target", "0.95", "--out", str(tmp_path / "out"), "--threads", "1"])
    out = capsys.readouterr().out
    assert rc == 0 and out.strip().splitlines()[-1].startswith("bench_ann: ")
    r = json.loads((tmp_path / "out/ann_full.json").read_text())[0]
    assert r["recall_tune"] >= 0.95 and r["rows"] == 3000 and (tmp_path / "out/ann_recall_time.png").exists()
    x[[11, 2500]] = np.nan; np.save(tmp_path / "nan.npy", x)
    assert bench.main(["--vectors", str(tmp_path / "nan.npy"), "--query-vectors", str(tmp_path / "q.npy"),
                       "--out", str(tmp_path / "o2"), "--chunk", "1000"]) == 2
    assert "rows [11, 2500] have NaN or inf values" in capsys.readouterr().err
    assert bench.main(["--vectors", str(tmp_path / "x.npy"), "--dim", "384", "--out", str(tmp_path / "o3")]) == 2
    assert "have 16 dims, expected 384" in capsys.readouterr().err
    assert bench.main(["--vectors", str(tmp_path / "q.npy"), "--query-vectors", str(tmp_path / "q.npy"), "--k-full", "10",
                       "--target", "0.9999", "--max-nprobe", "1", "--out", str(tmp_path / "o4")]) == 2
    assert "at best (nprobe=1" in capsys.readouterr().err
