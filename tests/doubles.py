"Test doubles shared by the tests (not library code)."
import hashlib, re
import numpy as np


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
