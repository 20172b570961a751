"`embedding-lab mine` keeps the teacher scores a FlagEmbedding file gives, as the report's 03_mining does."
import json, os
import pandas as pd
import pytest
from embedding_lab.cli import main
from test_mining import PAIRS, EXTRA


def _flag_rows():
    return [{"query": q, "pos": [p], "neg": [EXTRA[i % len(EXTRA)], EXTRA[(i + 1) % len(EXTRA)]],
             "pos_scores": [0.9], "neg_scores": [0.3 + i / 100, 0.2]} for i, (q, p) in enumerate(PAIRS.values)]


def test_mine_keeps_given_scores(tmp_path, encode_calls, capsys):
    f = tmp_path / "flag.jsonl"
    rows = _flag_rows()
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["mine", "--pairs", str(f), "--out", str(tmp_path / "run"), "--profile", "tiny"]) == 0
    out = capsys.readouterr().out
    assert f"kept {len(rows)} rows as given" in out
    df = pd.read_parquet(tmp_path / "run/artifacts/mining/mined.parquet")
    assert [list(n) for n in df.negatives] == [r["neg"] for r in rows]
    for s, r in zip(df.teacher_scores, rows): assert list(s) == pytest.approx(r["pos_scores"] + r["neg_scores"])
    assert encode_calls == []                                   # nothing was embedded or mined


def test_mine_mixes_given_and_mined_rows(tmp_path, encode_calls, capsys):
    f = tmp_path / "mixed.jsonl"
    given = _flag_rows()[:2]
    plain = [{"query": q, "positive": p} for q, p in PAIRS.values[2:]]
    f.write_text("".join(json.dumps(r) + "\n" for r in given + plain))
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in EXTRA))
    assert main(["mine", "--pairs", str(f), "--corpus", str(corpus), "--out", str(tmp_path / "run"), "--profile", "tiny",
                 "-p", "mining.negatives=2"]) == 0
    assert "kept 2 rows as given" in capsys.readouterr().out
    df = pd.read_parquet(tmp_path / "run/artifacts/mining/mined.parquet")
    assert len(df) == len(PAIRS)
    by_q = df.set_index("query")
    for r in given:
        assert list(by_q.loc[r["query"], "negatives"]) == r["neg"]
        assert list(by_q.loc[r["query"], "teacher_scores"]) == pytest.approx(r["pos_scores"] + r["neg_scores"])


def test_unwritable_flag_jsonl_is_one_line(tmp_path, encode_calls, capsys):
    f = tmp_path / "flag.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in _flag_rows()))
    (tmp_path / "file").write_text("x")
    rc = main(["mine", "--pairs", str(f), "--out", str(tmp_path / "run"), "--profile", "tiny",
               "--flag-jsonl", str(tmp_path / "file" / "out.jsonl")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "--flag-jsonl" in err and "the mined set is saved in" in err


def test_mined_set_stamp_names_the_users_files(tmp_path, encode_calls, capsys):
    f = tmp_path / "flag.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in _flag_rows()))
    assert main(["mine", "--pairs", str(f), "--out", str(tmp_path / "run"), "--profile", "tiny"]) == 0
    stamp = json.loads((tmp_path / "run/artifacts/mining/stamp.json").read_text())
    assert stamp["inputs"]["pairs"]["path"] == str(f.resolve()) and stamp["inputs"]["pairs"]["sha256"]
    assert stamp["inputs"]["corpus"] is None
