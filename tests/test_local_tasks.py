"The shipped MTEB(eng, v2) test sets: checked files, mteb's own task classes, published scores reproduced, bad input."
import contextlib, io, json, shutil
from pathlib import Path
import pandas as pd
import pytest
import embedding_lab.local_tasks as L
from embedding_lab.cli import main

PUBLISHED_MINILM = {"BIOSSES": 81.640, "STS12": 72.369, "STS13": 80.603, "STS14": 75.589, "STS15": 85.390,
                    "Banking77Classification": 80.042}


@pytest.fixture
def local_copy(tmp_path, monkeypatch):
    "A copy of the shipped folder that the library and the CLI read instead of the package's own."
    d = tmp_path / "mteb_local"
    shutil.copytree(L.local_dir(), d)
    monkeypatch.setattr(L, "local_dir", lambda: d)
    return d


def _eval(*args, out) -> tuple[int, str]:
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        rc = main(["eval", "--model", "minilm", "--suite", "local", *args, "--out", str(out)])
    return rc, err.getvalue()


def test_manifest_matches_the_shipped_files():
    man = L.read_manifest()
    total = 0
    for task, e in man["tasks"].items():
        assert e["license"] and e["sources"], task
        for s in e["sources"]: assert set(s) >= {"repository", "commit", "path", "sha256"} and len(s["commit"]) == 40
        for split, f in e["files"].items():
            p = L.checked_file(L.local_dir(), f)
            assert len(L.read_rows(p)) == f["rows"], (task, split)
            total += p.stat().st_size
    assert total < 30e6
    for held_out in ("STSBenchmark", "SICK-R", "SciFact"): assert held_out not in man["tasks"] and held_out in man["excluded"]
    types = {L.mteb_task_class(t).metadata.type for t in man["tasks"]}
    assert {"STS", "Classification", "PairClassification", "Retrieval", "Summarization"} <= types


def test_each_task_is_mtebs_own_class_with_its_test_set():
    "Same class, metadata and number of test rows as mteb's hub dataset (mteb's own descriptive statistics)."
    import mteb
    man = L.read_manifest()
    for name in L.local_names():
        t = L.local_task(name)
        ref = mteb.get_task(name)
        assert isinstance(t, type(ref)) and t.metadata == ref.metadata
        t.load_data()
        if not man["tasks"][name]["comparable"]:                 # a near copy, marked so: its rows are not mteb's
            assert man["tasks"][name]["note"]
            continue
        stats = ref.metadata.descriptive_stats
        if ref.metadata.type == "Retrieval":
            for split, d in t.dataset["default"].items():
                assert (len(d["corpus"]), len(d["queries"])) == (stats[split]["num_documents"], stats[split]["num_queries"])
            continue
        for split in t.dataset:
            assert len(t.dataset[split]) == stats[split]["num_samples"], (name, split)


def test_arguana_is_mtebs_arguana():
    "Documents (title and text as mteb joins them) and queries: counts, characters, extremes and distinct texts as mteb's."
    import mteb
    from mteb._create_dataloaders import _corpus_to_dict
    stats = mteb.get_task("ArguAna").metadata.descriptive_stats["test"]
    d = L.local_dataset("ArguAna")["default"]["test"]
    def summary(texts):
        n = [len(t) for t in texts]
        return {"total_text_length": sum(n), "min_text_length": min(n), "max_text_length": max(n), "unique_texts": len(set(texts))}
    docs = [_corpus_to_dict(r)["text"] for r in d["corpus"]]
    want = lambda k: {f: stats[k][f] for f in ("total_text_length", "min_text_length", "max_text_length", "unique_texts")}
    assert summary(docs) == want("documents_text_statistics")
    assert summary(d["queries"]["text"]) == want("queries_text_statistics")
    rel = stats["relevant_docs_statistics"]
    ids = set(d["corpus"]["id"])
    assert sum(map(len, d["relevant_docs"].values())) == rel["num_relevant_docs"] == 1406
    assert sum(1 for r in d["relevant_docs"].values() for doc in r if doc not in ids) == rel["num_missing_corpus_ids"]


def test_arguana_scores_through_the_cli_on_a_subsample(tmp_path):
    "mteb's retrieval evaluator on 5 queries and at most 55 documents: nDCG@10 in range, the result file marked a sub-sample."
    rc, err = _eval("--tasks", "ArguAna", "--max-items", "5", out=tmp_path / "run")
    assert rc == 0, err
    scores = pd.read_csv(tmp_path / "run" / "artifacts" / "mteb" / "eval_scores.csv").set_index("task")
    assert scores.task_type["ArguAna"] == "Retrieval" and 0 <= scores.main_score["ArguAna"] <= 100
    files = list((tmp_path / "run" / "artifacts" / "mteb" / "cache").rglob("ArguAna.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["dataset_revision"].endswith("-sample5-seed0")


def test_twitter_url_corpus_is_a_near_copy_kept_off_the_board():
    "51,524 of mteb's 51,534 pairs: loads through mteb's class (its column renames), marked not comparable, off the board."
    t = L.local_task("TwitterURLCorpus", max_items=20)
    t.load_data()
    assert t.dataset["test"].column_names == ["sentence1", "sentence2", "labels"] and len(t.dataset["test"]) == 20
    full = L.local_dataset("TwitterURLCorpus")["test"]
    assert len(full) == 51524 and sum(full["labels"]) == 12987
    assert "TwitterURLCorpus" not in L.comparable_tasks() and "TwitterURLCorpus" in L.local_names()
    board = L.local_board(pd.DataFrame({"model": "ours", "task": ["TwitterURLCorpus"], "task_type": "PairClassification",
                                        "main_score": [90.0]}))
    assert "ours" not in board.index


def test_summeval_has_mtebs_rows():
    """100 articles with 11 references and 16 system summaries each, and the relevance mteb's statistics record; the
    text is BARTScore's tokenised copy, so the task is marked not comparable."""
    import mteb
    stats = mteb.get_task("SummEvalSummarization.v2").metadata.descriptive_stats["test"]
    ds = L.local_dataset("SummEvalSummarization.v2")["test"]
    assert len(ds) == stats["num_samples"] == 100
    assert sum(map(len, ds["human_summaries"])) == len({h for hs in ds["human_summaries"] for h in hs}) == 1100
    assert sum(map(len, ds["machine_summaries"])) == 1600 and all(len(r) == 16 for r in ds["relevance"])
    rel = [x for r in ds["relevance"] for x in r]
    got = (min(rel), sum(rel) / len(rel), max(rel))
    want = tuple(stats["score_statistics"][k] for k in ("min_score", "avg_score", "max_score"))
    assert all(abs(a - b) < 1e-9 for a, b in zip(got, want)), (got, want)
    assert "SummEvalSummarization.v2" not in L.comparable_tasks()


def test_summeval_scores_through_the_cli_on_a_subsample(tmp_path):
    "mteb's summarization evaluator on 5 articles (135 short texts): a score in range, its result file marked a sub-sample."
    rc, err = _eval("--tasks", "SummEvalSummarization.v2", "--max-items", "5", out=tmp_path / "run")
    assert rc == 0, err
    scores = pd.read_csv(tmp_path / "run" / "artifacts" / "mteb" / "eval_scores.csv").set_index("task")
    assert scores.task_type["SummEvalSummarization.v2"] == "Summarization"
    assert -100 <= scores.main_score["SummEvalSummarization.v2"] <= 100
    files = list((tmp_path / "run" / "artifacts" / "mteb" / "cache").rglob("SummEvalSummarization.v2.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["dataset_revision"].endswith("-sample5-seed0")


def test_a_subsample_is_marked_and_smaller():
    t = L.local_task("STS12", max_items=50, seed=1)
    t.load_data()
    assert len(t.dataset["test"]) == 50
    assert t.metadata.dataset["revision"].endswith("-sample50-seed1")
    assert L.local_dataset("STS12", 50, seed=1)["test"]["sentence1"] == t.dataset["test"]["sentence1"]
    b = L.local_task("Banking77Classification", max_items=10)
    b.load_data()
    assert (len(b.dataset["train"]), len(b.dataset["test"])) == (80, 10)


def test_minilm_reproduces_its_published_sts_score(tmp_path):
    "all-MiniLM-L6-v2 (the shipped asset) through the CLI on BIOSSES: within 1.0 point of the leaderboard."
    rc, err = _eval("--tasks", "BIOSSES", out=tmp_path / "run")
    assert rc == 0, err
    scores = pd.read_csv(tmp_path / "run" / "artifacts" / "mteb" / "eval_scores.csv").set_index("task").main_score
    assert abs(scores["BIOSSES"] - PUBLISHED_MINILM["BIOSSES"]) < 1.0, scores["BIOSSES"]
    files = list((tmp_path / "run" / "artifacts" / "mteb" / "cache").rglob("BIOSSES.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["task_name"] == "BIOSSES"
    board = L.local_board(pd.DataFrame({"model": "ours", "task": ["BIOSSES"], "task_type": "STS",
                                        "main_score": [scores["BIOSSES"]]}), ["BIOSSES"])
    assert len(board) == 19 and "ours" in board.index


@pytest.mark.slow
def test_minilm_reproduces_its_published_classification_score():
    "Banking77 in full (9,000 short texts to encode: about 80 s on one thread), within 1.0 point of the leaderboard."
    from embedding_lab.core import asset_path
    from embedding_lab.mteb_eval import evaluate_model, mteb_st_model
    s = evaluate_model(mteb_st_model(asset_path("minilm"), device="cpu"), [L.local_task("Banking77Classification")],
                       batch_size=64, show_progress=False)
    assert abs(s.main_score.iloc[0] - PUBLISHED_MINILM["Banking77Classification"]) < 1.0, s


@pytest.mark.parametrize("damage,says", [
    ("missing", "STS13/test.jsonl.gz: missing"),
    ("truncated", "STS13/test.jsonl.gz: checksum mismatch"),
    ("edited", "STS13/test.jsonl.gz: checksum mismatch"),
])
def test_a_damaged_file_is_named(local_copy, tmp_path, damage, says):
    f = local_copy / "STS13" / "test.jsonl.gz"
    b = f.read_bytes()
    if damage == "missing": f.unlink()
    elif damage == "truncated": f.write_bytes(b[: len(b) // 2])
    else: f.write_bytes(b[:-9] + bytes([b[-9] ^ 1]) + b[-8:])
    with pytest.raises(L.LocalDataError, match=says.replace(".", r"\.")): L.local_task("STS13").load_data()
    rc, err = _eval("--tasks", "STS13", out=tmp_path / "run")
    assert rc == 2 and says in err and len(err.strip().splitlines()) == 1


def test_a_missing_manifest_is_named(local_copy, tmp_path):
    (local_copy / "manifest.json").unlink()
    rc, err = _eval("--tasks", "STS12", out=tmp_path / "run")
    assert rc == 2 and "manifest.json: missing" in err


@pytest.mark.parametrize("name,says", [("NoSuchTask", "unknown task 'NoSuchTask'"),
                                       ("STSBenchmark", "task 'STSBenchmark' is not shipped locally")])
def test_an_unknown_or_unshipped_task_is_named(tmp_path, name, says):
    with pytest.raises(L.LocalDataError, match=says): L.local_task(name)
    rc, err = _eval("--tasks", "BIOSSES", name, out=tmp_path / "run")
    assert rc == 2 and says in err and len(err.strip().splitlines()) == 1


def test_max_items_goes_with_the_local_suite(tmp_path):
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(["eval", "--model", "minilm", "--max-items", "5", "--out", str(tmp_path / "r")]) == 2
    assert "--max-items" in err.getvalue()
