#!/usr/bin/env bash
# The project's GPU measurements in one run (a few minutes on one H100/H200): LoRA training throughput and MFU of
# the Mistral-7B architecture (bench_train_gpu.py: recipe / no-checkpointing / compiled layers), the project's own
# GradCache step, bf16 encoding throughput. Writes JSON rows and the log to $OUT (default: benchmarks/out).
# Usage: bash benchmarks/gpu_check.sh [TOKENIZER_DIR]   (default: the builtin SmolLM2's tokenizer)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-benchmarks/out}"; mkdir -p "$OUT"
PY="${PYTHON:-python3}"
TOK=${1:+--tokenizer "$1"}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || exit 2
  $PY -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__)"
  $PY benchmarks/bench_train_gpu.py --parts raw --settings recipe,nockpt,nockpt-bf16 --batches 8,12,32 $TOK --json "$OUT/gpu_raw.json"
  $PY benchmarks/bench_train_gpu.py --parts encode,project $TOK --json "$OUT/gpu_project.json"
  timeout 240 $PY benchmarks/bench_train_gpu.py --parts raw --settings compile-bf16 --batches 8,12 $TOK --json "$OUT/gpu_compile.json"
  echo "gpu_check: done"
} 2>&1 | tee "$OUT/gpu_log.txt"
