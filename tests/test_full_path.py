"""The `full` profile's code path end to end on the CPU, with a tiny random Mistral standing in for Mistral-7B.

`accelerate launch` starts two processes of `embedding-lab train --profile full` on a fresh run folder, as the README's
GPU command does: they build the data, train the cross-encoder teacher, mine (cross-checked) hard negatives, then train
LoRA on every layer with gradient checkpointing, GradCache and bf16 autocast (bf16 weights, as on a GPU; CPUs without
bf16 run float32), save a checkpoint, merge and export the student. The student is then loaded with
sentence-transformers and with `load_embedder` and scored on the offline suite with the full profile's in-context
examples. Only sizes are overridden (rows, steps, lengths, suite items), so a bug on the first GPU run that the quick
profile's settings never reach shows up here first."""
import json, math, os, socket, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch

from embedding_lab.core import Config

BF16 = bool(getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or
            getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())


def tiny_mistral(dest: Path) -> Path:
    """A random 2-layer `MistralForCausalLM` (hidden 64, grouped-query attention, untied head, bf16 weights) with a
    tokenizer that, like Mistral-7B's, adds BOS and no EOS and has no pad token (SmolLM2's vocabulary)."""
    from tokenizers import Tokenizer, processors
    from transformers import MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast
    from embedding_lab.model import builtin_path
    tk = Tokenizer.from_file(str(builtin_path() / "tokenizer.json"))
    bos, eos = "<|im_start|>", "<|im_end|>"
    tk.post_processor = processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                      special_tokens=[(bos, tk.token_to_id(bos))])
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token=bos, eos_token=eos, unk_token="<|endoftext|>")
    cfg = MistralConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, sliding_window=4096,
                        tie_word_embeddings=False, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    MistralForCausalLM(cfg).to(torch.bfloat16).save_pretrained(dest)
    tok.save_pretrained(dest)
    return dest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def overrides(base: Path) -> list[str]:
    "The full profile with small sizes: the settings that choose code paths are left as full sets them."
    return [f"model.base={base}", f"model.dtype={'bfloat16' if BF16 else 'auto'}",
            "model.max_length=64", "model.query_max_length=160", "model.eval_queries=8",
            "data.max_pairs=150", "data.task_rows=8", "data.positive_chars=200", "data.example_chars=60",
            "teacher.cross_steps=1", "teacher.cross_batch=8", "teacher.cross_max_length=32", "teacher.eval_queries=8",
            "mining.top_k=8", "mining.max_queries=30", "train.negatives=3",
            "train.steps=2", "train.batch_size=2", "train.grad_accum=2", "train.grad_cache_chunk=4",
            "mteb.max_items=16", "mteb.general_items=16", "mteb.n_experiments=2",
            "mteb.compare_zero_shot=[]"]      # the 0-shot pass (quick runs it too) would double the suite's cost


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    base = tiny_mistral(root / "tiny-mistral")
    run = root / "run"
    exe = Path(sys.executable).parent
    env = os.environ | {"EMBEDDING_LAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    r = subprocess.run([str(exe / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
                        str(exe / "embedding-lab"), "train", "--profile", "full", "--out", str(run),
                        *[x for o in overrides(base) for x in ("-p", o)]],
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    return run, base, r.stdout


def test_the_full_profile_keeps_its_code_paths(tmp_path):
    "The overrides change sizes only: the switches the test is about are the full profile's own."
    cfg = Config.load("full", run_dir=tmp_path / "r", overrides=overrides(tmp_path / "m"))
    assert cfg.profile == "full" and cfg.train.grad_cache and cfg.train.grad_checkpointing
    assert cfg.teacher.cross_encoder == "train" and cfg.mining.cross_check
    assert cfg.model.lora_layers is None and cfg.model.layers is None and len(cfg.model.lora_targets) == 7
    assert cfg.mining.negatives == 7 and cfg.train.few_shot_max == 5 and cfg.mteb.few_shot == 3
    assert cfg.train.checkpoint_every == 200


@pytest.mark.slow
def test_two_processes_train_with_the_full_settings(full_run):
    run, base, out = full_run
    how = f"{'bfloat16 weights, bf16' if BF16 else 'float32 weights, no'} autocast, gradient checkpointing, GradCache"
    assert f"trained distill for 2 steps on 2 processes ({how})" in out, out
    assert out.count("trained distill") == 1                               # rank 0 saves and reports
    ad = run / "artifacts" / "ablations" / "distill-seed0"
    info = json.loads((ad / "embedder.json").read_text())["training"]
    assert info == {"processes": 2, "mixed_precision": "bf16" if BF16 else "no", "grad_checkpointing": True,
                    "grad_cache": True, "grad_accum": 2, "dtype": "bfloat16" if BF16 else "float32",
                    "teacher_tau": Config.load("full").train.teacher_tau}     # full sets no teacher_mass: as configured
    log = json.loads((run / "artifacts" / "train" / "distill-seed0" / "log.json").read_text())
    assert [r["step"] for r in log] == [1, 2]
    for r in log:
        assert math.isfinite(r["loss"]) and r["loss"] > 0 and math.isfinite(r["grad_norm"]) and r["grad_norm"] > 0
    ck = run / "artifacts" / "train" / "distill-seed0" / "checkpoint"                  # the last step's (accelerate's save_state)
    assert (ck / "model.safetensors").exists() and (ck / "signature.json").exists()
    # the teacher: a cross-encoder trained once (rank 0 saved its weights) and used to cross-check the mined negatives
    ces = list((run / "artifacts" / "teacher").glob("cross-encoder-*"))
    assert len(ces) == 1 and (ces[0] / "model.safetensors").exists()
    stats = json.loads((run / "artifacts" / "mining" / "stats.json").read_text())
    assert stats["queries"] > 0 and stats["tasks"] == 4 and "dropped_by_cross_check" in stats
    # LoRA on all seven projections of every layer, trained away from its zero start
    from safetensors.torch import load_file
    from embedding_lab.model import DEFAULT_TARGETS
    meta = json.loads((ad / "adapter_config.json").read_text())
    assert sorted(meta["target_modules"]) == sorted(DEFAULT_TARGETS)
    assert not meta.get("layers_to_transform") and meta["base_model_name_or_path"] == str(base)
    w = load_file(ad / "adapter_model.safetensors")
    assert {k.split(".layers.")[1].split(".")[0] for k in w} == {"0", "1"} and len(w) == 2 * 7 * 2
    assert max(float(v.abs().max()) for k, v in w.items() if "lora_B" in k) > 0


@pytest.mark.slow
def test_the_exported_student_loads_both_ways_and_scores(full_run):
    from sentence_transformers import SentenceTransformer
    from embedding_lab.model import load_embedder
    from embedding_lab import mteb_eval as ME
    run, base, _ = full_run
    st_dir = run / "artifacts" / "student"
    texts = ["Stocks fell sharply on Monday.", "A new species of frog was found in Peru."]
    ours, ad = load_embedder(st_dir), load_embedder(run / "artifacts" / "ablations" / "distill-seed0")
    assert ours.layers == 2 and ours.dim == 64
    a, b = ours.encode(texts), SentenceTransformer(str(st_dir), device="cpu").encode(texts, normalize_embeddings=True)
    c = ad.encode(texts)                                   # the adapter on its base: what the student merged
    assert np.isfinite(a).all() and np.isfinite(b).all()
    assert (a * b).sum(1).min() > 0.99 and (a * c).sum(1).min() > 0.99   # bf16 weights and merge: close, not equal
    assert ME.mteb_st_model(st_dir).mteb_model_meta.name == "embedding-lab/student"
    cfg = Config.load(None, run_dir=run)       # the run folder's config, as 07_mteb reads it
    scores, notes = ME.run_suite(cfg, {"student": str(st_dir)}, show_progress=False)
    assert not notes, notes
    assert set(scores.model) == {"student"} and len(scores) == 6 and scores.main_score.between(0, 100).all()
    # 07_mteb completes the folder: the prompt of every task mteb knows, and the training instruction as "query"
    from embedding_lab.suite import ranking_table
    ME.complete_student(cfg, ranking_table(scores))
    st = SentenceTransformer(str(st_dir), device="cpu")
    assert st.prompts["query"].startswith("Instruct: ") and "ArguAna-query" in st.prompts
    assert not [k for k in st.prompts if k.startswith("EmbLab")]
    assert ME.mteb_st_model(st_dir).model_prompts == {k: v for k, v in st.prompts.items() if v is not None}
    assert np.isfinite(st.encode_query(texts[:1])).all()
    assert f"base: `{base}`" in (st_dir / "README.md").read_text()          # the model card


def test_loss_is_float32_under_bf16_autocast():
    "Similarities over tau = 0.02 and the KL's log-softmax stay float32 inside the bf16 autocast of the full profile."
    from embedding_lab.train import loss_from_embeddings
    g = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(4, 64, generator=g), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(12, 64, generator=g), dim=-1)
    tgt = torch.softmax(torch.randn(4, 3, generator=g), -1).numpy()
    want, wp = loss_from_embeddings("distill", q, d, 4, 2, tgt, 0.02, 0.02, 1.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, gp = loss_from_embeddings("distill", q, d, 4, 2, tgt, 0.02, 0.02, 1.0)
    assert got.dtype == gp["kl"].dtype == torch.float32
    assert got.item() == pytest.approx(want.item(), rel=1e-6) and gp["kl"].item() == pytest.approx(wp["kl"].item(), rel=1e-6)
