"""GPU throughput of the full-size student: LoRA training (tokens/s, MFU, peak memory) and bf16 encoding.

Mistral-7B architecture with random weights (nothing is fetched), bf16 weights, LoRA r 16 on q,k,v,o,gate,up,down.

Part 1, `raw`: a plain LoRA step on `MistralModel` (last-token objective) at sequence length `--seq` for a few batch
sizes and three settings:
  recipe   gradient checkpointing (use_reentrant=False), LoRA dropout 0.05: the `full` profile's settings;
  nockpt   no checkpointing, LoRA dropout 0: activations kept (memory for speed);
  compile  as nockpt, each decoder layer compiled with torch.compile (regional compilation);
  nockpt-bf16 / compile-bf16: the same with the adapters kept in bf16 (peft casts them to fp32 by default, and
           the input of every adapted layer with them).
Part 2, `project`: this project's own training step (`embedding_lab.train.grad_cache_step`: GradCache, in-batch +
hard negatives, soft labels) through `Embedder` and `add_lora`, on synthetic texts.
Part 3, `encode`: bf16 inference throughput, the raw forward at `--seq` and `Embedder.encode` on mixed-length texts.

Model FLOPs per token = 4 x (non-embedding parameters) (forward 2N + activation gradients 2N: frozen weights need no
weight gradients under LoRA) + attention 12 x layers x hidden x seq (PaLM appendix B). The forward that checkpointing
or GradCache recomputes is overhead and is not counted; inference counts 2N + 4 x layers x hidden x seq.
MFU = model FLOP/s over --peak-tflops (default: 989 on an H100 or H200, the bf16 dense peak; give it elsewhere).

Usage: python benchmarks/bench_train_gpu.py [--parts raw,project,encode] [--json out.json]
       python benchmarks/bench_train_gpu.py --tiny --device cpu     # a seconds-long smoke test of the code path
A machine without CUDA (and no --device cpu) is an error: exit status 2, nothing measured.
"""
import argparse, json, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SETTINGS = ("recipe", "nockpt", "nockpt-bf16", "compile", "compile-bf16")
PEAKS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}   # bf16 dense TFLOP/s from the data sheets


def mistral_config(tiny: bool, layers: int, vocab: int):
    from transformers import MistralConfig
    dims = dict(hidden_size=128, intermediate_size=448, num_attention_heads=4, num_key_value_heads=2) if tiny else \
        dict(hidden_size=4096, intermediate_size=14336, num_attention_heads=32, num_key_value_heads=8)
    return MistralConfig(**dims, num_hidden_layers=layers, vocab_size=vocab, max_position_embeddings=32768,
                         sliding_window=None, rope_theta=10000.0, attn_implementation="sdpa", use_cache=False)


def build(cfg, device, dropout: float, adapter_fp32: bool = True):
    import torch
    from transformers import MistralModel
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(0)
    with torch.device(device):
        model = MistralModel(cfg).to(torch.bfloat16)
    n = sum(p.numel() for p in model.parameters()) - cfg.vocab_size * cfg.hidden_size   # non-embedding
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=dropout, target_modules=TARGETS),
                           autocast_adapter_dtype=adapter_fp32)     # False: the adapters stay bf16 like the body
    return model, n


def sync(device):
    import torch
    if device.type == "cuda": torch.cuda.synchronize()


def peak_gib(device):
    import torch
    return torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")


def reset_peak(device):
    import torch
    if device.type == "cuda": torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()


def train_flops_per_token(n, cfg, seq): return 4 * n + 12 * cfg.num_hidden_layers * cfg.hidden_size * seq


def time_steps(step, warmup, steps, device):
    for i in range(warmup + steps):
        if i == warmup: sync(device); t = time.perf_counter()
        step()
    sync(device)
    return (time.perf_counter() - t) / steps


def raw_part(a, cfg, device, peak, res):
    "LoRA steps on the bare model for each setting and batch size."
    import torch
    for setting in a.settings.split(","):
        if setting not in SETTINGS: raise SystemExit(f"unknown setting '{setting}'; choose from {', '.join(SETTINGS)}")
        model, n = build(cfg, device, 0.05 if setting == "recipe" else 0.0, adapter_fp32=not setting.endswith("bf16"))
        if setting == "recipe": model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if setting.startswith("compile"):
            t0 = time.perf_counter()
            for layer in model.base_model.model.layers: layer.compile()
        model.train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        for bs in [int(x) for x in a.batches.split(",")]:
            reset_peak(device)
            ids = torch.randint(0, cfg.vocab_size, (bs, a.seq), device=device)

            def step():
                h = model(input_ids=ids).last_hidden_state
                h[:, -1].float().pow(2).mean().backward()
                opt.step(); opt.zero_grad(set_to_none=True)
            try:
                t1 = time.perf_counter()
                dt = time_steps(step, a.warmup, a.steps, device)
            except torch.cuda.OutOfMemoryError:
                print(f"raw {setting} batch={bs}: out of memory", flush=True)
                opt.zero_grad(set_to_none=True); break
            tok = bs * a.seq / dt
            mfu = tok * train_flops_per_token(n, cfg, a.seq) / (peak * 1e12) if peak else float("nan")
            row = dict(part="raw", setting=setting, batch=bs, seq=a.seq, tokens_per_s=tok, mfu=mfu,
                       peak_gib=peak_gib(device), step_s=dt)
            if setting.startswith("compile") and bs == int(a.batches.split(",")[0]): row["compile_and_warmup_s"] = time.perf_counter() - t1
            res.append(row)
            print(f"raw {setting:7s} batch={bs:3d} seq={a.seq}: {tok:10,.0f} tokens/s  MFU={100 * mfu:5.1f}%  "
                  f"peak memory={row['peak_gib']:.1f} GiB", flush=True)
        del model, opt
        reset_peak(device)


def synthetic_texts(n, words, seed):
    import random
    rng = random.Random(seed)
    vocab = "the of and to in a is that for on with as by at from this be are was an it or which news report said city " \
            "government market team season players study research company year week people new first last".split()
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(words // 3, words))) for _ in range(n)]


def project_embedder(cfg, device, tok_dir, max_length):
    import torch
    from transformers import AutoTokenizer, MistralModel
    from embedding_lab.model import Embedder, ensure_eos
    torch.manual_seed(0)
    with torch.device(device):
        model = MistralModel(cfg).to(torch.bfloat16)
    n = sum(p.numel() for p in model.parameters()) - cfg.vocab_size * cfg.hidden_size
    tok = ensure_eos(AutoTokenizer.from_pretrained(tok_dir))
    tok.padding_side = "left"
    return Embedder(model, tok, "random-mistral-7b", max_length, device=device), n


def project_part(a, cfg, device, peak, tok_dir, res):
    "The project's own GradCache training step (in-batch + hard negatives + soft labels) on the full-size body."
    import numpy as np, torch
    from embedding_lab.model import add_lora
    from embedding_lab.train import Batch, grad_cache_step
    emb, n = project_embedder(cfg, device, tok_dir, a.seq)
    model = add_lora(emb.model, 16, 32, 0.05)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train(); emb.model = model
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    b, k = a.project_batch, a.project_negatives
    texts = synthetic_texts(b * (2 + k), a.seq * 2 // 3, 0)
    target = np.full((b, 1 + k), 1 / (1 + k), np.float32)
    batch = Batch(texts[:b], texts[b:2 * b], [texts[2 * b + i * k: 2 * b + (i + 1) * k] for i in range(b)], target)
    ntok = sum(len(x) for x in emb.tokenizer(texts, verbose=False)["input_ids"])
    ctx = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if device.type == "cuda" else None

    def step():
        import contextlib
        with (ctx() if ctx else contextlib.nullcontext()):
            grad_cache_step(emb, batch, "distill", chunk=a.project_chunk)
        opt.step(); opt.zero_grad(set_to_none=True)
    reset_peak(device)
    try:
        dt = time_steps(step, 1, a.project_steps, device)
    except torch.cuda.OutOfMemoryError:
        print("project step: out of memory", flush=True); return
    tok = min(ntok, len(texts) * a.seq) / dt
    mfu = tok * train_flops_per_token(n, cfg, a.seq) / (peak * 1e12) if peak else float("nan")
    res.append(dict(part="project", setting="gradcache+ckpt", batch=b, negatives=k, chunk=a.project_chunk,
                    tokens_per_s=tok, mfu=mfu, peak_gib=peak_gib(device), step_s=dt))
    print(f"project grad_cache_step batch={b} negatives={k} chunk={a.project_chunk}: {tok:10,.0f} tokens/s  "
          f"MFU={100 * mfu:5.1f}%  {dt:.2f} s/step  peak memory={peak_gib(device):.1f} GiB", flush=True)
    del emb, model, opt
    reset_peak(device)


def encode_part(a, cfg, device, peak, tok_dir, res):
    "bf16 inference: the raw forward at full length, then `Embedder.encode` on mixed-length texts."
    import torch
    emb, n = project_embedder(cfg, device, tok_dir, a.seq)
    emb.model.eval()
    fl = 2 * n + 4 * cfg.num_hidden_layers * cfg.hidden_size * a.seq
    for bs in [int(x) for x in a.encode_batches.split(",")]:
        reset_peak(device)
        ids = torch.randint(0, cfg.vocab_size, (bs, a.seq), device=device)

        def step():
            with torch.inference_mode(): emb.model(input_ids=ids).last_hidden_state[:, -1].float()
        try: dt = time_steps(step, a.warmup, a.steps, device)
        except torch.cuda.OutOfMemoryError: print(f"encode batch={bs}: out of memory", flush=True); break
        tok = bs * a.seq / dt
        mfu = tok * fl / (peak * 1e12) if peak else float("nan")
        res.append(dict(part="encode", setting="raw", batch=bs, seq=a.seq, tokens_per_s=tok, mfu=mfu,
                        peak_gib=peak_gib(device)))
        print(f"encode raw batch={bs:3d} seq={a.seq}: {tok:10,.0f} tokens/s  MFU={100 * mfu:5.1f}%  "
              f"peak memory={peak_gib(device):.1f} GiB", flush=True)
    texts = synthetic_texts(a.encode_texts, a.seq * 2 // 3, 1)
    ntok = sum(min(len(x), a.seq) for x in emb.tokenizer(texts, verbose=False)["input_ids"])
    emb.encode(texts[:a.encode_batch_size], batch_size=a.encode_batch_size)      # warm-up
    sync(device); t = time.perf_counter()
    emb.encode(texts, batch_size=a.encode_batch_size)
    sync(device); dt = time.perf_counter() - t
    res.append(dict(part="encode", setting="Embedder.encode", batch=a.encode_batch_size, texts=len(texts),
                    tokens_per_s=ntok / dt, texts_per_s=len(texts) / dt))
    print(f"encode Embedder.encode batch={a.encode_batch_size}: {len(texts)} texts, {ntok / dt:10,.0f} tokens/s, "
          f"{len(texts) / dt:,.0f} texts/s", flush=True)
    del emb
    reset_peak(device)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="raw,project,encode")
    ap.add_argument("--settings", default="recipe,nockpt,compile")
    ap.add_argument("--batches", default="4,8,16")
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--project-batch", type=int, default=16)
    ap.add_argument("--project-negatives", type=int, default=3)
    ap.add_argument("--project-chunk", type=int, default=16)
    ap.add_argument("--project-steps", type=int, default=2)
    ap.add_argument("--encode-batches", default="32,64,128")
    ap.add_argument("--encode-texts", type=int, default=1024)
    ap.add_argument("--encode-batch-size", type=int, default=64)
    ap.add_argument("--peak-tflops", type=float, default=None, help="bf16 peak of the device (default: from its name)")
    ap.add_argument("--tokenizer", default=None, help="tokenizer folder (default: the builtin SmolLM2's)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tiny", action="store_true", help="a small random model: checks the code path in seconds")
    ap.add_argument("--json", default=None, help="also write the rows here")
    a = ap.parse_args(argv)
    import torch
    if a.device == "cuda" and not torch.cuda.is_available():
        print("bench_train_gpu: CUDA is not available on this machine; this benchmark needs an NVIDIA GPU "
              "(use --tiny --device cpu to check the code path). Nothing was measured.", file=sys.stderr)
        return 2
    device = torch.device(a.device)
    torch.set_float32_matmul_precision("high")          # TF32 for the fp32 adapters' small matrix products
    if a.tokenizer: tok_dir = a.tokenizer
    else:
        from embedding_lab.model import builtin_path
        tok_dir = str(builtin_path())
    from transformers import AutoTokenizer
    vocab = len(AutoTokenizer.from_pretrained(tok_dir))
    vocab = (vocab + 127) // 128 * 128
    cfg = mistral_config(a.tiny, 2 if a.tiny else a.layers, vocab)
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    peak = a.peak_tflops or next((v for k, v in PEAKS.items() if k in name), None)
    print(f"device={name} torch={torch.__version__} layers={cfg.num_hidden_layers} hidden={cfg.hidden_size} "
          f"vocab={vocab} seq={a.seq} bf16 LoRA r16 peak={peak} TFLOP/s", flush=True)
    res = []
    try:
        for part in a.parts.split(","):
            t = time.perf_counter()
            {"raw": raw_part, "project": project_part, "encode": encode_part}[part](
                *((a, cfg, device, peak, res) if part == "raw" else (a, cfg, device, peak, tok_dir, res)))
            print(f"[{part}: {time.perf_counter() - t:.0f} s]", flush=True)
    finally:
        if a.json:
            Path(a.json).write_text(json.dumps(dict(device=name, torch=torch.__version__, peak_tflops=peak,
                                                    layers=cfg.num_hidden_layers, rows=res), indent=2))
    train = [r for r in res if r["part"] == "raw"]
    if train:
        best = max(train, key=lambda r: r["tokens_per_s"])
        print(f"train_mfu: {best['mfu']:.3f}x (model FLOP/s over the {peak} TFLOP/s bf16 peak; best: "
              f"{best['setting']} batch {best['batch']}, {best['tokens_per_s']:,.0f} tokens/s)")
    enc = [r for r in res if r["part"] == "encode" and r["setting"] == "Embedder.encode"]
    if enc: print(f"encode_tokens_per_s: {enc[0]['tokens_per_s']:.0f} (Embedder.encode, bf16, mixed lengths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
