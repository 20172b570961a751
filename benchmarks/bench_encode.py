"""Encoding speed: embedding_lab.model.load_embedder(path).encode vs SentenceTransformer(path).encode.

Both load the same exported student (the untrained builtin base, cut to --layers, exported in sentence-transformers
format unless --path is given), encode the same texts with the same batch size on CPU, and must give the same
vectors (fp32: min cos >= 0.999). The runs are interleaved (the order rotates each round) and each time is the median
of --repeats rounds, so a load that comes and goes on a shared machine hits every contender alike; the median of the
per-round ratios is printed too (it pairs runs made close in time). With --int8 the
`quantize="int8"` embedder runs in the same rounds; its line reports its speed and how far its vectors moved.
With --bf16 the `quantize="bf16"` embedder (bf16 products, fp32 residual stream) runs too, and so does the fair peer
for it, sentence-transformers with the model loaded in bf16 (`model_kwargs={"torch_dtype": torch.bfloat16}`): on a
CPU with AMX / AVX-512 bf16 units both gain, and the ratio that counts is bf16 against bf16.
Usage: python benchmarks/bench_encode.py [--path DIR] [--layers 6] [--n 64] [--batch 16] [--max-length 64]
                                         [--threads 2] [--repeats 3] [--no-int8] [--bf16] [--model-forward]
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path
import numpy as np
import torch


def min_cos(a, b) -> float:
    return float((a * b).sum(1).min())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", default=None, help="an exported student folder (default: export the builtin base)")
    ap.add_argument("--layers", type=int, default=None, help="cut the builtin base to its first k layers (default all)")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds; each time is their median")
    ap.add_argument("--int8", action=argparse.BooleanOptionalAction, default=True,
                    help="also time load_embedder(..., quantize='int8') (default on)")
    ap.add_argument("--bf16", action="store_true",
                    help="also time quantize='bf16' and sentence-transformers with bf16 weights (its fair peer)")
    ap.add_argument("--model-forward", action="store_true",
                    help="also time load_embedder's encode through the model's own forward (Embedder.fast = False)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from sentence_transformers import SentenceTransformer
    from embedding_lab.data import news_pairs
    from embedding_lab.model import load_embedder, export_student
    path = a.path
    if path is None:
        base = load_embedder("builtin:smollm2-135m", max_length=a.max_length, layers=a.layers)
        path = export_student(base.model, base.tokenizer, Path(tempfile.mkdtemp()) / "student", max_length=a.max_length)
        del base
    texts = news_pairs(max_pairs=a.n, positive_chars=400).positive.tolist()[: a.n]
    ours = load_embedder(path, max_length=a.max_length)
    st = SentenceTransformer(str(path), device="cpu")
    st.max_seq_length = a.max_length
    runs = {"load_embedder.encode": lambda tx: ours.encode(tx, batch_size=a.batch),
            "SentenceTransformer.encode": lambda tx: st.encode(tx, batch_size=a.batch, convert_to_numpy=True)}
    if a.int8:
        q8 = load_embedder(path, max_length=a.max_length, quantize="int8")
        runs["load_embedder.encode int8"] = lambda tx: q8.encode(tx, batch_size=a.batch)
    if a.bf16:
        b16 = load_embedder(path, max_length=a.max_length, quantize="bf16")
        st16 = SentenceTransformer(str(path), device="cpu", model_kwargs={"torch_dtype": torch.bfloat16})
        st16.max_seq_length = a.max_length
        runs["load_embedder.encode bf16"] = lambda tx: b16.encode(tx, batch_size=a.batch)
        unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)      # bf16 vectors are unit to bf16's precision
        runs["SentenceTransformer bf16"] = lambda tx: unit(st16.encode(tx, batch_size=a.batch, convert_to_numpy=True)
                                                           .astype(np.float32))
    if a.model_forward:
        old = load_embedder(path, max_length=a.max_length); old.fast = False
        runs["model forward (fast=False)"] = lambda tx: old.encode(tx, batch_size=a.batch)
    for fn in runs.values(): fn(texts[:4])           # warm up (page in weights, build the fused / int8 weights)
    load0 = os.getloadavg()[0]
    times, vecs, names = {k: [] for k in runs}, {}, list(runs)
    for r in range(a.repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter(); vecs[k] = runs[k](texts); times[k].append(time.perf_counter() - t)
    load1 = os.getloadavg()[0]
    med = {k: statistics.median(v) for k, v in times.items()}
    ref = vecs["SentenceTransformer.encode"]
    layers = len(ours.model.layers)
    print(f"texts={len(texts)} batch={a.batch} max_length={a.max_length} layers={layers} threads={a.threads} "
          f"rounds={a.repeats} (median, interleaved) cpus={os.cpu_count()} load average {load0:.1f} -> {load1:.1f}")
    for k in names:
        extra = "" if k == "SentenceTransformer.encode" else f"  min cos vs ST {min_cos(vecs[k], ref):.6f}"
        print(f"{k + ':':30s}{med[k]:6.2f} s ({len(texts) / med[k]:5.1f} texts/s)  "
              f"[{', '.join(f'{t:.2f}' for t in times[k])}]{extra}")
    diff = float(np.abs(vecs["load_embedder.encode"] - ref).max())
    print(f"max |difference| = {diff:.2e}")
    st_t = med["SentenceTransformer.encode"]
    paired = lambda k: statistics.median(s / t for s, t in zip(times["SentenceTransformer.encode"], times[k]))
    print("per-round ratios (ST time / time in the same round), median: " +
          ", ".join(f"{k} {paired(k):.2f}x" for k in names if k != "SentenceTransformer.encode"))
    if a.model_forward:
        print(f"encode_speed_model_forward: {st_t / med['model forward (fast=False)']:.2f}x (the model's own forward vs ST)")
    if a.int8:
        k = "load_embedder.encode int8"
        print(f"encode_speed_int8: {st_t / med[k]:.2f}x (quantize='int8' vs SentenceTransformer.encode fp32; "
              f"min cos {min_cos(vecs[k], ref):.4f})")
    if a.bf16:
        k, p = "load_embedder.encode bf16", "SentenceTransformer bf16"
        print(f"encode_speed_bf16: {med[p] / med[k]:.2f}x (quantize='bf16' vs SentenceTransformer in bf16; "
              f"{st_t / med[k]:.2f}x vs ST fp32; min cos vs ST fp32 {min_cos(vecs[k], ref):.4f}, ST bf16's "
              f"{min_cos(vecs[p], ref):.4f})")
    print(f"encode_speed: {st_t / med['load_embedder.encode']:.2f}x (load_embedder.encode vs SentenceTransformer.encode, "
          f"same model/texts/batch; min cos {min_cos(vecs['load_embedder.encode'], ref):.6f})")


if __name__ == "__main__":
    main()
