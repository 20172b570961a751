"""Tests of embedding_lab.suite and embedding_lab.mteb_eval: encoder protocol, offline tasks, Borda / means, reference means, bad inputs."""
import contextlib, io, json, math, os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from embedding_lab.core import Config
from embedding_lab import suite as bm
from embedding_lab import mteb_eval as me
from doubles import HashEmbedder
from embedding_lab.cli import main


class RecordingEmbedder(HashEmbedder):
    "Hash embedder that records the instruction and texts of every encode call."
    def __init__(self):
        super().__init__(32, "recording")
        self.calls = []
    def encode(self, texts, instruction=None, batch_size=16, examples=None, show_progress=False):
        self.calls.append((instruction, list(texts), examples))
        return super().encode(texts, instruction, batch_size, examples, show_progress)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    from embedding_lab.report import ensure_inputs
    c = Config.load("tiny", run_dir=tmp_path_factory.mktemp("run"), mteb__max_items=10)
    ensure_inputs(c, "07_mteb")
    return c


def _meta(name):
    import mteb
    return mteb.get_task(name).metadata


# ---------------------------------------------------------------- encoder protocol
def test_encoder_protocol_instructions_and_cache():
    from mteb.models.models_protocols import EncoderProtocol
    from mteb.types import PromptType
    emb = RecordingEmbedder()
    enc = me.MtebEncoder(emb, show_progress=False)
    assert isinstance(enc, EncoderProtocol)
    assert enc.mteb_model_meta.similarity_fn_name.value == "cosine"
    batches = [{"text": ["a cat", "a dog"]}, {"text": ["a cat"]}]
    q = enc.encode(batches, task_metadata=_meta("ArguAna"), hf_split="test", hf_subset="default", prompt_type=PromptType.query)
    assert q.shape == (3, 32) and np.allclose(q[0], q[2])
    assert emb.calls[-1][0] == bm.INSTRUCTIONS["ArguAna"] and emb.calls[-1][1] == ["a cat", "a dog"]   # repeated text once
    d = enc.encode([{"text": ["a cat"]}], task_metadata=_meta("ArguAna"), hf_split="test", hf_subset="default",
                   prompt_type=PromptType.document)
    assert emb.calls[-1][0] is None                      # documents are bare
    n = len(emb.calls)
    enc.encode(batches, task_metadata=_meta("ArguAna"), hf_split="test", hf_subset="default", prompt_type=PromptType.query)
    assert len(emb.calls) == n                           # served from the embedding cache
    enc.encode([{"text": ["x y"]}], task_metadata=_meta("STS12"), hf_split="test", hf_subset="default", prompt_type=None)
    assert emb.calls[-1][0] == bm.INSTRUCTIONS["STS12"]  # symmetric tasks: instruction on every input
    sims = np.asarray(enc.similarity(q, d))
    assert sims.shape == (3, 1) and abs(sims[0, 0] - 1) < 1e-5


def test_few_shot_examples_reach_queries_only():
    from mteb.types import PromptType
    emb = RecordingEmbedder()
    enc = me.MtebEncoder(emb, examples={"ArguAna": [("q1", "p1")]}, show_progress=False)
    enc.encode([{"text": ["z"]}], task_metadata=_meta("ArguAna"), hf_split="test", hf_subset="default", prompt_type=PromptType.query)
    assert emb.calls[-1][2] == [("q1", "p1")]
    enc.encode([{"text": ["z"]}], task_metadata=_meta("ArguAna"), hf_split="test", hf_subset="default", prompt_type=PromptType.document)
    assert emb.calls[-1][2] is None


def test_instructions_cover_the_benchmark():
    import mteb
    names = [t.metadata.name for t in mteb.get_benchmark(bm.MTEB_ENG_V2).tasks]
    assert len(names) == 41 and set(names) <= set(bm.INSTRUCTIONS)
    assert set(bm.SUITE_NAMES) <= set(bm.SUITE_INSTRUCTIONS)
    assert all(v.strip() for v in bm.INSTRUCTIONS.values())


def test_not_an_embedder():
    with pytest.raises(TypeError, match="not an embedder"):
        me.MtebEncoder(object())


# ---------------------------------------------------------------- offline tasks
def test_each_offline_task_loads_from_the_test_split(cfg):
    tasks = bm.suite_tasks(cfg)
    assert [t.metadata.name for t in tasks] == list(bm.SUITE_NAMES)
    test = pd.read_parquet(cfg.artifact("data", "test.parquet"))
    rt = pd.read_parquet(cfg.artifact("data", "rotten_tomatoes.parquet"))
    for t in tasks:
        t.load_data()
        assert t.data_loaded
    by = {t.metadata.name: t for t in tasks}
    r = by["EmbLabNewsRetrieval"].dataset["default"]["test"]
    assert 0 < len(r["queries"]) <= 10 and set(r["queries"]["text"]) <= set(test["query"])
    assert set(r["corpus"]["text"]) <= set(test.positive)
    rr = by["EmbLabNewsReranking"].dataset["default"]["test"]
    assert all(v[0] == k.replace("q", "d") and len(v) > 1 for k, v in rr["top_ranked"].items())
    sts = by["EmbLabLeeSTS"].dataset["test"]
    assert len(sts) == 1225 and min(sts["score"]) >= 0 and max(sts["score"]) <= 1    # every pair: 50 documents to embed
    cl = by["EmbLabRottenTomatoesClassification"].dataset
    assert set(cl["test"]["text"]) <= set(rt[rt.split == "test"].text)
    assert set(cl["train"]["text"]) <= set(rt[rt.split == "train"].text)
    assert set(cl["test"]["label"]) <= {0, 1}
    cu = by["EmbLabNewsSourceClustering"].dataset["test"]
    assert set(cu["sentences"]) <= set(test.positive) and len(set(cu["labels"])) >= 2
    pc = by["EmbLabHeadlineLeadPairClassification"].dataset["test"]
    assert sum(pc["labels"]) == len(pc) // 2 and set(pc["sentence2"]) <= set(test.positive)


def test_suite_tasks_are_instances_and_mteb_registry_untouched(cfg):
    import mteb
    tasks = bm.suite_tasks(cfg)
    assert [type(t).__name__ for t in tasks] == list(bm.SUITE_NAMES)
    with pytest.raises(KeyError):
        mteb.get_task("EmbLabLeeSTS")                      # passed to mteb.evaluate directly, never registered
    with pytest.raises(KeyError, match="NoSuchTask"):
        bm.suite_tasks(cfg, ["NoSuchTask"])


def test_suite_scores_and_resume(cfg, tmp_path):
    enc = me.MtebEncoder(HashEmbedder(64), show_progress=False)
    s1 = me.evaluate_model(enc, bm.suite_tasks(cfg), tmp_path, show_progress=False)
    assert len(s1) == 6 and s1.main_score.between(0, 100).all()
    n = enc.encoded
    s2 = me.evaluate_model(enc, bm.suite_tasks(cfg), tmp_path, show_progress=False)
    assert enc.encoded == n                             # every task came from mteb's result cache
    assert np.allclose(s1.main_score, s2.main_score)


# ---------------------------------------------------------------- Borda and means
HAND = pd.DataFrame({"model": list("ABC") * 3, "task": ["t1"] * 3 + ["t2"] * 3 + ["t3"] * 3,
                     "task_type": ["X"] * 6 + ["Y"] * 3,
                     "main_score": [90, 80, 70, 50, 50, 60, 10, 30, 20]})


def test_borda_hand_checked():
    b = bm.borda(HAND)
    # t1: A 2 B 1 C 0; t2: C 2, A and B tie for rank 2.5 -> 0.5 each; t3: B 2 C 1 A 0
    assert b.borda_points.to_dict() == {"A": 2.5, "B": 3.5, "C": 3.0}
    assert b.borda_rank.to_dict() == {"A": 3, "B": 1, "C": 2}
    tie = bm.borda(pd.DataFrame({"model": ["A", "B"], "task": ["t", "t"], "task_type": "X", "main_score": [1, 1]}))
    assert tie.borda_points.tolist() == [0.5, 0.5] and tie.borda_rank.tolist() == [1, 1]
    miss = bm.borda(HAND.drop(index=8))                  # C has no t3: 0 points there, others still n - rank
    assert miss.borda_points.to_dict() == {"A": 3.5, "B": 3.5, "C": 2.0}


def test_means_hand_checked():
    m = bm.task_means(HAND)
    assert m.loc["B", "mean_task"] == pytest.approx((80 + 50 + 30) / 3)
    assert m.loc["B", "mean_type"] == pytest.approx(((80 + 50) / 2 + 30) / 2)
    assert m.loc["B", "X"] == 65 and m.loc["B", "Y"] == 30
    m2 = bm.task_means(HAND.drop(index=8), tasks=["t1", "t2", "t3"])
    assert math.isnan(m2.loc["C", "mean_task"]) and m2.loc["C", "n_tasks"] == 2


# ---------------------------------------------------------------- reference means (REFERENCES.md)
PUBLISHED = {  # model: (Mean(task), Mean(type))
    "annamodels/LGAI-Embedding-Preview": (74.12, 68.40),
    "Qwen/Qwen3-Embedding-8B": (75.22, 68.71),
    "Qwen/Qwen3-Embedding-4B": (74.60, 68.10),
    "google/gemini-embedding-001": (73.30, None),
    "Alibaba-NLP/gte-Qwen2-7B-instruct": (70.72, 65.77),
    "nvidia/NV-Embed-v2": (69.81, 65.00),
    "Linq-AI-Research/Linq-Embed-Mistral": (69.80, 65.29),
    "Salesforce/SFR-Embedding-Mistral": (69.31, 64.94),
    "intfloat/e5-mistral-7b-instruct": (67.97, 64.00),
}


def test_reference_means_match_published():
    lb = bm.leaderboard_table()
    # published figures are 2-decimal roundings (or truncations: Qwen3-8B 75.2256 is quoted 75.22)
    for model, (mt, mty) in PUBLISHED.items():
        assert lb.loc[model, "mean_task"] == pytest.approx(mt, abs=0.01), model
        if mty is not None: assert lb.loc[model, "mean_type"] == pytest.approx(mty, abs=0.01), model
    assert (round(lb.loc["annamodels/LGAI-Embedding-Preview", "mean_task"], 2),
            round(lb.loc["annamodels/LGAI-Embedding-Preview", "mean_type"], 2)) == (74.12, 68.40)
    lg = lb.loc["annamodels/LGAI-Embedding-Preview"]
    for col, v in {"Classification": 89.97, "Clustering": 59.25, "PairClassification": 88.67, "Reranking": 49.13,
                   "Retrieval": 66.18, "STS": 86.69, "Summarization": 38.93}.items():
        assert round(lg[col], 2) == pytest.approx(v, abs=0.006), col
    assert lb.loc["annamodels/LGAI-Embedding-Preview", "n_tasks"] == 41
    assert math.isnan(lb.loc["BAAI/bge-en-icl", "mean_task"])    # incomplete peers have no mean
    assert lb.borda_rank.min() == 1 and len(lb) == 18


# ---------------------------------------------------------------- full-benchmark path on mteb's mock tasks
def test_benchmark_path_on_mock_tasks(tmp_path, monkeypatch):
    from mteb.mocks.mock_tasks import (MockRetrievalTask, MockSTSTask, MockClassificationTask, MockPairClassificationTask,
                                       MockRerankingTask, LegacyMockClusteringFastTask, MockSummarizationTask)
    tasks = [MockRetrievalTask(), MockSTSTask(), MockClassificationTask(), MockPairClassificationTask(),
             MockRerankingTask(), LegacyMockClusteringFastTask(), MockSummarizationTask()]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bm.check_datasets(tasks)                             # in-memory tasks need no hub
    enc = me.MtebEncoder(HashEmbedder(32, "mock-model"), show_progress=False)
    cache = tmp_path / "cache"
    s = me.evaluate_model(enc, tasks, cache, show_progress=False)
    assert len(s) == 7 and set(s.task) == {t.metadata.name for t in tasks}
    assert s[s.task != "MockSummarizationTask"].main_score.notna().all()   # 2-item mock summaries: Spearman is NaN
    n = enc.encoded
    s2 = me.evaluate_model(enc, tasks, cache, show_progress=False)
    assert enc.encoded == n and np.allclose(s.main_score, s2.main_score, equal_nan=True)
    got = bm.read_results(cache)                         # the result files mteb wrote read back
    assert set(got.task) == {t.metadata.name for t in tasks}
    assert got.model.unique().tolist() == ["embedding-lab/mock-model"]


def test_eval_fails_at_once_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "empty-ds"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rc = main(["eval", "--model", "/no/such/model", "--tasks", "STS12", "ArguAna", "--profile", "tiny",
                      "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "STS12: mteb/sts12-sts@" in err and "ArguAna" in err and "not in the local HF cache" in err
    rc = main(["eval", "--model", "x", "--tasks", "NoSuchTask", "--profile", "tiny", "--out", str(tmp_path / "run")])
    assert rc == 2 and "unknown task 'NoSuchTask'" in capsys.readouterr().err


# ---------------------------------------------------------------- bad inputs
def test_model_path_that_is_not_an_embedder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="is not an embedder"):
        me.load_model(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        me.load_model(tmp_path / "missing")
    rc = main(["eval", "--model", str(tmp_path), "--suite", "offline", "--profile", "tiny", "--out", str(tmp_path / "run")])
    assert rc == 2 and "is not an embedder" in capsys.readouterr().err


def test_results_from_another_mteb_version(tmp_path, capsys):
    f = tmp_path / "results" / "my__model" / "rev" / "STS12.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"task_name": "STS12", "mteb_version": "1.12.41", "dataset_revision": "a",
                             "scores": {"test": [{"main_score": 0.7, "hf_subset": "default"}]}}))
    with pytest.raises(bm.ResultsError, match=r"STS12.json: written by mteb 1\.12\.41"):
        bm.read_results(tmp_path)
    assert main(["leaderboard", "--results", str(tmp_path)]) == 2
    assert "mteb 1.12.41" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("[1, 2]")
    f.unlink()
    with pytest.raises(bm.ResultsError, match="bad.json: not an mteb task result"):
        bm.read_results(tmp_path)


def test_leaderboard_merges_user_results(tmp_path, capsys):
    import mteb
    f = tmp_path / "results" / "me__student" / "rev" / "STS12.json"
    f.parent.mkdir(parents=True)
    f.write_text(json.dumps({"task_name": "STS12", "mteb_version": mteb.__version__, "dataset_revision": "a",
                             "scores": {"test": [{"main_score": 0.999, "hf_subset": "default"}]}}))
    lb = bm.leaderboard_table(tmp_path)
    assert "me/student" in lb.index and lb.loc["me/student", "n_tasks"] == 1
    assert math.isnan(lb.loc["me/student", "mean_task"])
    assert lb.loc["me/student", "borda_points"] == 18          # best of 19 models on STS12, 0 elsewhere
    assert main(["leaderboard"]) == 0
    out = capsys.readouterr().out
    assert "LGAI-Embedding-Preview" in out and "Borda points" in out and "me/student" not in out


def test_cli_eval_offline_suite(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["eval", "--model", "minilm", "--suite", "offline", "--tasks", "EmbLabNewsRetrieval", "EmbLabLeeSTS",
                      "--profile", "tiny", "--out", str(out), "-p", "mteb.max_items=6"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "EmbLabNewsRetrieval" in text and "Mean(task)" in text
    scores = pd.read_csv(out / "artifacts" / "mteb" / "eval_scores.csv")
    assert len(scores) == 2 and scores.main_score.between(-100, 100).all()
    assert any((out / "artifacts" / "mteb" / "cache" / "results").rglob("EmbLabLeeSTS.json"))


def test_suite_examples_come_from_train(cfg):
    ex = bm.suite_examples(cfg, 2)
    train = pd.read_parquet(cfg.artifact("data", "train.parquet"))
    assert len(ex["EmbLabNewsRetrieval"]) == 2
    assert all(any(t.startswith(q[:50]) for t in train["query"]) for q, _ in ex["EmbLabNewsRetrieval"])
    assert set(ex) == set(bm.SUITE_NAMES) and all(len(v) == 2 for v in ex.values())   # every task type
    rt = pd.read_parquet(cfg.artifact("data", "rotten_tomatoes.parquet"))
    train_rt = set(rt[rt.split == "train"].text.map(lambda t: t[:40]))
    assert all(q[:40] in train_rt for q, _ in ex["EmbLabRottenTomatoesClassification"])   # train movies only
    test_texts = set(pd.read_parquet(cfg.artifact("data", "test.parquet")).positive)
    assert not any(p in test_texts or q in test_texts for v in ex.values() for q, p in v)
    assert bm.suite_examples(cfg, 2) == ex                                                # drawn once, seeded


def _mteb_scores(model, tasks):
    import mteb
    res = mteb.evaluate(model, tasks, cache=None, show_progress_bar=False, co2_tracker=False,
                        encode_kwargs={"batch_size": 16, "show_progress_bar": False})
    return {tr.task_name: 100 * float(tr.get_score()) for tr in res.task_results}


def test_eval_of_a_sentence_transformers_folder_equals_mteb_own(tmp_path, capsys):
    "A sentence-transformers folder goes through mteb's own wrapper; all-MiniLM-L6-v2 scores as mteb.evaluate gives."
    from sentence_transformers import SentenceTransformer
    from embedding_lab.core import asset_path
    names = ["EmbLabHeadlineLeadPairClassification", "EmbLabNewsRetrieval"]   # both cut to max_items (Lee STS: 1,225 pairs)
    path = asset_path("minilm")
    common = ["--suite", "offline", "--tasks", *names, "--profile", "tiny", "-p", "mteb.max_items=10"]
    assert main(["eval", "--model", str(path), "--out", str(tmp_path / "a"), *common]) == 0
    ours = pd.read_csv(tmp_path / "a" / "artifacts" / "mteb" / "eval_scores.csv").set_index("task").main_score
    tasks = bm.suite_tasks(Config.load("tiny", run_dir=tmp_path / "a"), names)
    theirs = _mteb_scores(SentenceTransformer(str(path), device="cpu"), tasks)
    for t in names: assert ours[t] == pytest.approx(theirs[t], abs=1e-3)
    # the builtin name (this project's wrapper: no instruction for MiniLM) gives the same numbers
    assert main(["eval", "--model", "minilm", "--out", str(tmp_path / "b"), *common]) == 0
    ours_b = pd.read_csv(tmp_path / "b" / "artifacts" / "mteb" / "eval_scores.csv").set_index("task").main_score
    for t in names: assert ours_b[t] == pytest.approx(theirs[t], abs=1e-3)
    # a hub id with the hub offline fails at once, naming it
    capsys.readouterr()
    assert main(["eval", "--model", "someorg/not-cached-model", "--out", str(tmp_path / "c"), *common]) == 2
    err = capsys.readouterr().err
    assert "someorg/not-cached-model" in err and "offline" in err


def test_the_student_scores_the_same_in_mteb_and_in_eval(tmp_path):
    "The exported student's prompts are keyed by mteb's task names: mteb's wrapper on the folder equals the project's encoder."
    from sentence_transformers import SentenceTransformer
    from embedding_lab.data import format_query
    from embedding_lab.local_tasks import local_task
    from embedding_lab.model import load_embedder, export_student
    from embedding_lab.suite import INSTRUCTIONS
    cfg = Config.load("tiny", run_dir=tmp_path / "run", overrides=["model.max_length=256"])
    from embedding_lab.report import ensure_inputs
    ensure_inputs(cfg, "04_model")
    base = load_embedder(cfg.model.base, max_length=256)
    export_student(base.model, base.tokenizer, cfg.artifact("student", "x").parent, max_length=256)
    st = me.complete_student(cfg)
    assert (st / "README.md").read_text().startswith("---\nlibrary_name: sentence-transformers")
    theirs = _mteb_scores(me.mteb_st_model(st), [local_task("BIOSSES", max_items=20)])
    enc = me.MtebEncoder(load_embedder(st), show_progress=False)
    ours = me.evaluate_model(enc, [local_task("BIOSSES", max_items=20)], show_progress=False).set_index("task").main_score
    assert ours["BIOSSES"] == pytest.approx(theirs["BIOSSES"], abs=0.05)
    prompts = SentenceTransformer(str(st), device="cpu").prompts
    assert prompts["BIOSSES"] == format_query("", INSTRUCTIONS["BIOSSES"]) and not [k for k in prompts if k.startswith("EmbLab")]


def test_eval_plan_sizes_a_benchmark_run_without_scoring(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["eval", "--model", "minilm", "--plan", "--tasks", "STS12", "ArguAna", "--gpu-tokens-per-s", "50000",
                        "--profile", "tiny", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "ArguAna" in text and "STS12" in text and "2 tasks" in text and "GPU:" in text and "this CPU:" in text
    assert not (out / "artifacts" / "mteb" / "eval_scores.csv").exists()        # nothing scored, nothing written
    tps, cpt = me.measure_throughput(me.load_model("minilm"), n=16)
    assert tps > 0 and 2 < cpt < 8


def test_clustering_with_one_outlet_is_a_clear_error(tmp_path):
    "A test split too small for the clustering task says so (mteb would fail with an empty sequence)."
    from embedding_lab.report import ensure_inputs
    cfg = Config.load("tiny", run_dir=tmp_path)
    ensure_inputs(cfg, "07_mteb")
    p = cfg.artifact("data", "test.parquet")
    pd.read_parquet(p).head(3).assign(source="one-outlet").to_parquet(p)
    task = bm.suite_tasks(cfg, ["EmbLabNewsSourceClustering"])[0]
    with pytest.raises(ValueError, match=r"test split \(3 pairs\) has 1 outlet"):
        task.load_data()


def test_scoring_refuses_adapters_trained_with_other_settings(tmp_path):
    "07_mteb scores the run's adapters and student only when 05_train made them with this config."
    from embedding_lab.core import StaleOutputError, stamp_output
    cfg = Config.load("tiny", run_dir=tmp_path)
    stamp_output(cfg, "ablations")
    me.models_in_run(cfg)                                               # the same config: fine
    other = Config.load(None, run_dir=tmp_path, overrides=["train.lr=0.5"])
    with pytest.raises(StaleOutputError, match=r"made by 05_train with other settings \(train.lr: 0.001 -> 0.5\)"):
        me.models_in_run(other)
    assert "BM25" in me.models_in_run(other, which=("base", "bm25"))[0]   # what 05 did not train is still scored


def test_eval_again_encodes_nothing_twice(tmp_path, monkeypatch):
    "eval keeps its vectors in mteb's on-disk embedding cache: scoring again (--force) encodes no text; the same scores."
    calls, real = [], me._encode_missing
    monkeypatch.setattr(me, "_encode_missing", lambda enc, todo, *a, **k: calls.append(len(todo)) or real(enc, todo, *a, **k))
    out = tmp_path / "r"
    args = ["eval", "--model", "minilm", "--suite", "local", "--tasks", "BIOSSES", "--max-items", "20", "--out", str(out)]
    assert main(args) == 0 and sum(calls) > 0
    first = pd.read_csv(out / "artifacts" / "mteb" / "eval_scores.csv")
    calls.clear()
    assert main(args + ["--force"]) == 0 and calls == []                   # every vector read back from disk
    pd.testing.assert_frame_equal(pd.read_csv(out / "artifacts" / "mteb" / "eval_scores.csv"), first)
    assert len(list((out / "artifacts" / "mteb" / "embeddings").rglob("vectors.npy"))) == 1


def test_eval_of_a_base_follows_model_layers(tmp_path, monkeypatch):
    "-p model.layers=K scores the base cut to its first K layers (the student's depth), and keys its results by it."
    seen, real = [], me.load_model
    monkeypatch.setattr(me, "load_model", lambda spec, **k: seen.append(k.get("layers")) or real(spec, **k))
    common = ["eval", "--model", "builtin:smollm2-135m", "--suite", "local", "--tasks", "BIOSSES", "--max-items", "10",
              "--profile", "tiny"]
    scores = []
    for k in (1, 2):
        out = tmp_path / f"l{k}"
        assert main(common + ["-p", f"model.layers={k}", "--out", str(out)]) == 0
        scores.append(pd.read_csv(out / "artifacts" / "mteb" / "eval_scores.csv").main_score.iloc[0])
    assert seen == [1, 2] and scores[0] != scores[1]
