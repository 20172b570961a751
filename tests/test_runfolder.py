"Run folders that cannot be lost or mixed: one writer at a time, no silent overwrite, config.json kept, clean stops."
import json, os, re, subprocess, sys, time
from pathlib import Path
import pytest
from embedding_lab import report as R
from embedding_lab.cli import main
from conftest import CLI
from embedding_lab.core import (Config, ConfigError, RunFolderBusy, acquire_run_folder, release_run_folder,
                                resolve_config, saved_config)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_nbs(tmp_path):
    "Three stage notebooks that the faked runner 'executes' (no kernel, no papermill)."
    d = tmp_path / "nbs"
    d.mkdir()
    for s in ("00_core", "01_data", "02_teacher"): (d / f"{s}.ipynb").write_text(json.dumps({"stage": s}))
    return d


@pytest.fixture
def fake_stage(monkeypatch):
    "Replace `run_stage`: writes the executed notebook and a metric; `plan[stem]` can make a stage raise."
    plan, seen = {}, []
    def run_stage(nb, cfg, html=True, timeout_s=None, progress=False):
        seen.append(nb.stem)
        assert (cfg.run_dir / "index.html").exists()           # the index is there before any stage ends
        out = cfg.run_dir / "notebooks" / nb.name
        out.parent.mkdir(parents=True, exist_ok=True); out.write_text("{}")
        if nb.stem in plan: raise plan[nb.stem]
        (cfg.run_dir / "metrics").mkdir(exist_ok=True)
        (cfg.run_dir / "metrics" / f"{nb.stem[3:]}.json").write_text('{"x": 1}')
        return 0.5 + len(seen)
    monkeypatch.setattr(R, "run_stage", run_stage)
    monkeypatch.setattr(R, "export_html", lambda p: p)          # the runner writes HTML copies beside the next stage
    return plan, seen


def _report(out, nbs, *extra):
    return main(["report", "--profile", "tiny", "--out", str(out), "--nbs", str(nbs), "--quiet", *extra])


# 1 + 2: a second run without --resume is refused; --force starts over; config.json is never rewritten by a refusal
def test_rerun_without_resume_is_refused_and_force_reruns(tmp_path, fake_nbs, fake_stage, capsys):
    plan, seen = fake_stage
    out = tmp_path / "run"
    assert _report(out, fake_nbs) == 0
    cfg_bytes = (out / "config.json").read_bytes()
    assert _report(out, fake_nbs, "-p", "data.max_pairs=50") == 2
    err = capsys.readouterr().err
    assert "a report already ran here" in err and "--resume" in err and "--force" in err
    assert (out / "config.json").read_bytes() == cfg_bytes and seen == ["00_core", "01_data", "02_teacher"]
    assert _report(out, fake_nbs, "--force", "-p", "data.max_pairs=50") == 0
    assert saved_config(out)["data"]["max_pairs"] == 50 and len(seen) == 6


def test_resume_that_changes_the_config_is_refused_and_leaves_it(tmp_path, fake_nbs, fake_stage, capsys):
    plan, seen = fake_stage
    out = tmp_path / "run"
    plan["01_data"] = R.StageFailed("stage 01_data failed in cell 3")
    assert _report(out, fake_nbs) == 1
    before = (out / "config.json").read_bytes()
    assert _report(out, fake_nbs, "--resume", "-p", "train.steps=7") == 2
    assert "changes train.steps: 2 -> 7" in capsys.readouterr().err
    assert (out / "config.json").read_bytes() == before
    del plan["01_data"]
    assert main(["report", "--out", str(out), "--nbs", str(fake_nbs), "--quiet", "--resume"]) == 0   # plain --resume works
    assert seen == ["00_core", "01_data", "01_data", "02_teacher"]


def test_profile_of_a_run_folder_cannot_be_switched(tmp_path, fake_nbs, fake_stage, capsys):
    out = tmp_path / "run"
    assert _report(out, fake_nbs, "--only", "00_core") == 0
    assert main(["report", "--profile", "quick", "--out", str(out), "--nbs", str(fake_nbs), "--quiet", "--resume"]) == 2
    assert f"{out} was made with profile 'tiny', not 'quick'" in capsys.readouterr().err
    assert saved_config(out)["profile"] == "tiny"


def test_config_command_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["config", "--profile", "tiny", "--out", str(out), "-p", "seed=5"]) == 0
    assert json.loads(capsys.readouterr().out)["seed"] == 5 and not out.exists()
    Config.load("tiny", run_dir=out).save()
    before = (out / "config.json").read_bytes()
    assert main(["config", "--out", str(out), "-p", "train.steps=9"]) == 0
    assert json.loads(capsys.readouterr().out)["train"]["steps"] == 9
    assert (out / "config.json").read_bytes() == before


# 3: one writer at a time
HOLD = ("import sys, time, json; from pathlib import Path; import embedding_lab.report as R; from embedding_lab.cli import main\n"
        "nbs, out = sys.argv[1], sys.argv[2]\n"
        "def slow(nb, cfg, html=True, timeout_s=None, progress=False):\n"
        "    print('running', flush=True); time.sleep(30); return 1.0\n"
        "R.run_stage = slow\n"
        "sys.exit(main(['report', '--profile', 'tiny', '--out', out, '--nbs', nbs, '--quiet']))\n")


def test_two_concurrent_reports_second_fails_at_once_naming_the_first(tmp_path, fake_nbs, fake_stage, capsys):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-c", HOLD, str(fake_nbs), str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "running"
        t0 = time.time()
        assert _report(out, fake_nbs, "--resume") == 2
        err = capsys.readouterr().err
        assert time.time() - t0 < 10
        assert f"is in use by embedding-lab report (pid {first.pid}" in err and err.count("\n") == 1
        with pytest.raises(RunFolderBusy, match="is in use by embedding-lab report"):
            acquire_run_folder(out, "embedding-lab train")
    finally:
        first.kill(); first.wait()
    assert saved_config(out)["profile"] == "tiny"
    acquire_run_folder(out, "test"); release_run_folder(out)      # the killed holder left no stale lock


def test_stage_commands_take_the_lock_too(tmp_path):
    out = tmp_path / "run"
    code = f"from embedding_lab.core import acquire_run_folder; import time; acquire_run_folder({str(out)!r}, 'holder'); print('ok', flush=True); time.sleep(30)"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ok"
        r = subprocess.run([str(Path(sys.executable).parent / "embedding-lab"), "thumbnail", "--profile", "tiny",
                            "--out", str(out)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "is in use by holder" in r.stderr and "Traceback" not in r.stderr
    finally:
        p.kill(); p.wait()


# 6 + 7: Ctrl-C, timings across resume, an index from the first stage on
def test_ctrl_c_stops_cleanly_marks_the_stage_and_resume_keeps_timings(tmp_path, fake_nbs, fake_stage, capsys):
    plan, seen = fake_stage
    out = tmp_path / "run"
    plan["01_data"] = KeyboardInterrupt()
    assert _report(out, fake_nbs) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted (Ctrl-C) in stage 01_data" in err and "--resume" in err
    index = (out / "index.html").read_text()
    assert "01_data</a> <b class='mark'>[interrupted (Ctrl-C)]</b>" in index
    first = json.loads((out / "timings.json").read_text())
    assert set(first) == {"00_core"}
    del plan["01_data"]
    assert _report(out, fake_nbs, "--resume") == 0
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == {"00_core", "01_data", "02_teacher"} and timings["00_core"] == first["00_core"]
    assert "[interrupted" not in (out / "index.html").read_text()


KILL = ("import os, sys; import embedding_lab.report as R; from embedding_lab.cli import main\n"
        "nbs, out = sys.argv[1], sys.argv[2]\n"
        "def stage(nb, cfg, html=True, timeout_s=None, progress=False):\n"
        "    (cfg.run_dir / 'notebooks').mkdir(exist_ok=True); (cfg.run_dir / 'notebooks' / nb.name).write_text('{}')\n"
        "    if nb.stem == sys.argv[3]: os._exit(9)\n"
        "    return 2.5\n"
        "R.run_stage = stage\n"
        "main(['report', '--profile', 'tiny', '--out', out, '--nbs', nbs, '--quiet'])\n")


@pytest.mark.parametrize("killed_in", ["00_core", "02_teacher"])
def test_a_killed_report_keeps_index_and_timings(tmp_path, fake_nbs, fake_stage, killed_in):
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-c", KILL, str(fake_nbs), str(out), killed_in], timeout=120)
    assert r.returncode == 9
    index = (out / "index.html").read_text()
    assert re.search(killed_in + r"(</a>)? <b class='mark'>\[started, not finished", index)
    kept = json.loads((out / "timings.json").read_text())
    assert kept == ({} if killed_in == "00_core" else {"00_core": 2.5, "01_data": 2.5})
    assert _report(out, fake_nbs, "--resume") == 0
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == {"00_core", "01_data", "02_teacher"} and all(timings[k] == v for k, v in kept.items())


def test_out_naming_a_file_is_one_line(tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["report", "--profile", "tiny", "--out", str(f), "--quiet"]) == 2
    assert main(["config", "--profile", "tiny", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count(f"{f}: is a file, not a run folder") == 2 and "Traceback" not in err


# 4: ranges
@pytest.mark.parametrize("override, needle", [
    ("train.steps=-5", "'train.steps' must be >= 1, got -5"),
    ("train.steps=0", "'train.steps' must be >= 1, got 0"),
    ("train.lr=-1", "'train.lr' must be > 0, got -1.0"),
    ("train.lr=.nan", "'train.lr' must be > 0, got nan"),
    ("data.split_fractions=[0.5,0.6,0.1]", "'data.split_fractions' must be three fractions in [0, 1] summing to 1"),
    ("mining.relative_margin=1.5", "'mining.relative_margin' must be [0, 1], got 1.5"),
    ("thumbnail.outlet_rates=[0.1,2]", "'thumbnail.outlet_rates[1]' must be [0, 1], got 2"),
    ("train.steps=null", "'train.steps' must be >= 1, got null"),
    ("train.method=magic", "'train.method' must be one of inbatch | hardneg | distill"),
])
def test_config_values_carry_ranges(tmp_path, override, needle):
    with pytest.raises(ConfigError) as e:
        Config.load("tiny", run_dir=tmp_path / "r", overrides=[override])
    assert needle in str(e.value) and not (tmp_path / "r").exists()


def test_every_shipped_profile_is_in_range():
    for p in ("tiny", "quick", "full"): resolve_config(p)


def test_mine_and_eval_refuse_to_overwrite_without_force(tmp_path, capsys):
    "A second `mine` or `eval` into a folder that has its output is refused; --force (and eval's --resume) run again."
    pairs = tmp_path / "p.jsonl"
    pairs.write_text("".join(json.dumps({"query": f"question {i} about topic {i % 5}",
                                         "positive": f"answer {i}: topic {i % 5} explained in words {i * 7}"}) + "\n"
                             for i in range(24)))
    out = tmp_path / "run"
    mine = ["--pairs", str(pairs), "--profile", "tiny", "--out", str(out)]
    assert main(["mine", *mine]) == 0
    first = (out / "artifacts" / "mining" / "mined.parquet").stat().st_mtime_ns
    assert main(["mine", *mine]) == 2
    assert "mine already ran here (artifacts/mining/mined.parquet); use --force to run it again" in capsys.readouterr().err
    assert (out / "artifacts" / "mining" / "mined.parquet").stat().st_mtime_ns == first     # left as it was
    assert main(["mine", *mine + ["--force"]]) == 0
    ev = ["--model", "minilm", "--suite", "offline", "--tasks", "EmbLabLeeSTS", "--profile", "tiny", "--out", str(out)]
    assert main(["eval", *ev]) == 0
    assert main(["eval", *ev]) == 2
    assert "eval already ran here" in capsys.readouterr().err
    assert main(["eval", *ev + ["--resume"]]) == 0 and main(["eval", *ev + ["--force"]]) == 0


@pytest.mark.slow
def test_ctrl_c_during_a_report_is_one_line_and_exit_130(tmp_path):
    "Ctrl-C in a terminal signals the whole foreground group (the kernel too): exit 130, one line, no kernel noise."
    import signal, time
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    p = subprocess.Popen(CLI + ["report", "--profile", "tiny", "--out", str(tmp_path / "run"), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    time.sleep(8)                                           # inside 00_core: the kernel is running a cell
    os.killpg(p.pid, signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err[-2000:]
    assert "interrupted (Ctrl-C)" in err and not any(w in err for w in ("Traceback", "ZMQError", "zmq.error"))
