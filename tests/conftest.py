import os, subprocess, sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent


import numpy as np
import pytest


def fake_encode(model, texts, batch_size=64, desc=""):
    "Deterministic bag-of-words hashing embedder (no model needed), L2-normalised."
    out = np.zeros((len(texts), 64), np.float32)
    for i, t in enumerate(texts):
        for w in str(t).lower().replace(".", " ").split(): out[i, sum(map(ord, w)) % 64] += 1
    out += 1e-3
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def encode_calls(monkeypatch):
    "Replace the teacher's encoder by `fake_encode`; the list records how many texts each call encoded."
    import embedding_lab.teacher as T
    calls = []
    def enc(model, texts, batch_size=64, desc=""):
        calls.append(len(texts)); return fake_encode(model, texts)
    monkeypatch.setattr(T, "encode_texts", enc)
    monkeypatch.setattr(T, "load_bi_encoder", lambda name="minilm", device="cpu": object())
    return calls


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    "A small untrained open_clip model saved as a local-dir folder: the thumbnail CLI and study only have to run on it."
    import json, open_clip, torch
    from embedding_lab import thumbnail as th
    from embedding_lab.core import Config
    d = tmp_path_factory.mktemp("clip")
    cfg = Config.load("tiny", run_dir=d / "run", thumbnail__clip_width=32, thumbnail__clip_layers=1)
    cdir = d / "cfg"; cdir.mkdir()
    (cdir / "el-test-clip.json").write_text(json.dumps(th.clip_config(cfg.thumbnail)))
    open_clip.add_model_config(cdir)
    torch.manual_seed(0)
    th.save_clip(open_clip.create_model("el-test-clip"), d / "model", "el-test-clip")
    return d / "model"


CLI = [sys.executable, "-c", "import sys; from embedding_lab.cli import main; sys.exit(main())"]


@pytest.fixture(scope="session")
def tiny_report(tmp_path_factory):
    "A finished report at the tiny profile, one a session: test_report and test_docs read it (and put back what they move)."
    out = tmp_path_factory.mktemp("report") / "run"
    r = subprocess.run(CLI + ["report", "--profile", "tiny", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out
