"Bad inputs where they enter: one line naming the file, the line or key and the problem, a non-zero exit, never a traceback."
import json, random, struct
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from embedding_lab.data import DataError, load_pairs
from embedding_lab import thumbnail as th
from embedding_lab.suite import ResultsError
from embedding_lab.mteb_eval import read_checked_results
from embedding_lab.cli import main


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


# --- 5: silent wrong values -------------------------------------------------------------------------------

def test_csv_lines_are_the_files_lines_and_missing_markers_are_bad_rows(tmp_path, capsys):
    f = tmp_path / "p.csv"
    f.write_text('query,positive\nq1,\nq2,"two\nlines"\nq3,NaN\nq4,nan\nq5,None\nq6,N/A\nq7,fine\n')
    assert main(["data", "check", str(f)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{f}:2: missing 'positive'"
    assert [l.split(":", 2)[1] for l in out[1:5]] == ["5", "6", "7", "8"]
    assert all("a missing-value marker, not text" in l for l in out[1:5])
    assert out[-1] == "2 valid rows, 5 invalid"


def test_thumbnail_labels_are_never_rounded(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("title,image,label\na,a.png,1\nb,b.png,1.7\nc,c.png,inf\nd,d.png,0.0\ne,e.png,NaN\nf,f.png,\n")
    items, bad = th.read_items(f)
    assert items.title.tolist() == ["a", "d", "f"] and items.label.tolist()[:2] == [1.0, 0.0] and np.isnan(items.label.iloc[2])
    assert bad == [f"{f}:3: label must be 0 or 1, got '1.7'", f"{f}:4: label must be 0 or 1, got 'inf'",
                   f"{f}:6: label must be 0 or 1, got 'NaN'"]


@pytest.mark.parametrize("score, needle", [(float("nan"), "main_score is nan, not a score"),
                                           (7.5, "main_score is 7.5, outside [0, 1]"),
                                           ("0.5", "main_score must be a number, got '0.5'")])
def test_leaderboard_scores_are_checked_not_dropped_or_scaled(tmp_path, capsys, score, needle):
    f = tmp_path / "STS12.json"
    f.write_text(json.dumps({"task_name": "STS12", "mteb_version": "2.0.0",
                             "scores": {"test": [{"main_score": score, "hf_subset": "default"}]}}))
    assert main(["leaderboard", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{f}: scores.test[0].{needle}" in err


# --- 6: messages, not tracebacks --------------------------------------------------------------------------

def test_thumbnail_jsonl_bad_lines_and_encoding(tmp_path, capsys):
    f = tmp_path / "t.jsonl"
    f.write_text('{"title": "a\u2028b", "image": "a.png"}\n\n{"title": "b", "image": \n[1, 2]\n'
                 '{"title": "c", "image": "c.png", "label": Infinity}\n')
    items, bad = th.read_items(f)
    assert items.row.tolist() == [1]
    assert bad == [f"{f}:3: invalid JSON: Expecting value", f"{f}:4: expected an object, got list",
                   f"{f}:5: label must be 0 or 1, got inf"]
    g = tmp_path / "l.csv"
    g.write_bytes("title,image\nCaf\u00e9,a.png\n".encode("latin-1"))
    assert main(["thumbnail", "--data", str(g), "--profile", "tiny", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{g}:2: not UTF-8 text (byte 0xe9)" in err


@pytest.mark.parametrize("content, needle", [
    ({"task_name": "STS12", "scores": [0.5]}, "'scores' must map each split to a list of results, got list"),
    ({"task_name": "STS12", "scores": {"test": [{"hf_subset": "default"}]}}, "scores.test[0] has no main_score"),
    ("folder", "is a folder, not a result file"),
    (b"\xff\xfe\x00garbage", "not a JSON file"),
    ("[" * 100_000, "not a JSON file"),
])
def test_leaderboard_bad_files_are_one_line(tmp_path, capsys, content, needle):
    f = tmp_path / "x.json"
    if content == "folder": f.mkdir()
    elif isinstance(content, bytes): f.write_bytes(content)
    else: f.write_text(content if isinstance(content, str) else json.dumps(content))
    assert main(["leaderboard", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{f}: {needle}" in err


def test_eval_refuses_a_half_written_model(tmp_path, capsys):
    from safetensors.numpy import save_file
    m = tmp_path / "student"
    m.mkdir()
    (m / "config.json").write_text("{}")
    save_file({"w": np.ones((64, 64), np.float32)}, m / "model.safetensors")
    data = (m / "model.safetensors").read_bytes()
    (m / "model.safetensors").write_bytes(data[: len(data) // 2])
    assert main(["eval", "--model", str(m), "--suite", "offline", "--profile", "tiny", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{m / 'model.safetensors'}: truncated safetensors file" in err


def test_mine_corpus_in_latin1_is_one_line(tmp_path, capsys):
    pairs = tmp_path / "p.jsonl"
    pairs.write_text("".join(json.dumps({"query": f"q{i}", "positive": f"doc {i}"}) + "\n" for i in range(5)))
    corpus = tmp_path / "c.txt"
    corpus.write_bytes("first doc\nZ\u00fcrich caf\u00e9\n".encode("latin-1"))
    assert main(["mine", "--pairs", str(pairs), "--corpus", str(corpus), "--profile", "tiny", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{corpus}:2: not UTF-8 text (byte 0xfc)" in err


@pytest.mark.parametrize("cmd", [["thumbnail"], ["mine", "--pairs", "x.jsonl"], ["eval", "--model", "minilm"]])
def test_out_naming_a_file_is_one_line_for_stage_commands(tmp_path, capsys, cmd):
    from embedding_lab.cli import main
    f = tmp_path / "afile"
    f.write_text("x")
    assert main([*cmd, "--profile", "tiny", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{f}: is a file, not a run folder" in err


# --- fuzz: random bytes and malformed rows -----------------------------------------------------------------

def _rows(rng):
    vals = [None, "", " ", "q", "N/A", 3, 2.5, float("nan"), float("inf"), True, [], ["n"], [None], {}, {"a": 1}, "x" * 50]
    keys = ["query", "positive", "negatives", "instruction", "task", "id", "extra"]
    return [{k: rng.choice(vals) for k in rng.sample(keys, rng.randint(0, len(keys)))} for _ in range(rng.randint(0, 6))]


def test_fuzz_pair_loader_fails_cleanly(tmp_path):
    rng = random.Random(14)
    for i in range(150):
        ext = rng.choice([".jsonl", ".csv", ".parquet"])
        f = tmp_path / f"f{i}{ext}"
        kind = rng.random()
        if kind < 0.4: f.write_bytes(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200))))
        elif ext == ".jsonl":
            f.write_text("\n".join(rng.choice([json.dumps(r, allow_nan=True), json.dumps(r)[:rng.randint(0, 20)], "[" * 3000])
                                   for r in _rows(rng)))
        elif ext == ".csv":
            f.write_text("query,positive,negatives\n" + "".join(
                ",".join(rng.choice(['"', 'a', '', 'NaN', '["x"]', '[1', '"a\nb"', 'x,y']) for _ in range(rng.randint(1, 4))) + "\n"
                for _ in range(rng.randint(0, 6))))
        else:
            try: pd.DataFrame({"query": [rng.choice(["q", None, 3.0])], "positive": [rng.choice(["p", None])]}).to_parquet(f)
            except Exception: f.write_bytes(b"PAR1")
        try: df, bad = load_pairs(f, skip_invalid=rng.random() < 0.5)
        except DataError as e: assert e.problems and all(str(f) in p for p in e.problems), e.problems
        else: assert all(isinstance(q, str) and q.strip() for q in df["query"]) and all(isinstance(b, str) for b in bad)


def test_fuzz_leaderboard_reader_fails_cleanly(tmp_path):
    rng = random.Random(7)
    good = {"task_name": "STS12", "mteb_version": "2.0.0", "scores": {"test": [{"main_score": 0.5, "hf_subset": "default"}]}}
    junk = [None, 1, -1, 0.5, 7.5, float("nan"), "x", [], {}, [1], {"a": 1}, True]
    for i in range(120):
        d = tmp_path / f"r{i}"
        d.mkdir()
        kind = rng.random()
        if kind < 0.35:
            (d / "a.json").write_bytes(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 120))))
        else:
            doc = json.loads(json.dumps(good))
            where = rng.choice(["top", "task_name", "scores", "split", "entry", "main_score", "hf_subset"])
            v = rng.choice(junk)
            if where == "top": doc = v
            elif where in ("task_name", "scores"): doc[where] = v
            elif where == "split": doc["scores"]["test"] = v
            elif where == "entry": doc["scores"]["test"][0] = v
            else: doc["scores"]["test"][0][where] = v
            (d / "a.json").write_text(json.dumps(doc, allow_nan=True))
        try: t = read_checked_results(d)
        except ResultsError as e: assert str(d / "a.json") in str(e)
        else:
            # scored, or skipped with its reason (another hf_subset is not the leaderboard's score)
            assert t.main_score.between(0, 100).all() and len(t) + len(t.attrs["skipped"]) == 1


def test_stale_splits_are_refused_naming_the_stage_and_setting(tmp_path, capsys):
    "A stage command in a folder whose splits were made with other data settings stops instead of reusing them."
    args = ["--model", "minilm", "--suite", "offline", "--tasks", "EmbLabLeeSTS", "--profile", "tiny",
            "--out", str(tmp_path / "run")]
    assert main(["eval", *args]) == 0                                   # builds the splits (01_data) for this config
    stamp = (tmp_path / "run" / "artifacts" / "data" / "stamp.json").read_text()
    capsys.readouterr()
    assert main(["eval", *args + ["--force", "-p", "data.max_pairs=50"]]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and "artifacts/data was made by 01_data with other settings (data.max_pairs: 200 -> 50)" in err
    assert (tmp_path / "run" / "artifacts" / "data" / "stamp.json").read_text() == stamp   # nothing rebuilt behind it


# --- catalogue: every command on the bad inputs of issue 29 -------------------------------------------------

def _catalogue(d: Path) -> list[tuple[str, list[str]]]:
    "(name, argv) of each bad or unlucky input; files under d/in, run folders under d/out-*."
    i = d / "in"; i.mkdir()
    (i / "afile").write_text("x")
    (i / "empty").mkdir()
    (i / "bom.csv").write_bytes("query,positive\nq1,p1\nq2,p2\n".encode("utf-8-sig"))
    (i / "dups.jsonl").write_text("".join(json.dumps({"query": f"q{k % 3}", "positive": f"p{k % 3}"}) + "\n" for k in range(6)))
    (i / "bad.jsonl").write_text('{"query": "q"}\nnot json\n')
    (i / "garbage.jsonl").write_bytes(bytes(range(256)))
    flag = [{"query": f"q{k}", "pos": [f"p{k}"], "neg": [f"n{k}"], "pos_scores": [0.9], "neg_scores": [0.1]} for k in range(4)]
    (i / "flag.jsonl").write_text("".join(json.dumps(r) + "\n" for r in flag))
    (i / "few.csv").write_text("title,image\na,a.png\nb,b.png\n")
    (i / "cols.csv").write_text("headline\nx\n")
    (i / "junk.json").write_text('{"task_name": "STS12", "scores": [1]}')
    out = lambda n: str(d / f"out-{n}")
    below = str(i / "afile" / "run")
    t = ["--profile", "tiny"]
    return [
        ("check bom", ["data", "check", str(i / "bom.csv")]),
        ("check dups", ["data", "check", str(i / "dups.jsonl")]),
        ("check bad", ["data", "check", str(i / "bad.jsonl")]),
        ("check garbage", ["data", "check", str(i / "garbage.jsonl")]),
        ("check folder", ["data", "check", str(i / "empty")]),
        ("check missing", ["data", "check", str(i / "none.jsonl")]),
        ("mine below file", ["mine", "--pairs", str(i / "bom.csv"), *t, "--out", below]),
        ("mine bad rows", ["mine", "--pairs", str(i / "bad.jsonl"), *t, "--out", out("m1")]),
        ("mine missing pairs", ["mine", "--pairs", str(i / "none.jsonl"), *t, "--out", out("m2")]),
        ("mine flag unwritable", ["mine", "--pairs", str(i / "flag.jsonl"), *t, "--out", out("m3"), "--force",
                                  "--flag-jsonl", str(i / "afile" / "x.jsonl")]),
        ("train below file", ["train", *t, "--out", below]),
        ("train steps 1e20", ["train", *t, "--out", out("t1"), "-p", "train.steps=1e20"]),
        ("train lr", ["train", *t, "--out", out("t2"), "-p", "train.lr=-1"]),
        ("train resume new", ["train", *t, "--out", out("t3"), "--resume"]),
        ("train method", ["train", *t, "--out", out("t4"), "--method", "mse"]),
        ("thumbnail below file", ["thumbnail", *t, "--out", below]),
        ("thumbnail missing data", ["thumbnail", "--data", str(i / "none.csv"), *t, "--out", out("h1")]),
        ("thumbnail columns", ["thumbnail", "--data", str(i / "cols.csv"), *t, "--out", out("h2")]),
        ("thumbnail folder", ["thumbnail", "--data", str(i / "empty"), *t, "--out", out("h3")]),
        ("thumbnail few items", ["thumbnail", "--data", str(i / "few.csv"), *t, "--out", out("h4")]),
        ("thumbnail resume new", ["thumbnail", *t, "--out", out("h5"), "--resume"]),
        ("report below file", ["report", *t, "--out", below, "--quiet"]),
        ("report proc", ["report", *t, "--out", "/proc/embedding-lab-fuzz", "--quiet"]),
        ("report resume new", ["report", *t, "--out", out("r1"), "--resume", "--quiet"]),
        ("report empty nbs", ["report", *t, "--out", out("r2"), "--nbs", str(i / "empty"), "--quiet"]),
        ("report unknown stage", ["report", *t, "--out", out("r3"), "--only", "42_x", "--quiet"]),
        ("report profile", ["report", "--profile", "galactic", "--out", out("r4"), "--quiet"]),
        ("eval below file", ["eval", "--model", "minilm", "--suite", "offline", *t, "--out", below]),
        ("eval missing model", ["eval", "--model", str(i / "nomodel"), "--suite", "offline", *t, "--out", out("e1")]),
        ("eval unknown task", ["eval", "--model", "x", "--tasks", "NoSuchTask", *t, "--out", out("e2")]),
        ("eval max items", ["eval", "--model", "x", "--suite", "local", "--max-items", "0", *t, "--out", out("e3")]),
        ("eval resume new", ["eval", "--model", "minilm", "--suite", "offline", *t, "--out", out("e4"), "--resume"]),
        ("leaderboard top", ["leaderboard", "--top", "-3"]),
        ("leaderboard missing", ["leaderboard", "--results", str(i / "none")]),
        ("leaderboard file", ["leaderboard", "--results", str(i / "afile")]),
        ("leaderboard junk", ["leaderboard", "--results", str(i)]),
    ]


def _files(d: Path) -> dict:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in d.rglob("*") if p.is_file()}


def test_catalogue_of_bad_inputs(tmp_path, capsys, encode_calls):
    "Exit 0/1/2/130, no traceback, nothing changed outside the named --out, the same answer twice."
    for name, argv in _catalogue(tmp_path):
        out = next((Path(argv[k + 1]) for k, a in enumerate(argv[:-1]) if a == "--out"), None)
        outside = lambda: {k: v for k, v in _files(tmp_path).items() if out is None or not k.startswith(str(out))}
        before = outside()
        answers = []
        for _ in range(2):
            rc = main(list(argv))
            cap = capsys.readouterr()
            assert rc in (0, 1, 2, 130), (name, rc, cap.err)
            assert "Traceback" not in cap.err and "Traceback" not in cap.out, (name, cap.err)
            assert outside() == before, name
            answers.append((rc, cap.out.replace(str(tmp_path), "TMP"), cap.err.replace(str(tmp_path), "TMP")))
        assert answers[0] == answers[1], (name, answers)
        if rc != 0: assert (answers[0][1] + answers[0][2]).strip(), name   # a failure says why
