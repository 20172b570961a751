"Thumbnail study end to end on the paper's CSV format (+ an outlet-type column), images served from 127.0.0.1; the CLI guard."
import http.server, io, json, os, threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from embedding_lab import thumbnail as th
from embedding_lab.core import Config
from embedding_lab.cli import main

os.environ.setdefault("OMP_NUM_THREADS", "1")

FAKE, GENERAL = ["truthbulletin.example", "viraldispatch.example"], ["civicledger.example", "morningwire.example"]


def _image(i: int) -> bytes:
    "A distinct 32x32 picture for each i: a coloured background and a bar at a position of its own."
    rng = np.random.default_rng(i)
    a = np.zeros((32, 32, 3), np.uint8) + rng.integers(0, 255, 3, dtype=np.uint8)
    a[(i % 28):(i % 28) + 4, :] = 255 - a[0, 0]
    b = io.BytesIO(); Image.fromarray(a).save(b, format="PNG")
    return b.getvalue()


class _Images(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        body, code, ctype = (_image(int(name[:-4])), 200, "image/png") if name[:-4].isdigit() else (b"gone", 404, "text/plain")
        self.send_response(code); self.send_header("Content-Type", ctype); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)


@pytest.fixture
def image_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown(); srv.server_close()


def _paper_csv(path: Path, base: str, n: int = 64) -> pd.DataFrame:
    "The paper's columns Title,News_url,Image_url,Label + Outlet_type; fake outlets' items are labelled 1 more often."
    rng = np.random.default_rng(0); rows = []
    for i in range(n):
        fake = i % 2 == 0
        site = (FAKE if fake else GENERAL)[(i // 2) % 2]
        rows.append({"Title": f"Headline number {i} about the {['harbour', 'council', 'school', 'river'][i % 4]}",
                     "News_url": f"https://www.{site}/news/{i}", "Image_url": f"{base}/img/{i}.png",
                     "Label": int(rng.random() < (0.6 if fake else 0.1)), "Outlet_type": "fake" if fake else "general"})
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return df


def test_paper_csv_end_to_end_from_loopback(tmp_path, image_server, small_model, capsys):
    data = tmp_path / "annotations.csv"
    df = _paper_csv(data, image_server)
    bad = pd.DataFrame([  # an unknown outlet type, a label outside {0, 1}, an image that is not there
        {"Title": "Satire piece", "News_url": "https://satire.example/1", "Image_url": f"{image_server}/img/900.png", "Label": 0, "Outlet_type": "satire"},
        {"Title": "Odd label", "News_url": "https://www.civicledger.example/x", "Image_url": f"{image_server}/img/901.png", "Label": 2, "Outlet_type": "general"},
        {"Title": "Lost image", "News_url": "https://www.civicledger.example/y", "Image_url": f"{image_server}/img/missing.png", "Label": 0, "Outlet_type": "general"}])
    pd.concat([df, bad]).to_csv(data, index=False)
    out = tmp_path / "run"
    args = ["--data", str(data), "--model", str(small_model), "--out", str(out), "--profile", "tiny",
            "-p", f"thumbnail.download_dir={tmp_path / 'dl'}", "-p", "thumbnail.group_column=Outlet_type",
            "-p", "thumbnail.clf_epochs=4", "-p", "thumbnail.n_boot=50"]
    assert main(["thumbnail", *args]) == 0, capsys.readouterr()
    printed = capsys.readouterr().out
    m = json.loads((out / "metrics" / "thumbnail.json").read_text())
    assert m["rows"] == 67 and m["items"] == 64 and m["rows_skipped"] == 3
    assert (m["bad_group"], m["bad_label"], m["download_failed"]) == (1, 1, 1)
    problems = (out / "artifacts" / "thumbnail" / "problems.txt").read_text().splitlines()
    assert problems[:2] == ["annotations.csv:66: unknown Outlet_type (expected one of fake, general, got 'satire')",
                            "annotations.csv:67: label must be 0 or 1, got '2'"]
    assert problems[2].startswith("annotations.csv:68: download failed:") and "HTTP 404" in problems[2]
    # the group comparison: both groups, their outlets, Cohen's d with an interval, Mann-Whitney
    assert (m["group_fake_n"], m["group_general_n"], m["group_fake_outlets"], m["group_general_outlets"]) == (32, 32, 2, 2)
    assert m["group_d_lo"] <= m["group_cohens_d"] <= m["group_d_hi"] and 0 <= m["group_mwu_p"] <= 1
    groups = pd.read_csv(out / "artifacts" / "thumbnail" / "groups.csv")
    assert groups.group.tolist() == ["fake", "general"]
    assert groups.labelled_rate.tolist() == [df[df.Outlet_type == g].Label.mean() for g in ("fake", "general")]
    src = pd.read_csv(out / "artifacts" / "thumbnail" / "sources.csv")
    assert sorted(src.source) == sorted(FAKE + GENERAL)
    assert dict(zip(src.source, src.group)) == {**dict.fromkeys(FAKE, "fake"), **dict.fromkeys(GENERAL, "general")}
    # the classifier's protocol and its curve; precision@k of every method on one pool
    hist = pd.read_csv(out / "artifacts" / "thumbnail" / "classifier_history.csv")
    assert hist.epoch.tolist() == [1, 2, 3, 4] and hist.val_loss.notna().all()
    assert m["classifier_best_epoch"] == int(hist.val_loss.idxmin()) + 1
    scores = pd.read_parquet(out / "artifacts" / "thumbnail" / "scores.parquet")
    pool = int(((scores.split == "test") & scores.label.notna()).sum())
    assert m["precision_pool"] == pool and pool >= 10
    prec = pd.read_csv(out / "artifacts" / "thumbnail" / "precision_at_k.csv", index_col=0)
    assert prec.index.tolist() == ["clipscore", "classifier", "logreg"] and prec.columns.tolist() == ["p@10"]
    assert f"pool of {pool}" in printed and "fake vs general outlets (32 vs 32 items): Cohen's d" in printed
    for f in ("thumbnail_group_cdf", "thumbnail_classifier_curve", "thumbnail_source_cdf"):
        assert (out / "artifacts" / "figures" / f"{f}.png").exists()

    # issue 14: a finished study is not overwritten without --resume or --force
    assert main(["thumbnail", *args]) == 2
    err = capsys.readouterr().err
    assert "thumbnail already ran here" in err and "--resume" in err and "--force" in err
    assert json.loads((out / "metrics" / "thumbnail.json").read_text()) == m   # untouched
    assert main(["thumbnail", *args + ["--resume", "-p", "thumbnail.n_boot=51"]]) == 2
    assert "changes thumbnail.n_boot" in capsys.readouterr().err
    assert main(["thumbnail", *args + ["--resume"]]) == 0
    assert json.loads((out / "metrics" / "thumbnail.json").read_text()) == m   # same config, same numbers
    assert main(["thumbnail", *args[:-2] + ["-p", "thumbnail.n_boot=20", "--force"]]) == 0
    m2 = json.loads((out / "metrics" / "thumbnail.json").read_text())
    assert m2["group_cohens_d"] == m["group_cohens_d"] and m2["group_d_lo"] != m["group_d_lo"]   # redone with 20 resamples
    assert json.loads((out / "config.json").read_text())["thumbnail"]["n_boot"] == 20


def test_group_too_small_is_reported_and_bad_groups_config(tmp_path, small_model, capsys):
    (tmp_path / "img").mkdir()
    rows = []
    for i in range(40):
        (tmp_path / "img" / f"{i}.png").write_bytes(_image(i))
        rows.append({"title": f"Story {i}", "image": f"img/{i}.png", "source": f"s{i % 3}", "label": int(i % 4 == 0),
                     "outlet_type": "general" if i == 0 else "fake"})
    pd.DataFrame(rows).to_csv(tmp_path / "items.csv", index=False)
    cfg = Config.load("tiny", run_dir=tmp_path / "run", thumbnail__model=str(small_model), thumbnail__clf_epochs=2, thumbnail__n_boot=10)
    st = th.run_study(cfg, tmp_path / "items.csv")
    assert st.groups is None and st.metrics["group_comparison_skipped"] == 1 and st.metrics["rows_skipped"] == 0
    assert st.problems == ["group comparison skipped: cannot compare the groups: 'general' has 1 item(s); each group needs at least 2"]
    assert "group_cohens_d" not in st.metrics and len(st.sources) == 3
    assert "thumbnail_group_cdf" not in th.plot_study(cfg, st)
    rc = main(["thumbnail", "--data", str(tmp_path / "items.csv"), "--model", str(small_model), "--out", str(tmp_path / "r2"),
                           "--profile", "tiny", "-p", "thumbnail.groups=[fake]"])
    assert rc == 2 and "thumbnail.groups must name two different groups" in capsys.readouterr().err
