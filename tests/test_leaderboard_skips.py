"leaderboard on a run's result cache: the run's models are shown, and every file or score left off is named with the reason."
import json
from pathlib import Path
import mteb
import pytest
from embedding_lab import suite as bm
from embedding_lab.cli import main


def _result(cache: Path, model: str, rev: str, task: str, score: float, subset: str = "default",
            dataset_revision: str = "r", date: float = 1.0) -> Path:
    f = cache / "results" / model.replace("/", "__") / rev / f"{task}.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps({"dataset_revision": dataset_revision, "task_name": task, "mteb_version": mteb.__version__,
                             "evaluation_time": 1.0, "date": date,
                             "scores": {"test": [{"main_score": score, "hf_subset": subset, "languages": ["eng-Latn"]}]}}))
    (f.parent / "model_meta.json").write_text("{}")
    return f


def _run_cache(tmp_path: Path) -> Path:
    "A report's cache: two models on the offline suite (outside MTEB(eng, v2)), as 07_mteb writes it."
    cache = tmp_path / "run" / "artifacts" / "mteb" / "cache"
    for m, s in [("embedding-lab/student", 0.6), ("embedding-lab/base", 0.3)]:
        for t in ("EmbLabNewsRetrieval", "EmbLabLeeSTS"):
            _result(cache, m, "fp1", t, s)
    return cache


def test_run_cache_shows_the_runs_models(tmp_path, capsys):
    cache = _run_cache(tmp_path)
    assert main(["leaderboard", "--results", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "embedding-lab/student" in out and "embedding-lab/base" in out
    assert "outside MTEB(eng, v2)" in out
    own = out.split("ranked among themselves")[1]
    assert own.index("embedding-lab/student") < own.index("embedding-lab/base")       # the better model first
    assert "EmbLabLeeSTS (embedding-lab/base, embedding-lab/student): outside MTEB(eng, v2)" in out


def test_every_skipped_file_is_named_with_its_reason(tmp_path, capsys):
    cache = tmp_path / "cache"
    fr = _result(cache, "me/a", "v1", "STS17", 0.99, subset="fr-en")                 # not the leaderboard's en-en
    _result(cache, "me/a", "v1", "STS12", 0.70)
    sub = _result(cache, "me/a", "v1", "BIOSSES", 0.90, dataset_revision="abc-sample50-seed0")
    unk = _result(cache, "me/a", "v1", "NoSuchTaskAnywhere", 0.5)
    old = _result(cache, "me/b", "old", "STS12", 0.10, date=1.0)                     # two revisions of one model
    _result(cache, "me/b", "new", "STS12", 0.80, date=2.0)
    got = bm.read_results(cache)
    assert sorted(map(tuple, got[["model", "task"]].values.tolist())) == [
        ("me/a", "NoSuchTaskAnywhere"), ("me/a", "STS12"), ("me/b", "STS12")]
    assert got.set_index("model").loc["me/b", "main_score"] == pytest.approx(80.0)  # the newest of equal revisions
    sk = got.attrs["skipped"]
    assert any(s.startswith(f"{fr}: STS17 has no score for hf_subset 'en-en'") and "'fr-en'" in s for s in sk)
    assert any(s.startswith(f"{sub}: BIOSSES scored on a sub-sample of 50 rows") for s in sk)
    assert any(s.startswith(f"{old}: me/b has results of 2 revisions; kept revision new") and "the newest" in s for s in sk)
    assert main(["leaderboard", "--results", str(cache)]) == 0
    out = capsys.readouterr().out
    assert str(fr) in out and str(sub) in out and str(old) in out
    assert "NoSuchTaskAnywhere (me/a): unknown task" in out
    lb = bm.leaderboard_table(got)
    assert lb.loc["me/a", "n_tasks"] == 1                                           # STS12 only, never STS17 from fr-en


def test_more_tasks_beat_a_newer_revision(tmp_path):
    cache = tmp_path / "cache"
    for t in ("STS12", "STS13"): _result(cache, "me/b", "full", t, 0.5, date=1.0)
    _result(cache, "me/b", "quick", "STS12", 0.9, date=5.0)
    got = bm.read_results(cache)
    assert got.main_score.tolist() == [50.0, 50.0] and len(got.attrs["skipped"]) == 1


def test_a_model_named_like_a_peer_is_not_averaged_with_it(tmp_path):
    cache = tmp_path / "cache"
    _result(cache, "sentence-transformers/all-MiniLM-L6-v2", "v", "STS12", 0.01)
    lb = bm.leaderboard_table(bm.read_results(cache))
    peer = bm.reference_scores().query("model == 'sentence-transformers/all-MiniLM-L6-v2'")
    assert lb.loc["sentence-transformers/all-MiniLM-L6-v2", "n_tasks"] == len(peer)
    assert lb.loc["sentence-transformers/all-MiniLM-L6-v2 (your results)", "n_tasks"] == 1


@pytest.mark.parametrize("top", ["-3", "0"])
def test_top_takes_positive_numbers_only(top, capsys):
    assert main(["leaderboard", "--top", top]) == 2
    assert "--top" in capsys.readouterr().err
