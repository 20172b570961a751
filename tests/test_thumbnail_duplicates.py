"Thumbnail study: each item once, and an 'incongruent' swap never shows an item its own (or an identical) image."
import io
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from embedding_lab import thumbnail as th
from embedding_lab.core import Config


def _png(path, colour):
    a = np.zeros((16, 16, 3), np.uint8) + np.array(colour, np.uint8)
    Image.fromarray(a).save(path)


@pytest.mark.parametrize("seed", range(10))
def test_swaps_never_use_an_identical_image(seed):
    rng = np.random.default_rng(seed)
    keys = rng.choice(list("abcdefgh"), size=32)                 # 32 headlines over 8 photos
    p = th.swap_partners(len(keys), seed, keys=keys)
    assert sorted(p) == list(range(32)) and not (keys[p] == keys).any()
    topics = np.arange(32) % 3
    pt = th.swap_partners(len(keys), seed, topics, keys)
    ok = pt >= 0
    assert not (keys[pt[ok]] == keys[ok]).any() and not (topics[pt[ok]] == topics[ok]).any()


def test_make_pairs_with_shared_photos():
    df = pd.DataFrame({"key": ["k0", "k0", "k0", "k1", "k2", "k2"], "topic": "", "split": "test"})
    pairs = th.make_pairs(df, seed=0)
    sw = pairs[pairs.label == 1]
    assert len(sw) and (sw.key != sw.img_key).all()


def test_study_items_drops_repeats_and_names_problems(tmp_path):
    for i in range(3): _png(tmp_path / f"{i}.png", (60 * i, 10, 10))
    rows = [{"title": "Harbour opens", "image": "0.png"}, {"title": "Council meets", "image": "1.png"},
            {"title": "Harbour opens", "image": "0.png"}, {"title": "School closes", "image": "2.png"},
            {"title": "Missing photo", "image": "none.png"}]
    pd.DataFrame(rows).to_csv(tmp_path / "items.csv", index=False)
    cfg = Config.load("tiny", run_dir=tmp_path / "run")
    with pytest.raises(th.ThumbnailError) as e:                  # 3 distinct items: fewer than 4
        th.study_items(cfg, tmp_path / "items.csv", None)
    msg = str(e.value)
    assert "only 3 usable item(s)" in msg and "see the problems listed" not in msg
    assert "items.csv:4: duplicate item (the same title and image as line 2)" in msg
    assert "items.csv:6: image missing: none.png" in msg
    rows.append({"title": "River floods", "image": "1.png"})      # another headline of a used photo: an item of its own
    pd.DataFrame(rows).to_csv(tmp_path / "items.csv", index=False)
    items, problems, metrics = th.study_items(cfg, tmp_path / "items.csv", None)
    assert items.title.tolist() == ["Harbour opens", "Council meets", "School closes", "River floods"]
    assert metrics["duplicate_items"] == 1 and metrics["rows_skipped"] == 2
