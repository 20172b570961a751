"Test doubles shared by the tests (not library code)."
import hashlib, re
import numpy as np
import pandas as pd


class HashEmbedder:
    "A deterministic hashed bag of words with the student's `.encode` signature; it follows no instruction."
    follows_instructions = False

    def __init__(self, dim: int = 64, name: str = "hash-bow"):
        self.dim, self.name = dim, name

    def encode(self, texts, instruction=None, batch_size=16, examples=None, show_progress=False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest()[:8], 16) % self.dim] += 1
        out[:, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def standin_mined(train: pd.DataFrame, n_neg: int = 7, seed: int = 0) -> pd.DataFrame:
    "A frame with the mined-set columns: random in-split negatives, random teacher scores (positive highest)."
    rng = np.random.default_rng(seed)
    pos = train.positive.tolist(); rows = []
    for i, r in enumerate(train.to_dict("records")):
        others = [j for j in rng.choice(len(pos), size=min(len(pos), n_neg + 1), replace=False) if j != i][:n_neg]
        sc = np.sort(rng.uniform(0, 0.8, len(others)))[::-1]
        rows.append({**{k: r.get(k) for k in ("id", "query", "positive", "instruction", "task", "kind")},
                     "negatives": [pos[j] for j in others], "teacher_scores": [1.0] + sc.tolist()})
    return pd.DataFrame(rows)
