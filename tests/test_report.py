"The report end to end at the tiny profile: run folder layout, determinism, failures and resume."
import json, os, shutil, subprocess, sys
from pathlib import Path
import nbformat
import pytest
from embedding_lab.report import ReportError, run_report, stage_notebooks, notebooks_dir, main

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from embedding_lab.report import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    r = subprocess.run(CLI + ["report", "--profile", "tiny", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def test_report_writes_the_run_folder(tiny_report):
    out = tiny_report
    stages = [p.stem for p in stage_notebooks(notebooks_dir())]
    for s in stages:
        assert (out / "notebooks" / f"{s}.ipynb").exists(), s
        assert (out / "notebooks" / f"{s}.html").exists(), s
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["profile"] == "tiny" and cfg["seed"] == 0 and "packages" in cfg["provenance"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"core", "data"} <= set(metrics)
    assert metrics["data"]["rows_total"] == sum(metrics["data"][f"rows_{s}"] for s in ("train", "dev", "test"))
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == set(stages)
    index = (out / "index.html").read_text()
    assert "notebooks/01_data.html" in index and "rows_total" in index


def test_executed_notebooks_got_the_run_parameters(tiny_report):
    nb = nbformat.read(tiny_report / "notebooks" / "01_data.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(tiny_report) in injected[0].source and "profile = \"tiny\"" in injected[0].source


def test_same_config_gives_identical_metrics(tiny_report, tmp_path):
    "Two whole runs of the same config on CPU: byte-identical metrics.json (timings live elsewhere)."
    again = run_report("tiny", tmp_path / "again", progress=False)
    assert (again / "metrics.json").read_bytes() == (tiny_report / "metrics.json").read_bytes()
    assert len(json.loads((again / "metrics.json").read_text())) == len(stage_notebooks(notebooks_dir()))


def test_overrides_reach_the_stages(tmp_path):
    out = run_report("tiny", tmp_path / "o", only="00_core,01_data", overrides=["data.max_pairs=40"], progress=False)
    assert json.loads((out / "metrics.json").read_text())["data"]["rows_total"] == 40


def _broken_nbs(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    shutil.copy(ROOT / "nbs" / "00_core.ipynb", nbs)
    nb = nbformat.read(ROOT / "nbs" / "01_data.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(nb, nbs / "01_data.ipynb")
    return nbs


def test_failing_stage_names_notebook_and_cell_and_keeps_earlier_work(tmp_path):
    nbs = _broken_nbs(tmp_path)
    out = tmp_path / "run"
    with pytest.raises(ReportError) as e:
        run_report("tiny", out, nbs=nbs, progress=False)
    msg = str(e.value)
    assert "01_data" in msg and "deliberate failure" in msg and "cell" in msg and str(out / "notebooks") in msg
    assert json.loads((out / "metrics.json").read_text()).keys() == {"core"}
    assert (out / "stages" / "00_core.done").exists() and not (out / "stages" / "01_data.done").exists()
    # fix the notebook and resume: the completed stage is not run again
    shutil.copy(ROOT / "nbs" / "01_data.ipynb", nbs / "01_data.ipynb")
    before = (out / "notebooks" / "00_core.ipynb").stat().st_mtime_ns
    with pytest.raises(ReportError, match="--resume"):
        run_report("tiny", out, nbs=nbs, progress=False)
    run_report("tiny", out, nbs=nbs, resume=True, progress=False)
    assert (out / "notebooks" / "00_core.ipynb").stat().st_mtime_ns == before
    assert set(json.loads((out / "metrics.json").read_text())) == {"core", "data"}


def test_cli_report_errors_exit_nonzero(tmp_path, capsys):
    assert main(["report", "--profile", "tiny", "--out", str(tmp_path / "x"), "--only", "42_nothing", "--quiet"]) == 1
    assert "unknown stage '42_nothing'" in capsys.readouterr().err
    assert main(["report", "--profile", "galactic", "--out", str(tmp_path / "y"), "--quiet"]) == 1
    assert "unknown profile" in capsys.readouterr().err
