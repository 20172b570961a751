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
    assert {"STS", "Classification"} <= types


def test_each_task_is_mtebs_own_class_with_its_test_set():
    "Same class, metadata and number of test rows as mteb's hub dataset (mteb's own descriptive statistics)."
    import mteb
    for name in L.local_names():
        t = L.local_task(name)
        ref = mteb.get_task(name)
        assert isinstance(t, type(ref)) and t.metadata == ref.metadata
        t.load_data()
        stats = ref.metadata.descriptive_stats
        for split in t.dataset:
            assert len(t.dataset[split]) == stats[split]["num_samples"], (name, split)


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
