"The training-pair contract: every kind of bad row, the three formats, splits and formatting."
import json
import numpy as np
import pandas as pd
import pytest
from embedding_lab.core import Config
from embedding_lab.data import (DataError, format_query, load_pairs, prepare_data, sample_examples,
                                split_pairs, assign_splits)
from embedding_lab.cli import main


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
    assert main(["data", "check", str(good)]) == 0
    assert main(["data", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:2: missing 'positive'" in out and "1 valid rows, 1 invalid" in out
    assert main(["data", "check", str(tmp_path / "missing.jsonl")]) == 2


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


def _multitask_rows():
    labels = {"pos": "a happy message", "neg": "an angry message", "neu": "a plain statement"}
    faq = [{"query": f"how do I reset device {i}", "positive": f"Hold the button of device {i} for ten seconds.",
            "task": "faq", "instruction": "Given a question, retrieve the answer"} for i in range(30)]
    topic = [{"query": f"message number {i} {'great' if i % 3 == 0 else 'awful' if i % 3 == 1 else 'ok'}",
              "positive": labels[k], "negatives": [v for kk, v in labels.items() if kk != k], "task": "mood",
              "kind": "classification", "instruction": "Classify the mood of a message"}
             for i, k in zip(range(30), ["pos", "neg", "neu"] * 10)]
    para = [{"query": f"the council approved plan {i}", "positive": f"plan {i} was approved by the council",
             "task": "para", "kind": "symmetric", "instruction": "Retrieve sentences with the same meaning"}
            for i in range(30)]
    return faq + topic + para


def test_a_users_multitask_file_trains_task_by_task(tmp_path):
    from embedding_lab.mining import run_mining, load_mined
    from embedding_lab import train as T
    f = _write_jsonl(tmp_path / "mt.jsonl", _multitask_rows())
    cfg = Config.load("tiny", run_dir=tmp_path / "run", overrides=[f"data.pairs_file={f}", "train.steps=3",
                                                                   "train.batch_size=4", "train.few_shot_max=0"])
    sp = prepare_data(cfg)["splits"]
    tr = sp["train"]
    assert set(tr.task) == {"faq", "mood", "para"}
    assert set(tr[tr.task == "mood"].positive) == {"a happy message", "an angry message", "a plain statement"}  # split by query
    run_mining(cfg)
    mined = load_mined(cfg)
    mood = mined[mined.task == "mood"]
    assert (mood.kind == "classification").all() and all(len(n) == 2 for n in mood.negatives)   # the other labels, not mined
    assert all(s == [1.0, 0.0, 0.0] for s in mood.teacher_scores)
    assert (mined[mined.task == "para"].kind == "symmetric").all()
    # every micro-batch comes from one task
    groups = mined.task.to_numpy()
    for micro in range(12):
        assert len(set(groups[T.micro_batch_rows(len(mined), micro, 4, 0, groups=groups)])) == 1
    emb, log = T.train_student(cfg, "distill", frame=mined, show_progress=False)
    assert len(log) == 3 and all(r["task"] in {"faq", "mood", "para"} for r in log)
    assert all(np.isfinite(r["loss"]) for r in log)


@pytest.mark.parametrize("edit, message", [
    (lambda rs: [dict(r, instruction=None) if r["task"] == "mood" else r for r in rs],
     "task 'mood': 30 row(s) with no instruction"),
    (lambda rs: [dict(r, positive="a happy message", negatives=[]) if r["task"] == "mood" else r for r in rs],
     "task 'mood': a classification task with one label ('a happy message')"),
    (lambda rs: [dict(r, kind="symmetric") if r["task"] == "faq" and r["query"].endswith("1") else r for r in rs],
     "task 'faq': mixes retrieval and symmetric rows"),
])
def test_bad_multitask_files_name_the_task(tmp_path, capsys, edit, message):
    f = _write_jsonl(tmp_path / "mt.jsonl", edit(_multitask_rows()))
    cfg = Config.load("tiny", run_dir=tmp_path / "run", overrides=[f"data.pairs_file={f}"])
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare_data(cfg)
    assert not (tmp_path / "run" / "artifacts" / "data" / "train.parquet").exists()     # nothing half-written
    assert main(["data", "check", str(f)]) == 1
    assert message in capsys.readouterr().out


def test_builtin_tasks_hold_no_suite_test_text(tmp_path):
    from embedding_lab.data import leaked_texts, suite_test_texts
    cfg = Config.load("quick", run_dir=tmp_path / "run", overrides=["data.tasks=[story, sentiment, outlet]"])
    out = prepare_data(cfg)
    tr = out["splits"]["train"]
    assert {"news", "story", "sentiment", "outlet"} <= set(tr.task)
    assert out["metrics"]["train_rows_story"] == cfg.data.task_rows
    assert leaked_texts(tr, suite_test_texts(cfg)) == []
    # the check can fail: a test headline put into training is found
    te = out["splits"]["test"]
    assert leaked_texts(pd.concat([tr, te.head(1)]), suite_test_texts(cfg)) != []


def test_other_trainers_formats_load_and_flagembedding_scores_become_soft_labels(tmp_path, capsys):
    from embedding_lab.mining import run_mining, load_mined
    rows = [{"query": f"q{i} about subject {i}", "pos": [f"passage {i} on subject {i}"],
             "neg": [f"passage {j} on subject {j}" for j in (i + 1, i + 2)],
             "pos_scores": [0.9], "neg_scores": [0.3, 0.2], "prompt": "Find the passage"} for i in range(30)]
    f = _write_jsonl(tmp_path / "fe.jsonl", rows)
    cfg = Config.load("tiny", run_dir=tmp_path / "run", overrides=[f"data.pairs_file={f}"])
    prepare_data(cfg); run_mining(cfg)
    mined = load_mined(cfg)
    assert all(s == [0.9, 0.3, 0.2] for s in mined.teacher_scores)      # the file's scores, not re-mined
    assert set(mined.instruction) == {"Find the passage"}
    # a row whose scores do not match its passages is an error naming the line
    bad = _write_jsonl(tmp_path / "bad.jsonl", rows[:2] + [dict(rows[2], neg_scores=[0.3])])
    with pytest.raises(DataError, match=r"bad.jsonl:3: 'neg_scores' has 1 scores for 2 'neg' passages"):
        load_pairs(bad)
    # unknown columns name the formats accepted
    odd = _write_jsonl(tmp_path / "odd.jsonl", [{"question": "q", "answer": "a"}])
    with pytest.raises(DataError, match="unknown column.*sentence-transformers' \\(anchor, positive"):
        load_pairs(odd)
    # `mine` writes FlagEmbedding JSONL that loads back with the same scores
    st = _write_jsonl(tmp_path / "st.jsonl", [{"anchor": f"q{i} about subject {i}",
                                               "positive": f"passage {i} on subject {i}"} for i in range(30)])
    out = tmp_path / "flag.jsonl"
    assert main(["mine", "--pairs", str(st), "--profile", "tiny", "--out", str(tmp_path / "m"), "--flag-jsonl", str(out)]) == 0
    back, _ = load_pairs(out)
    assert len(back) == 30 and all(len(s) == 1 + len(n) for s, n in zip(back.scores, back.negatives))
