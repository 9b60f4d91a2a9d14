#!/usr/bin/env bash
# The GPU check for a lent device machine (the `device` tool runs it from the repository root;
# $OUT comes back).  The image has numba-cuda and PyTorch with CUDA; nothing is downloaded.
# About 5-8 minutes: run it with timeout_s of about 540 so that one rerun fits the budget.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
{
  nvidia-smi || true
  python -c "import numba, numba.cuda as c; print('numba', numba.__version__); c.detect()"
} > "$OUT/env.txt" 2>&1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"   # lstmkit from this tree, nothing installed
# the kernels and the GPU path on the real device (not the simulator)
LSTMKIT_TEST_GPU=device timeout 240 python -m pytest -q -p no:cacheprovider \
  tests/kernels/test_cuda_lstm.py tests/kernels/test_cuda_gru.py tests/test_gpu_training.py \
  > "$OUT/tests.txt" 2>&1
echo "tests rc=$?" >> "$OUT/tests.txt"
timeout 300 python benchmarks/gpu.py --rounds 1 --out "$OUT/gpu.md" > "$OUT/bench.txt" 2>&1
echo "bench rc=$?" >> "$OUT/bench.txt"
tail -3 "$OUT/tests.txt"; cat "$OUT/gpu.md" 2>/dev/null || tail -20 "$OUT/bench.txt"
