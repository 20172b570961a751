"""Encoding speed: embedding_lab.model.load_embedder(path).encode vs SentenceTransformer(path).encode.

Both load the same exported student (the untrained builtin base exported in sentence-transformers format unless
--path is given), encode the same texts with the same batch size on CPU fp32, and must give the same vectors.
Usage: python benchmarks/bench_encode.py [--path DIR] [--n 64] [--batch 16] [--max-length 64] [--threads 2]
"""
import argparse, tempfile, time
from pathlib import Path
import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", default=None, help="an exported student folder (default: export the builtin base)")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from sentence_transformers import SentenceTransformer
    from embedding_lab.core import Config
    from embedding_lab.data import news_pairs
    from embedding_lab.model import load_embedder, export_student
    path = a.path
    if path is None:
        base = load_embedder("builtin:smollm2-135m", max_length=a.max_length)
        path = export_student(base.model, base.tokenizer, Path(tempfile.mkdtemp()) / "student", max_length=a.max_length)
        del base
    texts = news_pairs(max_pairs=a.n, positive_chars=400).positive.tolist()[: a.n]
    ours = load_embedder(path, max_length=a.max_length)
    st = SentenceTransformer(str(path), device="cpu")
    st.max_seq_length = a.max_length
    ours.encode(texts[:4]); st.encode(texts[:4], batch_size=4)          # warm up (page in weights)
    def timed(fn):
        best = float("inf")
        for _ in range(a.repeats):
            t = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t)
        return best, out
    t_ours, v_ours = timed(lambda: ours.encode(texts, batch_size=a.batch))
    t_st, v_st = timed(lambda: st.encode(texts, batch_size=a.batch, convert_to_numpy=True))
    diff = float(np.abs(v_ours - v_st).max())
    print(f"texts={len(texts)} batch={a.batch} max_length={a.max_length} threads={a.threads}")
    print(f"load_embedder.encode:        {t_ours:.2f} s ({len(texts) / t_ours:.1f} texts/s)")
    print(f"SentenceTransformer.encode:  {t_st:.2f} s ({len(texts) / t_st:.1f} texts/s)")
    print(f"max |difference| = {diff:.2e}")
    print(f"encode_speed: {t_st / t_ours:.2f}x (load_embedder.encode vs SentenceTransformer.encode, same model/texts/batch)")


if __name__ == "__main__":
    main()
