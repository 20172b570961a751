"The report end to end at the tiny profile: run folder layout, determinism, failures and resume."
import json, os, shutil, subprocess, sys
from pathlib import Path
import nbformat
import pytest
from embedding_lab.report import ReportError, run_report, stage_notebooks, notebooks_dir
from embedding_lab.cli import main
from browser import check_pages

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
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
    assert metrics["data"]["rows_total"] == sum(metrics["data"][f"rows_{s}"] for s in ("train", "dev", "test")) \
        - metrics["data"]["rows_added_tasks"]                  # the built-in tasks join the train split only
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) == set(stages)
    index = (out / "index.html").read_text()
    assert "notebooks/01_data.html" in index and "rows_total" in index
    assert not list(notebooks_dir().glob("kernel-ipc*"))        # the kernels' sockets live in a temporary folder


@pytest.mark.slow
def test_executed_notebooks_got_the_run_parameters(tiny_report):
    nb = nbformat.read(tiny_report / "notebooks" / "01_data.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and str(tiny_report) in injected[0].source and "profile = \"tiny\"" in injected[0].source


# The stages that draw random numbers after the splits (teacher, mining, training, the CLIP, the thumbnail study),
# run again on a copy of the tiny report with their outputs removed; the splits' determinism is tests/test_data.py's,
# 07_mteb's suite scoring tests/test_mteb_eval.py's. A second whole report would double this file's cost.
SEEDED = {"02_teacher": "teacher", "03_mining": "mining", "05_train": "train", "08_clip": "clip", "09_thumbnail": "thumbnail"}
OUTPUTS = ["teacher", "mining", "train", "ablations", "student", "thumbnail"]      # artifacts/ folders they write


@pytest.mark.slow
def test_same_config_gives_identical_metrics(tiny_report, tmp_path):
    "The seeded stages run again on CPU with the same config: their metrics are identical to the byte (timings live elsewhere)."
    again = tmp_path / "again"
    shutil.copytree(tiny_report, again, ignore=shutil.ignore_patterns("notebooks", *OUTPUTS))
    for stage, key in SEEDED.items():
        (again / "stages" / f"{stage}.done").unlink(); (again / "metrics" / f"{key}.json").unlink()
    run_report("tiny", again, only=",".join(SEEDED), resume=True, progress=False)
    first, second = (json.loads((d / "metrics.json").read_text()) for d in (tiny_report, again))
    assert all((again / "stages" / f"{s}.done").exists() for s in SEEDED) and (again / "artifacts" / "student").is_dir()
    for key in SEEDED.values():
        assert json.dumps(second[key], sort_keys=True) == json.dumps(first[key], sort_keys=True), key
    assert len(first) == len(stage_notebooks(notebooks_dir()))         # every stage records its metrics


def test_overrides_reach_the_stages(tmp_path):
    out = run_report("tiny", tmp_path / "o", only="00_core,01_data", overrides=["data.max_pairs=40"], progress=False)
    assert json.loads((out / "metrics.json").read_text())["data"]["rows_total"] == 40


def test_a_relative_out_is_the_run_folder_of_every_stage(tmp_path, monkeypatch):
    "The notebooks run in nbs/: a relative --out (and the default reports/<timestamp>) must still collect their outputs."
    monkeypatch.chdir(tmp_path)
    out = run_report("tiny", "runs/rel", only="00_core", progress=False)
    assert out == tmp_path / "runs" / "rel"
    assert "core" in json.loads((out / "metrics.json").read_text())
    assert not (notebooks_dir() / "runs").exists()


def _broken_nbs(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    shutil.copy(ROOT / "nbs" / "00_core.ipynb", nbs)
    nb = nbformat.read(ROOT / "nbs" / "01_data.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('deliberate failure')"))
    nbformat.write(nb, nbs / "01_data.ipynb")
    return nbs


@pytest.mark.slow
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
    assert main(["report", "--profile", "tiny", "--out", str(tmp_path / "x"), "--only", "42_nothing", "--quiet"]) == 2
    assert "unknown stage '42_nothing'" in capsys.readouterr().err
    assert main(["report", "--profile", "galactic", "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert "unknown profile" in capsys.readouterr().err


def _progress_nbs(tmp_path):
    "One small stage notebook with a tqdm bar, a warning on stderr and the closing export cell of the real ones."
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "embedding-lab", "display_name": "Python (embedding-lab)",
                                                           "language": "python"}})
    params = nbformat.v4.new_code_cell("profile = \"tiny\"\nrun_dir = None\nseed = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "import time, warnings\nfrom tqdm.auto import tqdm\nwarnings.warn('a warning for the notebook only')\n"
        "for _ in tqdm(range(3), desc='inner loop'): time.sleep(0.05)"),
        nbformat.v4.new_code_cell("#| hide\nimport nbdev; nbdev.nbdev_export()")]
    nbformat.write(nb, nbs / "00_progress.ipynb")
    return nbs


def test_stage_progress_reaches_the_terminal_and_the_kernel_is_quiet(tmp_path, capfd, monkeypatch):
    "The stage's own tqdm bar is echoed to stderr with the stage name; no TCP warning; the export cell is not run."
    monkeypatch.setitem(sys.modules, "nbdev", None)           # as in a plain pip install without the dev extra
    out = run_report("tiny", tmp_path / "run", nbs=_progress_nbs(tmp_path), progress=True)
    err = capfd.readouterr().err
    assert "00_progress: inner loop: 100%" in err, err[-2000:]
    assert "without encryption" not in err and "a warning for the notebook only" not in err, err[-2000:]
    done = nbformat.read(out / "notebooks" / "00_progress.ipynb", as_version=4)
    assert not any("nbdev_export" in c.source for c in done.cells)
    assert "a warning for the notebook only" in json.dumps(done.cells[-1].outputs)


def test_notebooks_name_the_project_kernel_that_setup_installs():
    names = {nbformat.read(p, as_version=4).metadata.kernelspec.name for p in sorted((ROOT / "nbs").glob("*.ipynb"))}
    assert names == {"embedding-lab"}
    assert "ipykernel install --sys-prefix --name embedding-lab" in (ROOT / "Makefile").read_text()


@pytest.mark.slow
def test_a_wheel_ships_the_notebooks_and_runs_the_report_without_the_source_tree(tmp_path):
    "Build a wheel from a copy of the project, install it into a bare folder and run a stage from elsewhere."
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"): shutil.copy(ROOT / name, src / name)
    for name in ("embedding_lab", "nbs"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    r = subprocess.run(pip + ["wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    wheel, = (tmp_path / "dist").glob("embedding_lab-*.whl")
    import zipfile
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("embedding_lab/nbs/")}
    assert {f"embedding_lab/nbs/{p.name}" for p in (ROOT / "nbs").glob("*.ipynb")} == shipped
    site = tmp_path / "site"
    r = subprocess.run(pip + ["install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    nodev = tmp_path / "nodev" / "nbdev"                     # the dev extra is not installed
    nodev.mkdir(parents=True)
    (nodev / "__init__.py").write_text("raise ImportError('nbdev is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(nodev.parent)])}
    env.pop("EMBEDDING_LAB_NBS", None)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import sys; from embedding_lab.report import notebooks_dir; from embedding_lab.cli import main; "
            "print(notebooks_dir()); sys.exit(main())")
    r = subprocess.run([sys.executable, "-c", code, "report", "--profile", "tiny", "--only", "00_core", "--out", "run",
                        "--quiet"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.splitlines()[0] == str(site / "embedding_lab" / "nbs")
    assert (work / "run" / "stages" / "00_core.done").exists() and (work / "run" / "index.html").exists()
    assert list(work.iterdir()) == [work / "run"]


@pytest.mark.slow
def test_index_and_every_notebook_page_open_in_a_browser_without_broken_links_or_images(tiny_report, tmp_path):
    broken, opened = check_pages(tiny_report / "index.html", tmp_path)
    assert not broken, "\n".join(broken)
    stages = [p.stem for p in stage_notebooks(notebooks_dir())]
    assert {tiny_report / "notebooks" / f"{s}.html" for s in stages} <= opened
    # the check can fail: a missing figure and a missing notebook page are reported
    (tiny_report / "artifacts" / "figures" / "train_loss.png").rename(tmp_path / "train_loss.png")
    (tiny_report / "notebooks" / "01_data.html").rename(tmp_path / "01_data.html")
    try:
        broken, _ = check_pages(tiny_report / "index.html", tmp_path)
        assert any("broken image artifacts/figures/train_loss.png" in b for b in broken), broken
        assert any(b.endswith("notebooks/01_data.html") and "broken link" in b for b in broken), broken
    finally:
        (tmp_path / "train_loss.png").rename(tiny_report / "artifacts" / "figures" / "train_loss.png")
        (tmp_path / "01_data.html").rename(tiny_report / "notebooks" / "01_data.html")
