"sentence-transformers' column conventions and JSON arrays load; a hub dataset id offline fails at once, named."
import json, time
from embedding_lab.cli import main
from embedding_lab.data import load_pairs


def test_sentence_transformers_columns_and_a_json_array(tmp_path):
    rows = [{"anchor": "a1", "positive": "p1", "negative": "n1"},
            {"anchor": "a2", "positive": "p2", "negative_1": "n2", "negative_2": "n3"},
            {"query": "q3", "answer": "p3"},
            {"sentence1": "s4", "sentence2": "t4", "score": 0.75},
            {"sentence1": "s5", "sentence2": "t5", "label": 1}]
    f = tmp_path / "st.json"
    f.write_text(json.dumps(rows))
    df, bad = load_pairs(f)
    assert bad == [] and df["query"].tolist() == ["a1", "a2", "q3", "s4", "s5"]
    assert df.negatives.tolist() == [["n1"], ["n2", "n3"], [], [], []]
    assert df.kind.tolist()[3:] == ["symmetric", "symmetric"]
    jl = tmp_path / "st.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    back = load_pairs(jl)[0]                                      # the same rows as JSON lines
    assert back["query"].tolist() == df["query"].tolist() and back.negatives.tolist() == df.negatives.tolist()


def test_a_dissimilar_scored_pair_is_named_not_trained(tmp_path):
    f = tmp_path / "sts.jsonl"
    f.write_text('{"sentence1": "a", "sentence2": "b", "score": 0.2}\n{"sentence1": "c", "sentence2": "d", "score": 0.9}\n')
    df, bad = load_pairs(f, skip_invalid=True)
    assert len(df) == 1 and bad == [f"{f}:1: 'score' 0.2 < 0.5: not a similar pair (only pairs scored >= 0.5 train, "
                                     "as symmetric positives; give dissimilar texts as negatives)"]


def test_a_hub_id_offline_fails_at_once_naming_it(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.time()
    assert main(["data", "check", "sentence-transformers/natural-questions"]) == 2
    err = capsys.readouterr().err
    assert time.time() - t0 < 5 and "'sentence-transformers/natural-questions' is no file here" in err and "offline" in err
