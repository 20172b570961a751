"Duplicates are named: `data check` lists each repeated pair by its line; a BOM CSV reads its header as written."
import json
from embedding_lab.cli import main
from embedding_lab.data import duplicate_pairs, load_pairs


def test_data_check_names_duplicate_pairs(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    rows = [{"query": f"q{i}", "positive": f"p{i}"} for i in range(10)]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows + rows))
    assert main(["data", "check", str(f)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{f}:11: duplicate pair (the same query and positive as line 1)"
    assert len([l for l in out if "duplicate pair (the same" in l]) == 10
    assert out[-1] == "20 valid rows (10 duplicate pair(s)), 0 invalid"


def test_same_pair_in_another_task_is_not_a_duplicate(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"query": "a", "positive": "b", "task": "x"}) + "\n" +
                 json.dumps({"query": "a", "positive": "b", "task": "y"}) + "\n")
    assert duplicate_pairs(load_pairs(f)[0], str(f)) == []


def test_bom_csv_header_is_read(tmp_path, capsys):
    f = tmp_path / "p.csv"
    f.write_bytes("query,positive\nq1,p1\nq2,p2\n".encode("utf-8-sig"))
    assert main(["data", "check", str(f)]) == 0
    out = capsys.readouterr().out
    assert "\ufeff" not in out and out.strip().splitlines()[-1] == "2 valid rows, 0 invalid"
