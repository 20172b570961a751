"""LoRA training throughput of the full-size Mistral-7B architecture on one GPU.

Random init (no weights are fetched), LoRA r 16 on q,k,v,o,gate,up,down, sequence length 512, bf16 weights,
gradient checkpointing (use_reentrant=False), AdamW on the adapters. For a few batch sizes it prints tokens/s,
model FLOPs utilisation and peak memory. Model FLOPs per token = 4 x (all parameters) (forward 2N + activation
gradients 2N: frozen weights need no weight gradients under LoRA) + attention 12 x layers x hidden x seq (PaLM
appendix B); the forward recomputed by checkpointing is overhead and is not counted. Peak: --peak-tflops (default 989, H100 SXM bf16
dense). Exits with a message when CUDA is absent.
Usage: python benchmarks/bench_train_gpu.py [--batches 1,2,4,8] [--seq 512] [--steps 5] [--layers 32]
"""
import argparse, sys, time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,2,4,8")
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--layers", type=int, default=32, help="fewer for a smoke test")
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    a = ap.parse_args()
    import torch
    if not torch.cuda.is_available():
        print("bench_train_gpu: CUDA is not available; this benchmark needs a GPU (nothing measured).")
        print("train_mfu: 0.00x (no GPU: not measured)")
        return 0
    from transformers import MistralConfig, MistralModel
    from peft import LoraConfig, get_peft_model
    cfg = MistralConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=a.layers, num_attention_heads=32,
                        num_key_value_heads=8, vocab_size=32000, max_position_embeddings=32768, sliding_window=None,
                        rope_theta=10000.0, attn_implementation="sdpa")
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = MistralModel(cfg).to(torch.bfloat16)
    n_params = sum(p.numel() for p in model.parameters())
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=[
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    dev = torch.cuda.get_device_name()
    print(f"device={dev} params={n_params / 1e9:.2f}B layers={a.layers} seq={a.seq} bf16 LoRA r16 grad-ckpt")
    best = 0.0
    for bs in [int(x) for x in a.batches.split(",")]:
        torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
        ids = torch.randint(0, cfg.vocab_size, (bs, a.seq), device="cuda")
        try:
            for i in range(a.warmup + a.steps):
                if i == a.warmup: torch.cuda.synchronize(); t = time.perf_counter()
                h = model(input_ids=ids).last_hidden_state
                loss = h[:, -1].float().pow(2).mean()          # last-token objective, like the embedder
                loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize(); dt = (time.perf_counter() - t) / a.steps
        except torch.cuda.OutOfMemoryError:
            print(f"batch={bs}: out of memory"); break
        tok = bs * a.seq / dt
        flops_tok = 4 * n_params + 12 * cfg.num_hidden_layers * cfg.hidden_size * a.seq
        mfu = tok * flops_tok / (a.peak_tflops * 1e12)
        best = max(best, mfu)
        print(f"batch={bs}: {tok:,.0f} tokens/s  MFU={100 * mfu:.1f}%  peak memory={torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    print(f"train_mfu: {best:.3f}x (model FLOP/s over the {a.peak_tflops:.0f} TFLOP/s bf16 peak, best batch, Mistral-7B LoRA seq {a.seq})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
