"""Scoring a data set a second time: image embeddings from the per-model cache vs embedding every image again.

Uses a small untrained open_clip model (the timing does not depend on the weights) and the offline
animal-silhouette corpus. Usage: python benchmarks/bench_clipscore.py [N_ITEMS]
Last line: `bench_clipscore: RATIOx (...)`.
"""
import json, sys, tempfile, time
from pathlib import Path

import numpy as np
import open_clip, torch

from embedding_lab.core import Config
from embedding_lab import thumbnail as th


def main(n: int = 1000):
    tmp = Path(tempfile.mkdtemp(prefix="bench-clipscore-"))
    cfg = Config.load("quick", run_dir=tmp / "run", thumbnail__study_items=n)
    (tmp / "cfg").mkdir(); (tmp / "cfg" / "el-bench-clip.json").write_text(json.dumps(th.clip_config(cfg.thumbnail)))
    open_clip.add_model_config(tmp / "cfg"); torch.manual_seed(0)
    th.save_clip(open_clip.create_model("el-bench-clip"), tmp / "model", "el-bench-clip")
    clip = th.load_clip(str(tmp / "model"))
    x, y = th.load_animal_mnist()
    th.outlet_corpus(x, y, np.arange(n) * (10000 // n), ["a", "b"], [0.1, 0.5], 0, tmp / "data")
    items, _ = th.read_items(tmp / "data" / "items.csv")
    items, _, _ = th.check_images(items, cfg)
    cache = tmp / "cache.npz"
    t0 = time.perf_counter(); cold = th.embed_images(clip, items, None); t_cold = time.perf_counter() - t0
    th.embed_images(clip, items, cache)                                     # fill the cache
    t0 = time.perf_counter(); warm = th.embed_images(clip, items, cache); t_warm = time.perf_counter() - t0
    assert all(np.allclose(cold[k], warm[k], atol=1e-5) for k in cold)
    print(f"{len(cold)} images: embed {t_cold:.3f}s, from cache {t_warm:.3f}s "
          f"(threads {torch.get_num_threads()}, model width {cfg.thumbnail.clip_width}, {cfg.thumbnail.clip_layers} layers)")
    print(f"bench_clipscore: {t_cold / t_warm:.1f}x (image embeddings from the per-model cache vs embedding again, {len(cold)} images)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
