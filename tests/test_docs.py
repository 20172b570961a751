"`embedding-lab docs`: the static site of a finished report opens in a browser whole; an unfinished run is refused."
import json, re
from pathlib import Path
import nbformat
import pytest
from browser import check_pages
from embedding_lab.cli import main
from embedding_lab.docs import SITE_MARK
from embedding_lab.report import notebooks_dir, stage_notebooks

STAGES = [p.stem for p in stage_notebooks(notebooks_dir())]


@pytest.mark.slow
def test_docs_site_opens_in_a_browser_with_every_page_figure_and_link(tiny_report, tmp_path, capsys):
    site = tmp_path / "site" / "_docs"
    assert main(["docs", "--run", str(tiny_report), "--out", str(site)]) == 0, capsys.readouterr().err
    broken, opened = check_pages(site / "index.html", tmp_path)
    assert not broken, "\n".join(broken)
    pages = {site / "index.html", site / "run.html", *(site / f"{s}.html" for s in STAGES)}
    assert pages <= opened, sorted(map(str, pages - opened))
    rev = json.loads((tiny_report / "config.json").read_text())["provenance"]["git_revision"][:10]
    for page in opened:                                         # every page names the run it shows
        assert f"profile <b>tiny</b>, seed 0, git revision <code>{rev}</code>" in page.read_text(), page.name
    train = (site / "05_train.html").read_text()
    assert train.count('src="data:image/png;base64,') >= 2 and "#| export" not in train   # the run's figures, no directives
    assert "<table" in (site / "run.html").read_text() and "<table" in (site / "01_data.html").read_text()
    assert sorted(p.name for p in site.parent.iterdir()) == ["_docs"]     # nothing left beside the site
    # the check can fail: a page gone and a figure that does not decode are reported
    (site / "03_mining.html").unlink()
    (site / "05_train.html").write_text(train.replace('src="data:image/png;base64,iVBOR', 'src="data:image/png;base64,AAAA', 1))
    broken, _ = check_pages(site / "index.html", tmp_path)
    assert any("broken link" in b and b.endswith("/03_mining.html") for b in broken), broken
    assert any(b.split(": ")[0].endswith("/05_train.html") and "broken image" in b for b in broken), broken


def _run(tmp_path: Path, stages=(), corrupt: str | None = None) -> Path:
    "A run folder whose `stages` have an executed (empty) notebook and a done mark; `corrupt` one's notebook is not JSON."
    run = tmp_path / "run"
    (run / "notebooks").mkdir(parents=True); (run / "stages").mkdir()
    (run / "config.json").write_text(json.dumps({"profile": "tiny", "seed": 0, "provenance": {"git_revision": "abc"}}))
    (run / "metrics.json").write_text("{}")
    for s in stages:
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {s}")]), run / "notebooks" / f"{s}.ipynb")
        (run / "stages" / f"{s}.done").write_text("key\n")
    if corrupt: (run / "notebooks" / f"{corrupt}.ipynb").write_text("{not json")
    return run


def _old_site(tmp_path: Path) -> Path:
    site = tmp_path / "_docs"
    site.mkdir(); (site / SITE_MARK).write_text(""); (site / "index.html").write_text("the old site")
    return site


def _docs_fails(run: Path, site: Path, capsys, *expected: str) -> None:
    "The command exits 2 with one line on stderr holding `expected`, and the old site is there, untouched, alone."
    assert main(["docs", "--run", str(run), "--out", str(site)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("embedding-lab docs: ") and "Traceback" not in err, err
    assert all(e in err for e in expected), err
    assert (site / "index.html").read_text() == "the old site" and len(list(site.iterdir())) == 2
    assert sorted(p.name for p in site.parent.iterdir()) == sorted(["_docs", "run"])      # no half-built site beside it


@pytest.mark.parametrize("done", [0, 3], ids=["no-notebooks", "a-stage-missing"])
def test_docs_of_an_unfinished_run_name_the_stage_to_run_and_leave_the_old_site(tmp_path, capsys, done):
    run = _run(tmp_path, STAGES[:done] + STAGES[done + 1:] if done else ())
    if not done: (run / "notebooks").rmdir()
    _docs_fails(run, _old_site(tmp_path), capsys, f"stage {STAGES[done]} has not run", f"embedding-lab report --out {run}")


def test_docs_of_a_stage_that_cannot_be_read_fail_before_replacing_the_site(tmp_path, capsys):
    run = _run(tmp_path, STAGES, corrupt=STAGES[-1])
    _docs_fails(run, _old_site(tmp_path), capsys, f"stage {STAGES[-1]}", "cannot be read")


def test_docs_refuse_to_replace_a_folder_that_is_not_a_site(tmp_path, capsys):
    run, mine = _run(tmp_path, STAGES), tmp_path / "mine"
    mine.mkdir(); (mine / "notes.txt").write_text("keep")
    assert main(["docs", "--run", str(run), "--out", str(mine)]) == 2
    assert "is not a site this command wrote" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
