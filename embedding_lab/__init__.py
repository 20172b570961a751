"""Reproducible notebooks for LLM text embeddings (LGAI-Embedding style) and CLIP thumbnail studies

Modules:

- `embedding_lab.train`: InfoNCE over in-batch and mined hard negatives, plus KL to the teacher's soft labels; an accelerate loop that checkpoints and resumes; the ablation that shows what each ingredient adds."""

__version__ = "0.1.0"
