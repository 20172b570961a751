"""`embedding-lab train` on a run folder: refused re-runs, --force, a --resume that changes the config, ranges, profiles.
The model is faked: these tests check the command's handling of the run folder, not training."""
import json
from pathlib import Path
import pandas as pd
import pytest
import embedding_lab.data as D
import embedding_lab.model as M
import embedding_lab.train as T
from embedding_lab.core import Config, saved_config
from embedding_lab.cli import main


class _Emb:
    model = tokenizer = None
    max_length, query_prompt, query_max_length = 24, None, None


@pytest.fixture
def fake_train(monkeypatch):
    "train_student writes a checkpoint like the real one; the adapter and student are written as folders."
    calls = []
    def train_student(cfg, method="distill", seed=None, resume=False, **kw):
        calls.append({"method": method, "resume": resume, "steps": cfg.train.steps})
        ck = cfg.artifact("train", f"{method}-seed{cfg.seed}", "checkpoint", "state.pt")
        ck.write_text(f"step {cfg.train.steps} call {len(calls)}")
        return _Emb(), [{"step": s, "loss": 1.0} for s in range(cfg.train.steps)]
    def save_folder(*a, **kw):
        d = Path(a[1] if len(a) > 1 else a[2]); d.mkdir(parents=True, exist_ok=True); return d
    monkeypatch.setattr(T, "train_student", train_student)
    monkeypatch.setattr(M, "save_adapter", lambda emb, d, **kw: save_folder(emb, d))
    monkeypatch.setattr(M, "export_student", lambda model, tok, d, **kw: save_folder(model, d))
    monkeypatch.setattr(D, "load_splits", lambda cfg: {"train": pd.DataFrame({"instruction": ["find the article"]})})
    import embedding_lab.cli as C
    monkeypatch.setattr(C, "ensure_inputs", lambda cfg, stage, **kw: [])          # no data: training is faked
    return calls


def _train(out, *extra):
    return main(["train", "--profile", "tiny", "--out", str(out), *extra])


# needs the train command's guard_stage + --force
def test_train_rerun_without_resume_is_refused(tmp_path, fake_train, capsys):
    out = tmp_path / "run"
    assert _train(out, "-p", "train.steps=12") == 0
    ck = out / "artifacts" / "train" / "distill-seed0" / "checkpoint" / "state.pt"
    assert ck.read_text() == "step 12 call 1"
    assert _train(out, "-p", "train.steps=12") == 2
    err = capsys.readouterr().err
    assert "train distill already ran here (artifacts/train/distill-seed0/checkpoint" in err and "--resume" in err
    assert ck.read_text() == "step 12 call 1" and len(fake_train) == 1          # nothing overwritten
    assert _train(out, "--force", "-p", "train.steps=2") == 0                   # an explicit start over
    assert ck.read_text() == "step 2 call 2" and saved_config(out)["train"]["steps"] == 2


# needs the train command's guard_stage
def test_train_resume_that_changes_the_config_is_refused_and_config_kept(tmp_path, fake_train, capsys):
    out = tmp_path / "run"
    assert _train(out, "-p", "train.steps=12") == 0
    before = (out / "config.json").read_bytes()
    assert _train(out, "--resume", "-p", "train.steps=20") == 2
    assert "changes train.steps: 12 -> 20" in capsys.readouterr().err
    assert (out / "config.json").read_bytes() == before
    assert main(["train", "--out", str(out), "--resume"]) == 0                    # a plain --resume still works
    assert fake_train[-1] == {"method": "distill", "resume": True, "steps": 12}


@pytest.mark.parametrize("override, needle", [("train.steps=-5", "'train.steps' must be >= 1, got -5"),
                                              ("train.steps=0", "'train.steps' must be >= 1, got 0"),
                                              ("train.lr=-1", "'train.lr' must be > 0, got -1.0")])
def test_train_bad_range_fails_before_any_model_loads(tmp_path, fake_train, capsys, override, needle):
    assert _train(tmp_path / "run", "-p", override) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
    assert fake_train == [] and not (tmp_path / "run").exists()


def test_train_profile_of_the_folder_wins_or_is_an_error(tmp_path, fake_train, capsys):
    out = tmp_path / "run"
    Config.load("tiny", run_dir=out).save()
    assert main(["train", "--profile", "quick", "--out", str(out)]) == 2
    assert f"{out} was made with profile 'tiny', not 'quick'" in capsys.readouterr().err
    assert saved_config(out)["profile"] == "tiny" and fake_train == []
    assert main(["train", "--out", str(out)]) == 0                             # no --profile: the folder's
    assert fake_train[-1]["steps"] == 2                                       # tiny's steps, not quick's


def test_train_out_naming_a_file(tmp_path, fake_train, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert _train(f) == 2
    assert f"{f}: is a file, not a run folder" in capsys.readouterr().err
