"""Loaded by pytest before anything imports Numba: the GPU kernels' tests run on Numba's CUDA
simulator unless LSTMKIT_TEST_GPU=device asks for the real device (a machine with a GPU)."""

import os

if os.environ.get("LSTMKIT_TEST_GPU", "").lower() != "device":
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
