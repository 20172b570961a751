"Run-folder inputs: --resume needs a run, --nbs needs notebooks, --out must be able to be a folder, a failed command leaves no new folder."
import json
import pytest
from embedding_lab.cli import main


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("cmd", [["report", "--profile", "tiny"], ["train", "--profile", "tiny"],
                                 ["thumbnail", "--profile", "tiny"],
                                 ["eval", "--model", "minilm", "--suite", "offline", "--profile", "tiny"]])
def test_resume_on_a_folder_that_never_ran(tmp_path, capsys, cmd):
    out = tmp_path / "new"
    rc = main([*cmd, "--out", str(out), "--resume"])
    err = capsys.readouterr().err
    assert rc == 2 and "--resume" in err and "no config.json" in err and "Traceback" not in err
    assert not out.exists()                                        # nothing started in its place


def test_nbs_without_notebooks_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc = main(["report", "--profile", "tiny", "--out", str(tmp_path / "run"), "--nbs", str(tmp_path / "empty"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and _one_line(err) and "holds no stage notebook" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("cmd", [["mine", "--pairs", "PAIRS"], ["train"], ["thumbnail"], ["report", "--quiet"],
                                 ["eval", "--model", "minilm", "--suite", "offline"]])
def test_out_below_a_regular_file(tmp_path, capsys, cmd):
    (tmp_path / "file").write_text("x")
    pairs = tmp_path / "p.jsonl"; pairs.write_text('{"query": "a", "positive": "b"}\n')
    cmd = [str(pairs) if a == "PAIRS" else a for a in cmd]
    rc = main([*cmd, "--profile", "tiny", "--out", str(tmp_path / "file" / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "is a file, not a run folder" in err
    assert (tmp_path / "file").read_text() == "x"


def test_out_that_cannot_be_created(tmp_path, capsys):
    rc = main(["report", "--profile", "tiny", "--out", "/proc/embedding-lab-x", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "cannot create the folder" in err


def test_failed_command_leaves_no_new_folder(tmp_path, capsys):
    out = tmp_path / "a" / "run"
    bad = tmp_path / "bad.jsonl"; bad.write_text('{"query": "q"}\n')
    assert main(["mine", "--pairs", str(bad), "--profile", "tiny", "--out", str(out)]) == 2
    assert not (tmp_path / "a").exists()
    assert main(["train", "--profile", "tiny", "--out", str(out), "-p", "train.lr=-1"]) in (1, 2)
    assert not (tmp_path / "a").exists()
    capsys.readouterr()
