"Inputs that raised a raw traceback: each is one line on stderr and exit 2."
import json
from embedding_lab.cli import main


def test_stopword_corpus_is_one_line(tmp_path, encode_calls, capsys):
    pairs = tmp_path / "p.jsonl"
    pairs.write_text("".join(json.dumps({"query": q, "positive": p}) + "\n"
                             for q, p in [("the", "a"), ("of", "the and"), ("is", "an")]))
    corpus = tmp_path / "c.txt"; corpus.write_text("the\nand\nof a\n")
    rc = main(["mine", "--pairs", str(pairs), "--corpus", str(corpus), "--profile", "tiny", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "BM25 has nothing to index" in err
    assert [l for l in err.splitlines() if l.startswith("embedding-lab")] == [err.strip().splitlines()[-1]]
