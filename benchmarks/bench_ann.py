"""ANN vs exact search in faiss: recall@k and time as the corpus grows (10k, 100k; 1M with --full).

Vectors are random but clustered (a Gaussian mixture of 1,000 centres in 384-d, L2-normalised), like sentence
embeddings; uniformly random vectors are a worst case no ANN index handles well. Indexes as built by
embedding_lab.mining.build_index: exact IndexFlatIP, IVF (nlist = 4 sqrt(n), nprobe), HNSW (M, efSearch).

usage: python benchmarks/bench_ann.py [--sizes 10000 100000] [--full] [--queries 1000] [--k 10] [--nprobe 16]
                                      [--hnsw-max 50000] [--threads 2]
Last line: `bench_ann: RATIOx (...)`.
"""
import argparse, os, sys, time

def vectors(n, d, rng, centres):
    c = centres[rng.integers(len(centres), size=n)]
    x = (c + 0.35 * rng.normal(size=(n, d)).astype(np.float32)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)

def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--full", action="store_true", help="add 1,000,000 rows (~1.5 GB of vectors)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--nprobe", type=int, default=16)
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-search", type=int, default=128)
    ap.add_argument("--hnsw-max", type=int, default=50_000, help="skip HNSW above this size (slow to build on CPU)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    import faiss
    from embedding_lab.mining import build_index, search
    faiss.omp_set_num_threads(a.threads)
    sizes = a.sizes + ([1_000_000] if a.full else [])
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(1000, a.dim)).astype(np.float32) / np.sqrt(a.dim) * 3
    q = vectors(a.queries, a.dim, rng, centres)
    print(f"{'rows':>9} {'index':>6} {'build s':>8} {'search s':>9} {'recall@%d' % a.k:>9} {'speed-up':>8}")
    last = None
    for n in sizes:
        x = vectors(n, a.dim, np.random.default_rng(n), centres)
        t0 = time.perf_counter(); flat = build_index(x, "flat"); tb = time.perf_counter() - t0
        t0 = time.perf_counter(); _, truth = search(flat, q, a.k); te = time.perf_counter() - t0
        print(f"{n:>9} {'exact':>6} {tb:8.2f} {te:9.3f} {1.0:9.3f} {1.0:8.1f}")
        for kind in ("ivf", "hnsw"):
            if kind == "hnsw" and n > a.hnsw_max: continue
            t0 = time.perf_counter(); idx = build_index(x, kind, a.nprobe, a.hnsw_m, a.ef_search); tb = time.perf_counter() - t0
            t0 = time.perf_counter(); _, got = search(idx, q, a.k); ts = time.perf_counter() - t0
            rec = np.mean([len(set(g) & set(t)) / a.k for g, t in zip(got, truth)])
            print(f"{n:>9} {kind:>6} {tb:8.2f} {ts:9.3f} {rec:9.3f} {te / ts:8.1f}")
            if kind == "ivf": last = (n, te / ts, rec)
        del x, flat
    n, ratio, rec = last
    print(f"bench_ann: {ratio:.1f}x (exact IndexFlatIP search time / IVF nprobe={a.nprobe} at {n:,} rows, {a.queries} queries, "
          f"recall@{a.k} {rec:.3f})")

import numpy as np
if __name__ == "__main__":
    sys.exit(main())
