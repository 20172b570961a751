"""--resume continues only the same study or model: the stamp records the user's inputs (path + content hash); a
stage's metrics are replaced whole, never merged with an older run's keys."""
import json
import numpy as np
import pandas as pd
import pytest
from embedding_lab import thumbnail as th
from embedding_lab.core import Config, new_metrics_run, read_metrics, record_metrics
from embedding_lab.cli import main


def test_metrics_of_a_new_run_replace_the_old_ones(tmp_path):
    cfg = Config.load("tiny", run_dir=tmp_path / "run")
    (tmp_path / "run" / "metrics").mkdir(parents=True)
    (tmp_path / "run" / "metrics" / "thumbnail.json").write_text(json.dumps({"items": 300, "clipscore_precision_at_50": 0.9}))
    new_metrics_run()
    record_metrics(cfg, "thumbnail", {"items": 40})
    record_metrics(cfg, "thumbnail", {"sources": 2})              # the same run adds to its own record
    assert read_metrics(cfg.run_dir)["thumbnail"] == {"items": 40, "sources": 2}


def _study(tmp_path, name, idx):
    x, y = th.load_animal_mnist()
    df = th.outlet_corpus(x, y, idx, ["A", "B"], [0.1, 0.6], 0, tmp_path / name)
    df.to_csv(tmp_path / name / "items.csv", index=False)
    return tmp_path / name / "items.csv"


def test_thumbnail_resume_with_other_data_is_refused(tmp_path, small_model, capsys):
    one, other = _study(tmp_path, "one", np.arange(0, 10000, 250)), _study(tmp_path, "two", np.arange(3, 10000, 250))
    out = tmp_path / "run"
    args = ["--model", str(small_model), "--out", str(out), "--profile", "tiny", "-p", "thumbnail.clf_epochs=1",
            "-p", "thumbnail.n_boot=10"]
    assert main(["thumbnail", "--data", str(one), *args]) == 0
    stamp = json.loads((out / "artifacts" / "thumbnail" / "stamp.json").read_text())
    assert stamp["inputs"]["data"]["path"] == str(one.resolve()) and len(stamp["inputs"]["data"]["sha256"]) == 16
    m = json.loads((out / "metrics" / "thumbnail.json").read_text())
    capsys.readouterr()
    assert main(["thumbnail", "--data", str(other), *args[2:], "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume continues the study made from other inputs" in err
    assert f"data: {one.resolve()}" in err and f"-> {other.resolve()}" in err
    assert json.loads((out / "metrics" / "thumbnail.json").read_text()) == m     # nothing replaced
    # the same file edited in place is other data too
    pd.read_csv(one).iloc[:-1].to_csv(one, index=False)
    assert main(["thumbnail", "--data", str(one), *args[2:], "--resume"]) == 2
    assert "sha256" in capsys.readouterr().err
    # an old run's keys do not survive a resumed study
    stale = {**m, "clipscore_precision_at_50": 0.123}
    (out / "metrics" / "thumbnail.json").write_text(json.dumps(stale))
    assert main(["thumbnail", "--data", str(other), *args[2:], "--force"]) == 0
    m2 = json.loads((out / "metrics" / "thumbnail.json").read_text())
    assert m2.get("clipscore_precision_at_50") != 0.123


def test_eval_resume_with_another_model_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["--suite", "offline", "--tasks", "EmbLabLeeSTS", "--profile", "tiny", "--out", str(out)]
    assert main(["eval", "--model", "minilm", *args]) == 0
    scores = (out / "artifacts" / "mteb" / "eval_scores.csv").read_text()
    capsys.readouterr()
    assert main(["eval", "--model", "builtin:smollm2-135m", *args, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model: 'minilm' -> 'builtin:smollm2-135m'" in err
    assert (out / "artifacts" / "mteb" / "eval_scores.csv").read_text() == scores


def test_train_neither_uses_nor_replaces_a_mined_set_made_from_the_users_pairs(tmp_path, capsys):
    "mine --pairs my.jsonl, then train into the same folder: one line naming the file (exit 2); the mined set is kept."
    rows = [{"query": f"question {i} about topic {i % 7}", "positive": f"Document {i}: a text about topic {i % 7} and item {i}."}
            for i in range(30)]
    pairs = tmp_path / "my.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "R"
    assert main(["mine", "--pairs", str(pairs), "--profile", "tiny", "--out", str(out)]) == 0
    mined = (out / "artifacts" / "mining" / "mined.parquet").read_bytes()
    capsys.readouterr()
    assert main(["train", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "made by a command from your files" in err and str(pairs.resolve()) in err and "Traceback" not in err
    assert (out / "artifacts" / "mining" / "mined.parquet").read_bytes() == mined
    assert not (out / "artifacts" / "data").exists()             # nothing built beside it
