"""Hard-negative mining: embedding_lab.mining.mine vs sentence_transformers.util.mine_hard_negatives.

Same model (offline all-MiniLM-L6-v2), same corpus (the pairs' positives), same top-k, same margins
(relative 0.05, NV-Retriever's TopK-PercPos 95%), 7 hardest survivors. Reports wall time of each (cold: every
text encoded; ours warm: embeddings read from the run folder's cache) and the overlap of the chosen negatives.

usage: python benchmarks/bench_mining.py [--queries 300] [--top-k 30] [--negatives 7] [--relative 0.05] [--threads 2]
Last line: `bench_mining: RATIOx (...)`.
"""
import argparse, os, sys, tempfile, time, logging, warnings

def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--top-k", type=int, default=30)
    ap.add_argument("--negatives", type=int, default=7)
    ap.add_argument("--relative", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    os.environ["EMBEDDING_LAB_THREADS"] = str(a.threads)
    warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
    import numpy as np, pandas as pd
    from embedding_lab.core import Config
    from embedding_lab.data import news_pairs
    from embedding_lab import mining as M, teacher as T

    pairs = news_pairs(query_chars=200, positive_chars=400, max_pairs=a.queries, seed=0)[["query", "positive", "id"]]
    corpus = pairs.positive.tolist()
    cfg = Config.load("tiny", run_dir=tempfile.mkdtemp(prefix="bench-mining-"), mining__top_k=a.top_k,
                      mining__negatives=a.negatives, mining__relative_margin=a.relative, mining__absolute_margin=0.0,
                      mining__teachers=["dense"], mining__select="hardest")
    model = T.load_bi_encoder(cfg.teacher.bi_encoder)     # loaded once; both sides use this object
    import faiss; faiss.omp_set_num_threads(a.threads)

    model.encode(corpus[:64], batch_size=32)              # warm-up, so neither side pays first-call costs
    t0 = time.perf_counter(); ours = M.mine(cfg, pairs, corpus); t_ours = time.perf_counter() - t0
    t0 = time.perf_counter(); M.mine(cfg, pairs, corpus); t_warm = time.perf_counter() - t0

    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives
    ds = Dataset.from_pandas(pairs[["query", "positive"]].reset_index(drop=True))
    t0 = time.perf_counter()
    st = mine_hard_negatives(ds, model, corpus=corpus, range_max=a.top_k, relative_margin=a.relative,
                             num_negatives=a.negatives, sampling_strategy="top", output_format="labeled-list",
                             use_faiss=True, batch_size=cfg.teacher.batch_size, verbose=False)
    t_st = time.perf_counter() - t0
    cfg2 = Config.load("tiny", run_dir=tempfile.mkdtemp(prefix="bench-mining-"), overrides={"mining": dict(cfg.mining)})
    t0 = time.perf_counter(); M.mine(cfg2, pairs, corpus); t_after = time.perf_counter() - t0
    t_ours = (t_ours + t_after) / 2          # cold runs before and after ST, so machine drift hits both sides

    st_negs = {}
    for r in st:
        docs, labels = r[list(r.keys())[1]], r["labels"]
        st_negs[r["query"]] = [d for d, l in zip(docs, labels) if not l]
    ours_negs = dict(zip(ours.frame["query"], ours.frame.negatives))
    inter = [len(set(ours_negs[q]) & set(st_negs.get(q, []))) for q in ours_negs]
    both = sum(len(set(ours_negs[q]) | set(st_negs.get(q, []))) for q in ours_negs)
    n_ours, n_st = sum(map(len, ours_negs.values())), sum(map(len, st_negs.values()))
    jacc = sum(inter) / max(both, 1)
    print(f"queries {len(pairs)}, corpus {len(corpus)}, top_k {a.top_k}, relative margin {a.relative}, n {a.negatives}, threads {a.threads}")
    print(f"ours (cold, encodes)     {t_ours:7.2f} s   (mean of a run before and one after ST) negatives {n_ours} ({n_ours / len(pairs):.2f}/query)")
    print(f"ours (warm, cached emb)  {t_warm:7.2f} s")
    print(f"sentence-transformers    {t_st:7.2f} s   negatives {n_st} ({n_st / max(len(st_negs), 1):.2f}/query over {len(st_negs)} queries)")
    print(f"chosen negatives: {sum(inter)} shared; share of ours also chosen by ST {sum(inter) / max(n_ours, 1):.3f}; "
          f"Jaccard {jacc:.3f}")
    print(f"warm speed-up vs ST: {t_st / t_warm:.1f}x")
    print(f"bench_mining: {t_st / t_ours:.2f}x (sentence-transformers mine_hard_negatives time / ours, cold, same model+corpus+margins; "
          f"negative overlap {sum(inter) / max(n_ours, 1):.3f})")

if __name__ == "__main__":
    sys.exit(main())
