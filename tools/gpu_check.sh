#!/usr/bin/env bash
# GPU check: CuPy and Torch-CUDA parity tests plus the kernel benchmark, on a machine with a
# CUDA GPU (about 5 minutes). Without a GPU the parity tests skip with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
if ! "$VENV/bin/python" -c "import cupy" 2>/dev/null; then
  echo "gpu_check: installing the gpu extra (cupy-cuda13x)"
  "$VENV/bin/python" -m pip install --quiet -e '.[gpu]' || echo "gpu_check: cupy install failed; CuPy tests will skip"
fi
nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null || echo "gpu_check: no nvidia-smi (no GPU?)"
NUMBA_THREADING_LAYER=workqueue timeout 240 "$VENV/bin/python" -m pytest -q -rs tests/kernels/test_backend_parity.py
timeout 120 "$VENV/bin/drivestack" bench kernels --quick --repeats 3 --json "${OUT:-out}/bench_kernels_gpu.json"
