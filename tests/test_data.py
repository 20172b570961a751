"The training-pair contract: every kind of bad row, the three formats, splits and formatting."
import json
import pandas as pd
import pytest
from embedding_lab.core import Config
from embedding_lab.data import (DataError, cli_data, format_query, load_pairs, prepare_data, sample_examples,
                                split_pairs, assign_splits)


def _write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


BAD_ROWS = [
    ('{"query": "q", "positive": ', "invalid JSON"),
    ({"positive": "p"}, "missing 'query'"),
    ({"query": "q"}, "missing 'positive'"),
    ({"query": "", "positive": "p"}, "empty 'query'"),
    ({"query": "q", "positive": "   "}, "empty 'positive'"),
    ({"query": 5, "positive": "p"}, "'query' must be a string, got int"),
    ({"query": "q", "positive": ["p"]}, "'positive' must be a string, got list"),
    ('{"query": "q", "positive": NaN}', "missing 'positive'"),
    ('{"query": "q", "positive": "p", "instruction": NaN}', "'instruction' is NaN"),
    ({"query": "q", "positive": "p", "negatives": "n"}, "'negatives' must be a list"),
    ({"query": "q", "positive": "p", "negatives": ["n", None]}, "'negatives[1]' must be a string"),
    ({"query": "q", "positive": "p", "id": "dup"}, "duplicate id 'dup'"),
    ('[1, 2]', "expected an object"),
]


@pytest.mark.parametrize("row, reason", BAD_ROWS)
def test_each_bad_row_is_reported_with_file_and_line(tmp_path, row, reason):
    f = _write_jsonl(tmp_path / "p.jsonl", [{"query": "ok", "positive": "fine", "id": "dup"}, row])
    with pytest.raises(DataError) as e:
        load_pairs(f)
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith(f"{f}:2: ") and reason in e.value.problems[0]
    df, bad = load_pairs(f, skip_invalid=True)
    assert len(df) == 1 and len(bad) == 1


def test_csv_and_parquet_have_the_same_contract(tmp_path):
    rows = [{"query": "a", "positive": "b", "negatives": ["c"], "id": "1"}, {"query": "d", "positive": "e", "id": "2"}]
    _write_jsonl(tmp_path / "p.jsonl", rows)
    pd.DataFrame({"query": ["a", "d"], "positive": ["b", "e"], "negatives": ['["c"]', ""], "id": ["1", "2"]}) \
        .to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame(rows).to_parquet(tmp_path / "p.parquet")
    frames = [load_pairs(tmp_path / f"p.{ext}")[0] for ext in ("jsonl", "csv", "parquet")]
    for f in frames[1:]:
        assert f[["query", "positive", "id"]].equals(frames[0][["query", "positive", "id"]])
        assert f.negatives.tolist() == [["c"], []]


def test_unsupported_missing_and_empty_files(tmp_path):
    (tmp_path / "p.txt").write_text("x")
    with pytest.raises(DataError, match="unsupported file type"):
        load_pairs(tmp_path / "p.txt")
    with pytest.raises(FileNotFoundError):
        load_pairs(tmp_path / "none.jsonl")
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(DataError, match="no rows"):
        load_pairs(tmp_path / "e.jsonl")


def test_cli_data_check_exit_codes(tmp_path, capsys):
    good = _write_jsonl(tmp_path / "g.jsonl", [{"query": "a", "positive": "b"}])
    bad = _write_jsonl(tmp_path / "b.jsonl", [{"query": "a", "positive": "b"}, {"query": "a"}])
    assert cli_data(["check", str(good)]) == 0
    assert cli_data(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:2: missing 'positive'" in out and "1 valid rows, 1 invalid" in out
    assert cli_data(["check", str(tmp_path / "missing.jsonl")]) == 2


def test_user_pairs_file_flows_into_splits_and_counts_invalid(tmp_path):
    rows = [{"query": f"q{i}", "positive": f"document number {i}"} for i in range(30)] + [{"query": "x"}]
    f = _write_jsonl(tmp_path / "p.jsonl", rows)
    cfg = Config.load("tiny", run_dir=tmp_path / "run", overrides=[f"data.pairs_file={f}", "data.skip_invalid=true"])
    out = prepare_data(cfg)
    assert out["metrics"]["invalid_rows"] == 1 and out["metrics"]["rows_total"] == 30
    assert sum(out["metrics"][f"rows_{s}"] for s in ("train", "dev", "test")) == 30
    cfg2 = Config.load("tiny", run_dir=tmp_path / "run2", overrides=[f"data.pairs_file={f}"])
    with pytest.raises(DataError, match="p.jsonl:31: missing 'positive'"):
        prepare_data(cfg2)


def test_splits_are_deterministic_and_leak_free():
    df = pd.DataFrame({"query": [f"q{i}" for i in range(300)], "positive": [f"Doc {i % 150}" for i in range(300)]})
    a, b = split_pairs(df, seed=3), split_pairs(df, seed=3)
    for s in a: assert a[s].equals(b[s])
    docs = {s: set(a[s].positive.str.lower()) for s in a}
    assert not (docs["train"] & docs["test"]) and not (docs["train"] & docs["dev"]) and not (docs["dev"] & docs["test"])
    assert (assign_splits([str(i) for i in range(100)], seed=1) != assign_splits([str(i) for i in range(100)], seed=2)).any()


def test_few_shot_examples_never_include_the_query():
    pool = pd.DataFrame({"query": [f"q{i}" for i in range(10)], "positive": [f"p{i}" for i in range(10)],
                         "task": "t", "id": [str(i) for i in range(10)]})
    for i in range(10):
        row = pool.iloc[i].to_dict()
        for seed in range(5):
            ex = sample_examples(pool, row, k_max=5, seed=seed)
            assert row["query"] not in [q for q, _ in ex] and len(ex) <= 5
    other = {"query": "z", "task": "other", "id": "z"}
    assert sample_examples(pool, other, k_max=5, seed=0) == []
    q = format_query("z", "Find", [("a", "b")])
    assert q.endswith("Instruct: Find\nQuery: z") and q.startswith("Instruct: Find\nQuery: a\nResponse: b")
