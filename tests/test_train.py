"Tests of embedding_lab.train: hand-checked losses, GradCache gradients, resume, bad inputs, CLI."
import json, math
import numpy as np
import pandas as pd
import pytest
import torch

from embedding_lab.core import Config
from embedding_lab import train as T
from embedding_lab.cli import main
from doubles import standin_mined

FAST = dict(train__steps=2, train__batch_size=2, train__negatives=1, train__max_length=16, train__few_shot_max=0,
            train__grad_checkpointing=False, train__checkpoint_every=1, train__lr=0.001, model__lora_r=2,
            model__lora_alpha=4, model__lora_targets=["q_proj", "v_proj"])


def test_info_nce_hand_checked():
    q = torch.eye(2)
    assert T.info_nce(q, q, tau=1.0).item() == pytest.approx(math.log(1 + math.exp(-1)), abs=1e-6)
    # tau 0.5 doubles the logits
    assert T.info_nce(q, q, tau=0.5).item() == pytest.approx(math.log(1 + math.exp(-2)), abs=1e-6)
    docs = torch.cat([q, -q])       # hard negatives -e0, -e1: logits of query 0 = [1, 0, -1, 0]
    assert T.info_nce(q, docs, tau=1.0).item() == pytest.approx(-math.log(math.e / (math.e + 2 + math.exp(-1))), abs=1e-6)


def test_kl_distill_hand_checked():
    q = torch.tensor([[1.0, 0.0]])
    cands = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])          # student logits [1, 0] at tau 1
    ps = torch.softmax(torch.tensor([1.0, 0.0]), 0)
    assert T.kl_distill(q, cands, ps[None], tau=1.0).item() == pytest.approx(0.0, abs=1e-7)
    t = torch.tensor([[0.9, 0.1]])
    want = 0.9 * math.log(0.9 / ps[0].item()) + 0.1 * math.log(0.1 / ps[1].item())
    assert T.kl_distill(q, cands, t, tau=1.0).item() == pytest.approx(want, abs=1e-6)
    np.testing.assert_allclose(T.teacher_soft_labels([[0.0, math.log(3)]], tau=1.0), [[0.25, 0.75]])


def test_loss_methods_differ_and_unknown_method():
    q = torch.nn.functional.normalize(torch.randn(2, 4), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(4, 4), dim=-1)      # 2 positives + 2 negatives (1 per query)
    tgt = np.array([[0.8, 0.2], [0.6, 0.4]])
    lin, _ = T.loss_from_embeddings("inbatch", q, d, 2, 1, tgt, 0.02, 0.02, 1.0)
    lhn, _ = T.loss_from_embeddings("hardneg", q, d, 2, 1, tgt, 0.02, 0.02, 1.0)
    ld, parts = T.loss_from_embeddings("distill", q, d, 2, 1, tgt, 0.02, 0.02, 1.0)
    assert lin.item() == pytest.approx(T.info_nce(q, d[:2]).item())
    assert ld.item() == pytest.approx(lhn.item() + parts["kl"].item(), rel=1e-6)
    with pytest.raises(ValueError, match="unknown method"):
        T.loss_from_embeddings("mse", q, d, 2, 1, tgt, 0.02, 0.02, 1.0)


def test_micro_batches_cover_data_and_split_by_rank():
    a = np.concatenate([T.micro_batch_rows(10, m, 2, seed=0) for m in range(5)])
    assert sorted(a.tolist()) == list(range(10))
    r0 = T.micro_batch_rows(10, 0, 2, 0, rank=0, world=2); r1 = T.micro_batch_rows(10, 0, 2, 0, rank=1, world=2)
    assert set(r0) & set(r1) == set()


def test_make_batch_needs_enough_negatives():
    df = pd.DataFrame({"id": ["a"], "query": ["q"], "positive": ["p"], "instruction": ["i"], "task": ["t"],
                       "negatives": [["n1"]], "teacher_scores": [[1.0, 0.5]]})
    b = T.make_batch(df, None, 1, 0, 0, 0.05)
    assert b.queries == ["Instruct: i\nQuery: q"] and b.negatives == [["n1"]] and b.target.shape == (1, 2)
    with pytest.raises(ValueError, match="has 1 negatives"):
        T.make_batch(df, None, 2, 0, 0, 0.05)


@pytest.fixture(scope="module")
def tiny_lora():
    from embedding_lab.model import load_embedder, add_lora
    torch.set_num_threads(2)
    emb = load_embedder("builtin:smollm2-135m", max_length=16)
    emb.model = add_lora(emb.model, r=2, alpha=4, dropout=0.1, targets=["q_proj", "v_proj"])
    with torch.no_grad():
        for n, p in emb.model.named_parameters():
            if "lora_B" in n: p.normal_(0, 0.05)
    return emb


def test_grad_cache_matches_plain_gradients(tiny_lora):
    emb = tiny_lora
    b = T.Batch(["Instruct: f\nQuery: frogs", "Instruct: f\nQuery: rain", "Instruct: f\nQuery: vote"],
                ["Frogs in Peru.", "Rain tomorrow.", "The vote failed."], [["Stocks."], ["A cat."], ["Phones."]],
                T.teacher_soft_labels([[1, .2], [1, .5], [1, .1]], 0.1))
    def grads(fn):
        emb.model.zero_grad(); torch.manual_seed(0); fn()
        return torch.cat([p.grad.flatten() for p in emb.model.parameters() if p.requires_grad])
    emb.model.train()
    g1 = grads(lambda: T.batch_loss(emb, b, "distill")[0].backward())
    g2 = grads(lambda: T.grad_cache_step(emb, b, "distill", chunk=6))
    torch.testing.assert_close(g2, g1, atol=1e-4 * g1.abs().max().item(), rtol=0)
    emb.model.eval()
    g1 = grads(lambda: T.batch_loss(emb, b, "hardneg")[0].backward())
    g2 = grads(lambda: T.grad_cache_step(emb, b, "hardneg", chunk=2))
    torch.testing.assert_close(g2, g1, atol=1e-4 * g1.abs().max().item(), rtol=0)
    assert g1.abs().max() > 0


def _frame(cfg):
    from embedding_lab.data import load_splits
    from embedding_lab.report import ensure_inputs
    ensure_inputs(cfg, "04_model")          # the splits only
    return standin_mined(load_splits(cfg)["train"].head(16), n_neg=2, seed=0)


def test_resume_reaches_the_same_final_loss(tmp_path):
    cfg = Config.load("tiny", run_dir=tmp_path / "run", **FAST)
    fr = _frame(cfg)
    _, full = T.train_student(cfg, "distill", 0, out_dir=tmp_path / "a", frame=fr, show_progress=False)
    with pytest.raises(T.StopTraining):
        T.train_student(cfg, "distill", 0, out_dir=tmp_path / "b", frame=fr, stop_after=1, show_progress=False)
    ck = tmp_path / "b" / "checkpoint"
    assert (ck / "model.safetensors").exists() and (ck / "signature.json").exists()
    assert not list((tmp_path / "b").glob(".checkpoint.*"))       # no temp folder left behind
    from safetensors.torch import load_file
    saved = load_file(ck / "model.safetensors")
    assert saved and all("lora_" in k for k in saved)              # the adapters only, not the frozen base
    _, resumed = T.train_student(cfg, "distill", 0, out_dir=tmp_path / "b", frame=fr, resume=True, show_progress=False)
    assert [r["step"] for r in resumed] == [1, 2]
    assert resumed[-1]["loss"] == pytest.approx(full[-1]["loss"], rel=1e-5, abs=1e-6)
    assert full[0]["loss"] != pytest.approx(full[-1]["loss"])
    # a checkpoint from another configuration is refused with the differing key
    cfg2 = Config.load("tiny", run_dir=tmp_path / "run2", **(FAST | {"train__lr": 0.01}))
    with pytest.raises(ValueError, match="another configuration.*train.lr"):
        T.train_student(cfg2, "distill", 0, out_dir=tmp_path / "b", frame=fr, resume=True, show_progress=False)


def _toy_run(cfg):
    "A frozen layer and a trainable one, trained and checkpointed as train_student does."
    m = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1)); m[0].requires_grad_(False)
    params, opt, sched = T.make_optimizer(cfg, m)
    acc = T.make_accelerator(cfg)
    m, opt = acc.prepare(m, opt)
    progress = T.TrainProgress()
    T.register_checkpointing(acc, sched, progress)
    def step():
        m(torch.randn(4, 3)).pow(2).mean().backward(); opt.step(); sched.step(); opt.zero_grad()
        progress.step += 1; progress.log.append({"step": progress.step})
    return acc, m, opt, sched, progress, step


def test_checkpoint_is_atomic_restores_everything_and_skips_the_frozen_weights(tmp_path):
    from safetensors.torch import load_file
    cfg = Config.load("tiny", run_dir=tmp_path / "run", train__steps=10, train__warmup_ratio=0.2)
    acc, m, opt, sched, progress, step = _toy_run(cfg)
    sig = T.train_signature(cfg, "distill", 0)
    step()
    ck = T.save_training_state(acc, tmp_path / "checkpoint", sig)
    assert sorted(load_file(ck / "model.safetensors")) == ["1.bias", "1.weight"]
    w1, draws = m[1].weight.detach().clone(), (torch.rand(3).tolist(), np.random.rand())
    step()
    progress.state_dict = lambda: 1 / 0                       # a save failing half-way (the progress is saved last)
    with pytest.raises(ZeroDivisionError):
        T.save_training_state(acc, ck, sig)
    del progress.state_dict
    assert [p.name for p in tmp_path.iterdir() if "checkpoint" in p.name] == ["checkpoint"]   # no temp folder
    frozen = m[0].weight.detach().clone()
    acc.load_state(ck)                                         # the step-1 checkpoint, intact
    assert (progress.step, progress.log, sched.last_epoch) == (1, [{"step": 1}], 1)
    assert torch.equal(m[1].weight.detach(), w1) and torch.equal(m[0].weight.detach(), frozen)
    assert (torch.rand(3).tolist(), np.random.rand()) == draws                       # the RNG states too
    with pytest.raises(ValueError, match="differs in: train.lr"):
        T.check_signature(ck, T.train_signature(Config.load("tiny", run_dir=tmp_path / "r2", train__lr=0.5), "distill", 0))


def test_cli_train_bad_inputs(tmp_path, capsys):
    assert main(["train", "--profile", "tiny", "--out", str(tmp_path / "r"), "--method", "mse"]) == 2
    assert "unknown method" in capsys.readouterr().err
    assert main(["train", "--profile", "tiny", "--out", str(tmp_path / "r2"), "--resume"]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_ablation_metrics_names():
    tab = pd.DataFrame([{"ablation": "base", "seed": 0, "ndcg_at_10": 0.1, "mrr_at_10": 0.05},
                        {"ablation": "distill", "seed": 0, "ndcg_at_10": 0.5, "mrr_at_10": 0.4},
                        {"ablation": "distill", "seed": 1, "ndcg_at_10": 0.3, "mrr_at_10": 0.2}])
    m = T.ablation_metrics(tab)
    assert m["dev_ndcg_at_10_distill_seed1"] == 0.3 and m["dev_ndcg_at_10_distill_mean"] == pytest.approx(0.4)
    assert m["dev_mrr_at_10_base_seed0"] == 0.05


def test_usable_rows_counts_short_rows():
    df = pd.DataFrame({"negatives": [["a", "b"], ["a"], []]})
    ok, short = T.usable_rows(df, 2)
    assert len(ok) == 1 and short == 2
    assert T.usable_rows(df, 0)[1] == 0
    with pytest.raises(ValueError, match="no training row has 3 negatives"):
        T.usable_rows(df, 3)


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_two_processes_match_one_process_with_the_whole_batch(tmp_path):
    """`accelerate launch --multi_gpu --num_processes 2` (DDP on CPU, gloo) trains the same adapter as one process
    with the whole batch: each rank takes half of the same task-homogeneous global batch, the ranks gather each
    other's embeddings (so every query sees the negatives of both halves) and DDP averages the gradients. The two
    processes also use GradCache (one text a chunk, gradients all-reduced on the last chunk only)."""
    import os, shutil, subprocess, sys
    from pathlib import Path
    from safetensors.torch import load_file
    exe = Path(sys.executable).parent
    common = ["--profile", "tiny", "-p", "train.steps=2", "-p", "train.export=false",
              "-p", "model.lora_dropout=0", "-p", "train.checkpoint_every=0"]
    env = os.environ | {"EMBEDDING_LAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    one = tmp_path / "one"
    r = subprocess.run([str(exe / "embedding-lab"), "train", "--out", str(one), *common, "-p", "train.batch_size=4"],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    two = tmp_path / "two"
    for sub in ("data", "mining"):     # the same training set, built once (not raced by the two ranks)
        shutil.copytree(one / "artifacts" / sub, two / "artifacts" / sub)
    # accelerate's --cpu launcher starts ONE process unless mpirun is set up; --multi_gpu starts torch.distributed's
    # launcher, and on a machine without CUDA our Accelerator(cpu=True) then runs DDP over gloo (MULTI_CPU)
    r = subprocess.run([str(exe / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
                        str(exe / "embedding-lab"), "train", "--out", str(two), *common, "-p", "train.batch_size=2",
                        "-p", "train.grad_cache=true", "-p", "train.grad_cache_chunk=1",   # and GradCache, chunk by chunk
                        "-p", "train.checkpoint_every=1"],     # both ranks save_state into one folder, renamed once
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    ck = two / "artifacts" / "train" / "distill-seed0" / "checkpoint"
    assert {"random_states_0.pkl", "random_states_1.pkl", "model.safetensors", "signature.json"} <= {f.name for f in ck.iterdir()}
    assert not list(ck.parent.glob(".checkpoint.*"))
    saved = load_file(ck / "model.safetensors")     # the adapters, named as in one process's model
    assert saved and all("lora_" in k and not k.startswith("module.") for k in saved)
    assert "trained distill for 2 steps" in r.stdout and r.stdout.count("trained distill") == 1   # rank 0 saves
    assert "on 2 processes" in r.stdout
    a = load_file(one / "artifacts" / "ablations" / "distill-seed0" / "adapter_model.safetensors")
    b = load_file(two / "artifacts" / "ablations" / "distill-seed0" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and a
    moved = max(float(v.abs().max()) for k, v in a.items() if "lora_B" in k)
    assert moved > 1e-4                                    # training changed the adapter (lora_B starts at 0)
    la, lb = (json.loads((d / "artifacts" / "train" / "distill-seed0" / "log.json").read_text()) for d in (one, two))
    assert [r["loss"] for r in lb] == pytest.approx([r["loss"] for r in la], rel=1e-5)   # the loss of the whole batch
    assert [r["grad_norm"] for r in lb] == pytest.approx([r["grad_norm"] for r in la], rel=1e-5)   # and its gradient
    # Adam's first steps move every weight by about lr whatever its gradient's size, so float rounding in the
    # near-zero gradient entries (two batches of 2 pad differently from one of 4) shows up at a few % of a step
    diff = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert diff < 0.05 * moved, (diff, moved)
    mean_diff = sum(float((a[k] - b[k]).abs().sum()) for k in a) / sum(v.numel() for v in a.values())
    assert mean_diff < 1e-3 * moved, (mean_diff, moved)


def _arms(values: dict, n_q: int = 60, spread: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    "Results and per-query tables of arms given {(arm, seed): mean}: queries alternate mean +- spread."
    pq = pd.concat([pd.DataFrame({"query": [f"q{i}" for i in range(n_q)], "ablation": a, "seed": s,
                                  "ndcg_at_10": v + spread * np.resize([1.0, -1.0], n_q)}) for (a, s), v in values.items()])
    tab = pq.groupby(["ablation", "seed"], as_index=False, sort=False).ndcg_at_10.mean()
    return tab, pq


def test_compare_arms_one_seed_uses_queries():
    "One seed: the per-query bootstrap interval decides, and a consistent gain is found."
    tab, pq = _arms({("base", 0): 0.2, ("inbatch", 0): 0.1, ("randneg", 0): 0.3})
    c = T.compare_arms(tab, pq).set_index("comparison")
    assert list(c.index) == ["inbatch - base", "randneg - inbatch"]        # the comparisons whose arms ran
    assert c.loc["inbatch - base", "verdict"] == "hurts" and c.loc["inbatch - base", "basis"] == "60 queries"
    assert c.loc["randneg - inbatch", "mean"] == pytest.approx(0.2) and c.loc["randneg - inbatch", "verdict"] == "helps"
    # the same arms, the gain noisy per query: no verdict, only the detectable effect
    noisy = pq.assign(ndcg_at_10=lambda d: d.ndcg_at_10 + np.where(d.ablation == "randneg",
                                                                   np.resize([0.5, -0.5, -0.5, 0.5], len(d)), 0) - np.where(d.ablation == "randneg", 0.19, 0))
    c = T.compare_arms(noisy.groupby(["ablation", "seed"], as_index=False, sort=False).ndcg_at_10.mean(), noisy).set_index("comparison")
    assert c.loc["randneg - inbatch", "verdict"] == "no effect > MDE" and c.loc["randneg - inbatch", "mde"] > 0.01


def test_compare_arms_over_seeds():
    "Several seeds: 'helps' / 'hurts' only when the 95% t-interval of the per-seed differences excludes 0."
    vals = {("base", 0): 0.1}
    for s, (a, b) in enumerate([(0.30, 0.50), (0.32, 0.49), (0.31, 0.52)]):
        vals |= {("randneg", s): a, ("hardneg", s): b}
    c = T.compare_arms(*_arms(vals)).set_index("comparison")
    assert c.loc["hardneg - randneg", "verdict"] == "helps" and c.loc["hardneg - randneg", "ci_low"] > 0
    assert c.loc["hardneg - randneg", "basis"] == "3 seeds" and c.loc["hardneg - randneg", "seed1"] == pytest.approx(0.17)
    flip = {(("randneg" if a == "hardneg" else "hardneg" if a == "randneg" else a), s): v for (a, s), v in vals.items()}
    c = T.compare_arms(*_arms(flip)).set_index("comparison")
    assert c.loc["hardneg - randneg", "verdict"] == "hurts" and c.loc["hardneg - randneg", "ci_high"] < 0
    noisy = {("randneg", s): 0.3 for s in range(3)} | {("hardneg", s): v for s, v in enumerate([0.5, 0.1, 0.35])}
    assert T.compare_arms(*_arms(noisy)).set_index("comparison").loc["hardneg - randneg", "verdict"] == "no effect > MDE"


def test_compare_arms_pairs_seeds_and_the_base():
    "A seed missing for one arm leaves that seed out; the untrained base is paired with every seed of its partner."
    vals = {("base", 0): 0.1, ("inbatch", 0): 0.1, ("inbatch", 1): 0.2, ("randneg", 1): 0.5}
    c = T.compare_arms(*_arms(vals)).set_index("comparison")
    assert c.loc["randneg - inbatch", "seed1"] == pytest.approx(0.3) and c.loc["randneg - inbatch", "basis"] == "60 queries"
    assert math.isnan(c.loc["randneg - inbatch"].get("seed0", float("nan")))
    assert c.loc["inbatch - base", "basis"] == "2 seeds" and c.loc["inbatch - base", "seed1"] == pytest.approx(0.1)


def test_comparison_metrics_are_numbers():
    m = T.comparison_metrics(T.compare_arms(*_arms({("hardneg", 0): 0.5, ("randneg", 0): 0.4})))
    assert set(m) == {f"dev_ndcg_at_10_gain_hardneg_over_randneg_{k}" for k in ("mean", "ci_low", "ci_high", "mde",
                                                                                            "query_ci_low", "query_ci_high", "query_mde")}
    assert all(isinstance(v, float) for v in m.values())


def test_a_killed_ablation_resumes_arm_by_arm(tmp_path, monkeypatch):
    "Each scored arm is kept as it finishes: a rerun after a kill trains only the arms that had not finished."
    cfg = Config.load("tiny", run_dir=tmp_path / "run", train__ablations=["base", "distill"], train__export=False, **FAST)
    fr = _frame(cfg)
    monkeypatch.setattr(T, "training_frame", lambda c: fr)
    real, calls, scored = T.train_arm, [], []
    def arm(c, name, s, *a, **k):
        calls.append(name)
        if len(calls) == 1: raise KeyboardInterrupt                  # killed while training the first arm
        return real(c, name, s, *a, **k)
    real_eval = T.eval_dev
    monkeypatch.setattr(T, "train_arm", arm)
    monkeypatch.setattr(T, "eval_dev", lambda *a, **k: scored.append(1) or real_eval(*a, **k))
    with pytest.raises(KeyboardInterrupt): T.run_ablations(cfg, show_progress=False)
    assert (calls, len(scored)) == (["distill"], 1) and T.kept_arm(cfg, "base", 0) is not None
    table, per_query, logs = T.run_ablations(cfg, show_progress=False)     # resumed: the base is read back
    assert (calls, len(scored)) == (["distill", "distill"], 2)
    assert table.ablation.tolist() == ["base", "distill"] and set(logs) == {"distill-seed0"}
    again = T.run_ablations(cfg, show_progress=False)                      # all kept: nothing trains or scores
    assert (len(calls), len(scored)) == (2, 2)
    pd.testing.assert_frame_equal(again[0], table); pd.testing.assert_frame_equal(again[1], per_query)
    assert T.kept_arm(cfg.updated({"train.lr": 0.01}), "base", 0) is None      # other settings: scored again


def test_the_zero_shot_arm_is_also_compared_on_queries_without_examples(tmp_path, monkeypatch):
    "distill and zeroshot are scored twice, with the recipe's k examples per dev query and with none: two comparisons."
    cfg = Config.load("tiny", run_dir=tmp_path / "run", train__ablations=["distill", "zeroshot"], train__export=False,
                      **(FAST | {"train__few_shot_max": 1}))
    fr = _frame(cfg)
    monkeypatch.setattr(T, "training_frame", lambda c: fr)
    shots, real = [], T.eval_dev
    monkeypatch.setattr(T, "eval_dev", lambda c, *a, **k: shots.append(c.train.few_shot_max) or real(c, *a, **k))
    table, per_query, _ = T.run_ablations(cfg, show_progress=False)
    assert shots == [1, 0, 1, 0]                                   # each arm: as the recipe queries, then without examples
    assert table[["ndcg_at_10_0shot", "mrr_at_10_0shot"]].notna().all().all() and per_query.ndcg_at_10_0shot.notna().all()
    c = T.compare_arms(table, per_query, n_boot=200)
    assert c.comparison.tolist() == ["distill - zeroshot", "distill - zeroshot @0-shot"]
    assert {"dev_ndcg_at_10_gain_distill_over_zeroshot_0shot_mean", "dev_ndcg_at_10_0shot_zeroshot_seed0"} <= \
        set(T.comparison_metrics(c) | T.ablation_metrics(table))


def test_a_positive_given_twice_in_a_batch_is_not_its_own_negative():
    "Two rows with the same document: neither query is pushed away from it (in-batch InfoNCE masks the copy)."
    from embedding_lab.model import load_embedder
    emb = load_embedder("builtin:smollm2-135m", max_length=16, layers=1)
    b = T.Batch(["q: frogs", "q: frogs in Peru", "q: rain"], ["Frogs in Peru.", "Frogs in Peru.", "Rain tomorrow."],
                [["Stocks fell."], ["A cat."], ["New phone."]], None)
    with torch.no_grad():
        got = T.batch_loss(emb, b, "hardneg")[0].item()
        q = emb.embed(b.queries, keep_end=True); d = emb.embed(b.positives + [n[0] for n in b.negatives])
        logits = (q @ d.T).double() / 0.02
        logits[0, 1] = logits[1, 0] = float("-inf")              # each other's positive is their own
        want = torch.nn.functional.cross_entropy(logits, torch.arange(3)).item()
        unmasked = T.loss_from_embeddings("hardneg", q, d, 3, 1, None, 0.02, 0.02, 1.0)[0].item()
    assert got == pytest.approx(want, rel=1e-4) and unmasked > got
