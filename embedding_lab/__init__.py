"""Reproducible notebooks for LLM text embeddings (LGAI-Embedding style) and CLIP thumbnail studies

Modules:

- `embedding_lab.train`: InfoNCE over in-batch and mined hard negatives, plus KL to the teacher's soft labels; an accelerate loop that checkpoints and resumes; an ablation that asks one question per comparison."""

__version__ = "0.1.0"
