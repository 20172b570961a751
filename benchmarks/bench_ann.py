"""ANN vs exact search in faiss: recall@k and time as the corpus grows (10k, 100k; 1M rows at 384 and 4096 dims with --full).

Quick run (default): vectors are random but clustered (a Gaussian mixture of 1,000 centres in 384-d, L2-normalised),
like sentence embeddings; uniformly random vectors are a worst case no ANN index handles well. Indexes as built by
embedding_lab.mining.build_index: exact IndexFlatIP, IVF (nlist from ivf_nlist, nprobe), HNSW (M, efSearch).

--full: 1,000,000 rows at 384 dims (the bi-encoder's) and at 4096 dims (a 7B student's), k = the mining top_k (30).
The vectors never exist all at once: they are generated block by block from a seed (a clustered low-rank signal
plus isotropic noise, normalised: most of the variance in ~100 directions, like real embeddings), and each block
is (1) searched exactly for the query set (faiss.knn, merged: the exact ground truth, and the exact search time)
and (2) added to the IVF index. At 384 dims the index is the miner's IndexIVFFlat (1.5 GB); at 4096 dims an
IVF with 8-bit scalar-quantised codes (4 GB instead of 16) whose coarse quantizer works in a PCA projection
(--coarse-pca dims; k-means and list assignment of 1M x 4096 in full dimension take too long on 2 cores).
The miner's tuner (embedding_lab.mining.tune_search) picks nprobe on half of the queries until recall@k >= the
target; recall is then reported on the other, held-out half, and exact / ANN time on all queries.
A recall-vs-time figure and a JSON of every number go to --out (default benchmarks/out/).

--vectors FILE.npy (+ --query-vectors FILE.npy) runs the --full procedure on your own vectors (memory-mapped).

usage: python benchmarks/bench_ann.py [--sizes 10000 100000] [--queries 1000] [--k 10] [--nprobe 16] [--threads 2]
       python benchmarks/bench_ann.py --full [--full-rows 1000000] [--dims 384 4096] [--full-queries 500 200]
                                     [--target 0.98] [--max-nprobe N] [--out benchmarks/out]
       python benchmarks/bench_ann.py --vectors corpus.npy [--query-vectors queries.npy] [--dim 384]
Last line: `bench_ann: RATIOx (...)`; with --full one such line per dimension, the last for the largest.
"""
import argparse, json, math, os, resource, sys, time
from pathlib import Path

import numpy as np


class BenchError(Exception):
    "Input the benchmark cannot use; the message says which."


def vectors(n, d, rng, centres):
    c = centres[rng.integers(len(centres), size=n)]
    x = (c + 0.35 * rng.normal(size=(n, d)).astype(np.float32)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class Synthetic:
    """Seeded embedding-like vectors, generated block by block (row i is the same whatever the chunking):
    z = sqrt(s) cluster centre + sqrt(1 - s) spread (rank 96, 1,000 clusters, s = --cluster-share of the variance), signal = z B (B: orthonormal rows with a 1/sqrt(i)
    spectrum), x = normalise(sqrt(.75) signal/|signal| + sqrt(.25) isotropic noise)."""
    block = 10_000

    def __init__(self, n: int, d: int, seed: int = 0, rank: int = 96, clusters: int = 1000, cluster_share: float = 0.64):
        self.n, self.d, self.seed = n, d, seed
        self.a, self.b = math.sqrt(cluster_share), math.sqrt(1 - cluster_share)
        rank = min(rank, d)
        rng = np.random.default_rng([seed, d])
        spec = (1 + np.arange(rank)) ** -0.5
        q, _ = np.linalg.qr(rng.standard_normal((d, rank)))
        self.B = (q.T * (spec / np.sqrt((spec ** 2).sum()))[:, None]).astype(np.float32)
        self.centres = rng.standard_normal((clusters, rank)).astype(np.float32)

    def _make(self, rng, m):
        z = self.a * self.centres[rng.integers(len(self.centres), size=m)] + \
            self.b * rng.standard_normal((m, self.B.shape[0]), dtype=np.float32)
        s = z @ self.B
        s /= np.linalg.norm(s, axis=1, keepdims=True)
        x = math.sqrt(0.75) * s + math.sqrt(0.25 / self.d) * rng.standard_normal((m, self.d), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def rows(self, start: int, m: int) -> np.ndarray:
        out = []
        for b in range(start // self.block, (start + m - 1) // self.block + 1):
            x = self._make(np.random.default_rng([self.seed, self.d, 1, b]), self.block)
            lo, hi = max(start, b * self.block) - b * self.block, min(start + m, (b + 1) * self.block) - b * self.block
            out.append(x[lo:hi])
        return np.concatenate(out)

    def queries(self, m: int) -> np.ndarray:
        return self._make(np.random.default_rng([self.seed, self.d, 2]), m)


class NpyVectors:
    "Rows of a .npy file (memory-mapped), checked chunk by chunk: NaN / inf rows and a wrong dimension are errors."

    def __init__(self, path: str, dim: int | None = None, what: str = "vectors"):
        self.path, self.what = Path(path), what
        if not self.path.exists(): raise BenchError(f"{what} file not found: {path}")
        try: self.x = np.load(self.path, mmap_mode="r")
        except ValueError as e: raise BenchError(f"{path}: not a .npy array ({e})") from None
        if self.x.ndim != 2: raise BenchError(f"{path}: {what} must be a 2-d array (rows x dims), got shape {self.x.shape}")
        self.n, self.d = self.x.shape
        if dim is not None and self.d != dim:
            raise BenchError(f"{path}: {what} have {self.d} dims, expected {dim} (--dim)")
        if self.n == 0: raise BenchError(f"{path}: no {what}")

    def rows(self, start: int, m: int) -> np.ndarray:
        x = np.ascontiguousarray(self.x[start:start + m], dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(x).all(1))
        if len(bad): raise BenchError(f"{self.path}: {self.what} rows {(bad[:10] + start).tolist()} have NaN or inf values "
                                      f"({len(bad)} in rows {start}-{start + len(x) - 1})")
        return x


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def quick(a):
    import faiss
    from embedding_lab.mining import build_index, search
    faiss.omp_set_num_threads(a.threads)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(1000, a.dim)).astype(np.float32) / np.sqrt(a.dim) * 3
    q = vectors(a.queries, a.dim, rng, centres)
    print(f"{'rows':>9} {'index':>6} {'build s':>8} {'search s':>9} {'recall@%d' % a.k:>9} {'speed-up':>8}")
    last = None
    for n in a.sizes:
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


def pca_transform(x: np.ndarray, dims: int, seed: int = 0, power: int = 2):
    "A faiss LinearTransform onto the top `dims` principal directions of `x` (randomised SVD: a full eigendecomposition "
    "of a 4096 x 4096 covariance takes minutes on one core)."
    import faiss
    mean = x.mean(0)
    xc = x - mean
    y = xc @ np.random.default_rng(seed).standard_normal((x.shape[1], dims + 32), dtype=np.float32)
    for _ in range(power): y = xc @ (xc.T @ np.linalg.qr(y)[0])
    qm = np.linalg.qr(y)[0]
    _, _, vt = np.linalg.svd(qm.T @ xc, full_matrices=False)
    A = np.ascontiguousarray(vt[:dims], dtype=np.float32)
    lt = faiss.LinearTransform(x.shape[1], dims, True)
    faiss.copy_array_to_vector(A.ravel(), lt.A)
    faiss.copy_array_to_vector((-A @ mean).astype(np.float32), lt.b)
    lt.is_trained = True
    return lt


def build_streamed(src, q, k, nlist, coarse_pca, chunk, per_list, seed, log):
    """One pass over `src`: exact top-k of `q` (merged block by block, timed) and the IVF index (trained on the first
    nlist * per_list rows). Returns index, truth ids, and the times."""
    import faiss
    from embedding_lab.mining import ivf_train_sample
    n, d = src.n, src.d
    t = {"generate_s": 0.0, "exact_s": 0.0, "train_s": 0.0, "add_s": 0.0}
    t0 = time.perf_counter()
    ntrain = min(n, nlist * per_list)
    sample = src.rows(0, ntrain)
    t["generate_s"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    if coarse_pca and coarse_pca < d:          # k-means and list assignment in a PCA projection, codes in full d
        pca = pca_transform(sample[:min(len(sample), 10_000)], coarse_pca, seed, power=1)
        km = faiss.Kmeans(coarse_pca, nlist, niter=10, seed=seed, spherical=False)
        km.train(pca.apply(sample))
        inner = faiss.IndexFlatL2(coarse_pca); inner.add(km.centroids)
        quantizer = faiss.IndexPreTransform(pca, inner)
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.by_residual = False
        index.train(sample[:min(len(sample), 50_000)])       # the 8-bit ranges (the quantizer is trained already)
    elif d > 1024:                             # compressed codes, full-dimension coarse quantizer
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(d), d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        index.by_residual = False
        index.train(ivf_train_sample(sample, nlist, seed, per_list))
    else:                                      # the miner's IndexIVFFlat
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(ivf_train_sample(sample, nlist, seed, per_list))
    t["train_s"] = time.perf_counter() - t0
    del sample
    D = np.full((len(q), k), -np.inf, np.float32); I = np.full((len(q), k), -1, np.int64)
    last = time.perf_counter()
    for s in range(0, n, chunk):
        t0 = time.perf_counter(); x = src.rows(s, min(chunk, n - s)); t["generate_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        dd, ii = faiss.knn(q, x, k, faiss.METRIC_INNER_PRODUCT)
        DD, II = np.c_[D, dd], np.c_[I, ii + s]
        o = np.argsort(-DD, axis=1, kind="stable")[:, :k]
        D, I = np.take_along_axis(DD, o, 1), np.take_along_axis(II, o, 1)
        t["exact_s"] += time.perf_counter() - t0
        t0 = time.perf_counter(); index.add(x); t["add_s"] += time.perf_counter() - t0
        del x
        if time.perf_counter() - last > 60 or s + chunk >= n:
            last = time.perf_counter()
            log(f"  {min(s + chunk, n):,}/{n:,} rows  generate {t['generate_s']:.0f}s exact {t['exact_s']:.0f}s "
                f"add {t['add_s']:.0f}s  peak RSS {rss_gib():.2f} GiB")
    return index, I, t


def full_one(src, q, a, log):
    import faiss
    from embedding_lab.mining import ivf_nlist, tune_search, search, recall_at_k, set_search_param, AnnRecallError
    n, d = src.n, src.d
    k = min(a.k_full, n)
    nlist = a.nlist or ivf_nlist(n)
    coarse = a.coarse_pca if d > 1024 else 0
    log(f"{n:,} rows x {d} dims, {len(q)} queries, k={k}, nlist={nlist}, "
        f"{'IVF-SQ8, coarse quantizer on PCA-%d' % coarse if coarse else 'IVF-SQ8' if d > 1024 else 'IVF-Flat'}")
    index, truth, t = build_streamed(src, q, k, nlist, coarse, a.chunk, a.per_list, a.seed, log)
    half = len(q) // 2
    qt, qe = q[:half], q[half:]
    t0 = time.perf_counter()
    try: r = tune_search(index, qt, truth[:half], a.target, max_value=a.max_nprobe)
    except AnnRecallError as e: raise BenchError(f"{n:,} x {d}: {e}") from None
    t_tune = time.perf_counter() - t0
    log(f"  tuned on {half} queries in {t_tune:.1f}s: nprobe={r['value']} recall@{k} {r['recall']:.4f} "
        f"(tries {[v for v, _, _ in r['curve']]})")
    t0 = time.perf_counter(); got = search(index, q, k)[1]; ts = time.perf_counter() - t0
    rec_held, rec_all = recall_at_k(got[half:], truth[half:]), recall_at_k(got, truth)
    # the curve for the figure: every nprobe from 1 to twice the chosen value, all queries
    curve = []
    v = 1
    while v <= max(2 * r["value"], 2):
        set_search_param(index, v)
        t0 = time.perf_counter(); g = search(index, q, k)[1]; curve.append((v, recall_at_k(g, truth), time.perf_counter() - t0))
        v *= 2
    set_search_param(index, r["value"])
    res = {"rows": n, "dim": d, "queries": len(q), "k": k,
           "data": f"generated, cluster share {a.cluster_share}" if isinstance(src, Synthetic) else str(src.path), "index": "IVF-SQ8" if d > 1024 else "IVF-Flat",
           "coarse_pca": coarse or None, "nlist": nlist, "nprobe": r["value"], "target": a.target,
           "recall_tune": r["recall"], "tune_queries": half, "recall_heldout": rec_held, "recall_all": rec_all,
           "exact_s": t["exact_s"], "ann_s": ts, "ratio": t["exact_s"] / ts, "build_s": t["train_s"] + t["add_s"],
           "train_s": t["train_s"], "add_s": t["add_s"], "generate_s": t["generate_s"], "tune_s": t_tune,
           "index_gib": index.sa_code_size() * n / 2 ** 30 if hasattr(index, "sa_code_size") else None,
           "tune_curve": r["curve"], "curve": curve, "peak_rss_gib": rss_gib()}
    del index
    return res


def figure(results, path):
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 5))
    for r, c in zip(results, ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")):
        name = f"{r['rows']:,} x {r['dim']}" + (f" (share {r['data'].rsplit(' ', 1)[1]})" if r.get("data", "").startswith("gen") else "")
        ms = [1000 * s / r["queries"] for _, _, s in r["curve"]]
        ax.plot(ms, [x for _, x, _ in r["curve"]], "o-", color=c, label=f"{name} IVF (nprobe 1, 2, 4, ...)")
        for (v, x, s), m in zip(r["curve"], ms): ax.annotate(str(v), (m, x), fontsize=7, xytext=(3, -9), textcoords="offset points")
        ax.axvline(1000 * r["exact_s"] / r["queries"], color=c, ls="--", lw=1, label=f"{name} exact")
        ax.plot([1000 * r["ann_s"] / r["queries"]], [r["recall_all"]], "*", ms=14, color=c,
                label=f"{name} chosen: nprobe {r['nprobe']}, {r['ratio']:.0f}x")
    ax.axhline(results[0]["target"], color="grey", lw=0.8, ls=":")
    ax.set_xscale("log"); ax.set_xlabel("search time per query (ms, 2 threads)"); ax.set_ylabel(f"recall@{results[0]['k']}")
    ax.set_title("faiss IVF (nprobe tuned to the target) vs exact search"); ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout(); fig.savefig(path, dpi=120); plt.close(fig)


def full(a):
    import faiss
    faiss.omp_set_num_threads(a.threads)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    log = lambda s: print(s, flush=True)
    if a.vectors:
        src = NpyVectors(a.vectors, a.dim)
        if a.query_vectors: q = NpyVectors(a.query_vectors, src.d, "query vectors").rows(0, a.full_queries[0])
        else: q = np.concatenate([src.rows(int(i), 1) for i in np.sort(np.random.default_rng(a.seed).choice(
                  src.n, min(src.n, a.full_queries[0]), replace=False))])
        jobs = [(src, q)]
    else:
        jobs = []
        for i, d in enumerate(a.dims):
            src = Synthetic(a.full_rows, d, a.seed, cluster_share=a.cluster_share)
            jobs.append((src, src.queries(a.full_queries[min(i, len(a.full_queries) - 1)])))
    results = []
    for src, q in jobs:
        results.append(full_one(src, q, a, log))
        json.dump(results, open(out / "ann_full.json", "w"), indent=1)
    print(f"\n{'rows':>9} {'dims':>5} {'index':>8} {'nlist':>6} {'nprobe':>6} {'build s':>8} {'exact s':>8} {'ANN s':>7} "
          f"{'ratio':>6} {'recall@%d' % results[0]['k']:>10} {'held-out':>8} {'queries':>7}")
    for r in results:
        print(f"{r['rows']:>9} {r['dim']:>5} {r['index']:>8} {r['nlist']:>6} {r['nprobe']:>6} {r['build_s']:8.1f} "
              f"{r['exact_s']:8.1f} {r['ann_s']:7.2f} {r['ratio']:6.1f} {r['recall_tune']:10.4f} {r['recall_heldout']:8.4f} {r['queries']:>7}")
    figure(results, out / "ann_recall_time.png")
    print(f"wrote {out / 'ann_full.json'} and {out / 'ann_recall_time.png'}; peak RSS {rss_gib():.2f} GiB")
    for r in results:
        print(f"bench_ann: {r['ratio']:.1f}x (exact search time / IVF nprobe={r['nprobe']} chosen for recall@{r['k']} >= "
              f"{r['target']} at {r['rows']:,} rows x {r['dim']} dims, {r['queries']} queries, held-out recall@{r['k']} "
              f"{r['recall_heldout']:.3f})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--full", action="store_true", help="1M rows at 384 and 4096 dims, nprobe tuned to --target")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--dim", type=int, default=None, help="quick run: vector dims (384); --vectors: the dims expected")
    ap.add_argument("--nprobe", type=int, default=16)
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--ef-search", type=int, default=128)
    ap.add_argument("--hnsw-max", type=int, default=50_000, help="skip HNSW above this size (slow to build on CPU)")
    ap.add_argument("--threads", type=int, default=2)
    g = ap.add_argument_group("--full / --vectors")
    g.add_argument("--full-rows", type=int, default=1_000_000)
    g.add_argument("--dims", type=int, nargs="+", default=[384, 4096])
    g.add_argument("--full-queries", type=int, nargs="+", default=[500, 200], help="queries per dim (half tune, half held out)")
    g.add_argument("--k-full", type=int, default=30, help="k: the mining top_k")
    g.add_argument("--target", type=float, default=0.98, help="recall@k the tuner must reach")
    g.add_argument("--max-nprobe", type=int, default=None, help="most lists probed (default a quarter of them)")
    g.add_argument("--nlist", type=int, default=None, help="IVF lists (default embedding_lab.mining.ivf_nlist)")
    g.add_argument("--coarse-pca", type=int, default=128, help="above 1024 dims: coarse quantizer dims (0 = full)")
    g.add_argument("--per-list", type=int, default=64, help="k-means training rows per list")
    g.add_argument("--chunk", type=int, default=50_000, help="rows generated / read at a time")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--cluster-share", type=float, default=0.64, help="generated vectors: share of the low-rank signal's "
                   "variance that comes from the cluster centre (less: harder for IVF)")
    g.add_argument("--plot", nargs="+", default=None, metavar="JSON", help="only redraw the figure from ann_full.json files")
    g.add_argument("--vectors", default=None, help="a .npy corpus (rows x dims) instead of generated vectors")
    g.add_argument("--query-vectors", default=None, help="a .npy of queries for --vectors (default: a sample of its rows)")
    g.add_argument("--out", default=str(Path(__file__).parent / "out"))
    a = ap.parse_args(argv)
    try:
        if a.plot:
            res = [r for f in a.plot for r in json.load(open(f))]
            Path(a.out).mkdir(parents=True, exist_ok=True); figure(res, Path(a.out) / "ann_recall_time.png")
            print(f"wrote {Path(a.out) / 'ann_recall_time.png'}")
        elif a.full or a.vectors: full(a)
        else:
            a.dim = a.dim or 384
            quick(a)
    except BenchError as e:
        print(f"bench_ann: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
