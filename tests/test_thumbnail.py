"Tests of the thumbnail study (embedding_lab.thumbnail): scores, swaps, thresholds, classifier, statistics, inputs, CLI."
import http.server, io, json, math, os, threading, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from embedding_lab import thumbnail as th
from embedding_lab.core import Config
from embedding_lab.cli import main

os.environ.setdefault("OMP_NUM_THREADS", "1")


def _png(size=(8, 8), mode="RGB", value=100) -> bytes:
    b = io.BytesIO()
    Image.new(mode, size, value if mode != "RGB" else (value, value, value)).save(b, format="PNG")
    return b.getvalue()


# --- CLIPScore -------------------------------------------------------------------------------------------

def test_clip_score_hand_made():
    img = np.array([[3.0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]])
    txt = np.array([[1.0, 0, 0], [1, 0, 0], [1, 0, 0], [-5, 0, 0]])
    np.testing.assert_allclose(th.clip_score(img, txt), [2.5, 0.0, 2.5 / math.sqrt(2), 0.0], rtol=1e-6)
    np.testing.assert_allclose(th.clip_score(img, txt, w=1.0)[2], 1 / math.sqrt(2), rtol=1e-6)


# --- swaps and splits ------------------------------------------------------------------------------------

def test_swaps_never_self_and_seeded():
    for n in (2, 3, 17, 100):
        p = th.swap_partners(n, seed=5)
        assert not (p == np.arange(n)).any()
        assert sorted(p) == list(range(n))                       # each image used once
    assert (th.swap_partners(30, seed=1) == th.swap_partners(30, seed=1)).all()
    assert (th.swap_partners(30, seed=1) != th.swap_partners(30, seed=2)).any()
    topics = np.array(list("aabbbcc" * 5))
    p = th.swap_partners(len(topics), seed=0, topics=topics)
    assert not (topics[p] == topics).any()
    with pytest.raises(th.ThumbnailError): th.swap_partners(1)
    with pytest.raises(th.ThumbnailError): th.swap_partners(4, topics=np.array(["x"] * 4))


def test_make_pairs_stays_in_split_and_balanced():
    df = pd.DataFrame({"key": [f"k{i}" for i in range(30)], "topic": np.arange(30) % 3,
                       "split": ["train"] * 20 + ["test"] * 10})
    pairs = th.make_pairs(df, seed=0)
    assert len(pairs) == 60 and pairs.label.sum() == 30
    inc = pairs[pairs.label == 1]
    assert (inc.key != inc.img_key).all()
    topic = dict(zip(df.key, df.topic))
    assert (inc.key.map(topic) != inc.img_key.map(topic)).all()
    for s, g in pairs.groupby("split"):
        assert set(g.img_key) <= set(df.key[df.split == s])


# --- thresholds ------------------------------------------------------------------------------------------

def test_threshold_selection():
    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(0.2, 0.05, 200), rng.normal(0.8, 0.05, 200)]
    y = np.r_[np.ones(200), np.zeros(200)].astype(int)
    t = th.choose_threshold(s, y, "accuracy")
    assert 0.35 < t < 0.65
    assert ((s < t) == y).mean() == 1.0
    assert th.choose_threshold(s, y, "median") == pytest.approx(np.median(s))
    # imbalanced: the median cut is worse than the accuracy-optimal one
    s2, y2 = np.r_[np.linspace(0, 0.1, 10), np.linspace(0.5, 1, 90)], np.r_[np.ones(10), np.zeros(90)].astype(int)
    acc = lambda t: ((s2 < t) == y2).mean()
    assert acc(th.choose_threshold(s2, y2, "accuracy")) == 1.0 > acc(th.choose_threshold(s2, y2, "median"))
    m = th.binary_metrics(y, s < t, -s)
    assert m == {"accuracy": 1.0, "f1": 1.0, "auroc": 1.0}
    with pytest.raises(ValueError, match="unknown threshold"): th.choose_threshold(s, y, "mean")


# --- classifier ------------------------------------------------------------------------------------------

def test_classifier_shape_and_training_step():
    import torch
    m = th.pair_classifier(16)
    assert isinstance(m.bilinear, torch.nn.Bilinear)
    assert m.bilinear.weight.shape == (16, 16, 16)
    assert m(torch.randn(7, 16), torch.randn(7, 16)).shape == (7,)
    rng = np.random.default_rng(0)
    a = th.l2norm(rng.normal(size=(256, 16)))
    t = np.concatenate([a[:128], a[128:][::-1]]); y = np.r_[np.zeros(128), np.ones(128)]
    m1, h1 = th.train_classifier(a, t, y, lr=1e-3, epochs=1, batch=128, seed=1337)
    m2, h2 = th.train_classifier(a, t, y, lr=1e-3, epochs=1, batch=128, seed=1337)
    assert h1.equals(h2)                                          # seeded
    m0 = th.pair_classifier(16); torch.manual_seed(1337); m0 = th.pair_classifier(16)
    assert not torch.equal(m0.bilinear.weight, m1.bilinear.weight)  # a step changed the weights
    m3, h3 = th.train_classifier(a, t, y, lr=1e-2, epochs=40, batch=64)
    assert h3.train_loss.iloc[-1] < 0.5 * h3.train_loss.iloc[0]
    p = th.predict_proba(m3, a, t)
    assert p.shape == (256,) and ((p > 0.5) == y).mean() > 0.9
    lr = th.logreg_baseline(a, t, y)
    assert lr(a, t).shape == (256,)


# --- statistics ------------------------------------------------------------------------------------------

def test_cohens_d_known_case_and_bootstrap():
    a = np.array([1.0, 2, 3, 4, 5]); b = a + 2                      # equal variances 2.5, shift 2
    assert th.cohens_d(a, b) == pytest.approx(-2 / math.sqrt(2.5))
    assert th.cohens_d(b, a) == pytest.approx(2 / math.sqrt(2.5))
    rng = np.random.default_rng(1)
    x, z = rng.normal(0, 1, 400), rng.normal(0.5, 1, 400)
    lo, hi = th.bootstrap_ci(x, z, n_boot=300, seed=0)
    assert lo < -0.5 < hi and hi < 0                                # true d = -0.5
    assert th.bootstrap_ci(x, z, n_boot=300, seed=0) == (lo, hi)


def test_precision_at_k_and_rate_correction():
    assert th.precision_at_k([0.9, 0.1, 0.8, 0.7], [1, 1, 0, 1], ks=(1, 2, 4, 5)) == {1: 1.0, 2: 0.5, 4: 0.75}
    assert th.corrected_rate(0.3 * 0.8 + 0.7 * 0.1, 0.8, 0.1) == pytest.approx(0.3)
    assert math.isnan(th.corrected_rate(0.3, 0.5, 0.5))


# --- downloader against a loopback server ----------------------------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    hits: dict = {}
    def log_message(self, *a): pass
    def do_GET(self):
        _Handler.hits[self.path] = _Handler.hits.get(self.path, 0) + 1
        if self.path == "/ok.png": return self._send(200, _png(), "image/png")
        if self.path == "/page.html": return self._send(200, b"<html>not an image</html>", "text/html")
        if self.path == "/corrupt.jpg": return self._send(200, b"\xff\xd8\xff garbage", "image/jpeg")
        if self.path == "/flaky.png":                                  # fails once, then works
            return self._send(503, b"busy", "text/plain") if _Handler.hits[self.path] == 1 else self._send(200, _png(), "image/png")
        if self.path == "/down.png": return self._send(500, b"down", "text/plain")
        self._send(404, b"gone", "text/plain")
    def _send(self, code, body, ctype):
        self.send_response(code); self.send_header("Content-Type", ctype); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)


@pytest.fixture
def server():
    _Handler.hits = {}
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown(); srv.server_close()


def test_downloader_loopback(server, tmp_path):
    urls = [f"{server}/{p}" for p in ("ok.png", "page.html", "corrupt.jpg", "flaky.png", "missing.png", "down.png")]
    ok, bad = th.download_all(urls, tmp_path / "dl", workers=3, retries=1, timeout=5, backoff=0.01)
    assert sorted(ok) == sorted([urls[0], urls[3]])
    assert bad == {urls[1]: "not an image", urls[2]: "not an image", urls[4]: "HTTP 404", urls[5]: "HTTP 500"}
    assert _Handler.hits["/missing.png"] == 1                        # no retry after a 4xx
    assert _Handler.hits["/down.png"] == 2                           # one retry after a 5xx
    assert Image.open(ok[urls[0]]).size == (8, 8)
    ok2, _ = th.download_all([urls[0]], tmp_path / "dl", retries=0)
    assert _Handler.hits["/ok.png"] == 1 and ok2 == {urls[0]: ok[urls[0]]}   # cached: fetched once
    p, why = th.download("http://127.0.0.1:9/x.png", tmp_path / "dl", retries=0, timeout=2)   # nothing listens
    assert p is None and why.startswith("unreachable")


# --- bad inputs ------------------------------------------------------------------------------------------

def test_read_items_bad_rows_and_formats(tmp_path):
    (tmp_path / "a.csv").write_text("headline,picture\nx,y\n")
    with pytest.raises(th.ThumbnailError, match="missing column"): th.read_items(tmp_path / "a.csv")
    with pytest.raises(th.ThumbnailError, match="not found"): th.read_items(tmp_path / "nope.csv")
    rows = [{"title": "ok", "image": "a.png", "label": 1}, {"title": "  ", "image": "a.png"},
            {"title": "t", "image": ""}, {"title": "t", "image": "a.png", "label": "x"}]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items, bad = th.read_items(tmp_path / "b.jsonl")
    assert len(items) == 1 and items.label.tolist() == [1.0]
    assert [b.split(": ", 1)[1] for b in bad] == ["empty title", "no image", "label must be 0 or 1, got 'x'"]
    assert [b.split(":")[-2] for b in bad] == ["2", "3", "4"]
    pd.DataFrame({"Title": ["A headline"], "News_url": ["https://www.example.org/news/1"],
                  "Image_url": ["https://img.example.org/1.jpg"], "Label": [1]}).to_csv(tmp_path / "paper.csv", index=False)
    items, bad = th.read_items(tmp_path / "paper.csv")
    assert items.iloc[0][["title", "image", "source", "label"]].tolist() == ["A headline", "https://img.example.org/1.jpg", "example.org", 1.0]


def test_check_images_bad_files(tmp_path):
    (tmp_path / "grey.png").write_bytes(_png(mode="L")); (tmp_path / "rgb.png").write_bytes(_png())
    (tmp_path / "big.png").write_bytes(_png(size=(200, 200))); (tmp_path / "bad.jpg").write_bytes(b"nope")
    pd.DataFrame({"title": list("abcde"), "image": ["grey.png", "rgb.png", "big.png", "bad.jpg", "gone.png"]}).to_csv(tmp_path / "i.csv", index=False)
    items, _ = th.read_items(tmp_path / "i.csv")
    cfg = Config.load("tiny", run_dir=tmp_path / "run", thumbnail__max_pixels=10_000)
    ok, bad, counts = th.check_images(items, cfg, "i.csv")
    assert ok.title.tolist() == ["a", "b"]
    assert counts["greyscale_converted"] == 1
    assert (counts["image_too_large"], counts["image_unreadable"], counts["image_missing"]) == (1, 1, 1)
    assert [b.split(":")[1] for b in bad] == ["4", "5", "6"]
    im, why, grey = th.open_image(tmp_path / "grey.png")
    assert im.mode == "RGB" and grey and why is None


def test_pretrained_offline_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.time()
    with pytest.raises(th.ModelUnavailable, match="ViT-B-32:openai"): th.load_clip("ViT-B-32:openai")
    assert time.time() - t0 < 30
    with pytest.raises(th.ModelUnavailable, match="unknown open_clip model"): th.load_clip("NoSuchModel/openai")
    with pytest.raises(th.ModelUnavailable, match="not an open_clip model folder"): th.load_clip(f"local-dir:{Path(__file__).parent}")


# --- CLI on a tiny data set ------------------------------------------------------------------------------

def test_cli_tiny_data_set(tmp_path, small_model, capsys):
    x, y = th.load_animal_mnist()
    idx = np.arange(0, 10000, 125)                                   # 80 images, 8 of each class
    df = th.outlet_corpus(x, y, idx, ["A", "B"], [0.1, 0.6], 0, tmp_path / "data")
    df.loc[len(df)] = {"title": "", "image": "images/00000.png", "source": "A", "label": 0, "topic": "bear"}
    df.loc[len(df)] = {"title": "A cat", "image": "images/missing.png", "source": "B", "label": 0, "topic": "cat"}
    df.to_csv(tmp_path / "data" / "items.csv", index=False)
    out = tmp_path / "run"
    rc = main(["thumbnail", "--data", str(tmp_path / "data" / "items.csv"), "--model", str(small_model), "--out", str(out),
                           "--profile", "tiny", "-p", "thumbnail.clf_epochs=2", "-p", "thumbnail.n_boot=20"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    m = json.loads((out / "metrics" / "thumbnail.json").read_text())
    assert m["items"] == 80 and m["rows_skipped"] == 2 and m["empty_title"] == 1 and m["image_missing"] == 1
    assert "classifier_accuracy" in m and "zeroshot_median_accuracy" in m and m["sources"] == 2
    problems = (out / "artifacts" / "thumbnail" / "problems.txt").read_text().splitlines()
    assert problems == ["items.csv:82: empty title", "items.csv:83: image missing: images/missing.png"]
    src = pd.read_csv(out / "artifacts" / "thumbnail" / "sources.csv")
    assert src.true_rate.tolist() == [0.1, 0.6]
    assert (out / "artifacts" / "figures" / "thumbnail_source_cdf.png").exists()
    assert list((out / "artifacts" / "thumbnail" / "cache").glob("*.npz"))       # image embeddings cached
    assert "80 items scored, 2 rows skipped" in printed
    # bad file: a clear message and a non-zero exit code
    (tmp_path / "bad.csv").write_text("headline\nx\n")
    assert main(["thumbnail", "--data", str(tmp_path / "bad.csv"), "--model", str(small_model), "--out", str(tmp_path / "r2"),
                             "--profile", "tiny"]) == 2
    assert "missing column(s) title, image" in capsys.readouterr().err
    assert main(["thumbnail", "--out", str(tmp_path / "r3"), "--profile", "tiny", "-p", "thumbnail.no_such_key=1"]) == 2
    assert "no_such_key" in capsys.readouterr().err


def test_study_without_sources_or_labels(tmp_path, small_model):
    x, y = th.load_animal_mnist()
    df = th.outlet_corpus(x, y, np.arange(0, 10000, 200), ["A"], [0.0], 1, tmp_path / "d")
    (tmp_path / "d" / "plain.jsonl").write_text("".join(json.dumps({"title": t, "image": i}) + "\n" for t, i in zip(df.title, df.image)))
    cfg = Config.load("tiny", run_dir=tmp_path / "run", thumbnail__model=str(small_model), thumbnail__clf_epochs=1, thumbnail__n_boot=10)
    st = th.run_study(cfg, tmp_path / "d" / "plain.jsonl")
    assert st.metrics["items"] == 50 and st.metrics["rows_skipped"] == 0
    assert "rates_spearman" not in st.metrics and not any(k.startswith("clipscore_precision") for k in st.metrics)
    assert len(st.sources) == 0                                   # one (unknown) source: nothing to compare
    assert set(st.pairs.split) <= {"train", "val", "test"} and (st.pairs.clipscore >= 0).all()
    figs = th.plot_study(cfg, st)
    assert "thumbnail_source_cdf" in figs and "thumbnail_rates" not in figs
