"""Every CUDA kernel compiles to PTX for a real GPU (sm_90, the H200's), where NVVM is installed.

The simulator runs kernels as Python and never types or lowers them for the
device; this does, in a subprocess without the simulator (no GPU or driver
needed: only NVVM, which the ``gpu`` and ``test`` extras install).
"""

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba_cuda")

SCRIPT = """
import numba.cuda.dispatcher as disp
class Device:                       # device functions ask the current device for its cc
    compute_capability = (9, 0)
disp.get_current_device = lambda: Device()
from numba import cuda, types
try:
    from numba.cuda.cudadrv.nvvm import NVVM
    NVVM()
except Exception as exc:
    print("no NVVM:", exc)
    raise SystemExit(0)
from lstmkit.kernels.cuda import dense, gru, lstm
t = types.{dtype}
A2, C2, A1 = t[:, :], t[:, ::1], t[::1]
V1 = t[:]
i64, b = types.int64, types.boolean
I1 = types.int64[::1]
kernels = [
    (lstm._gates_forward, (C2, C2, C2, C2, C2, A1, i64, i64, i64, i64, b)),
    (lstm._gates_backward, (C2, C2, C2, C2, C2, C2, A1, C2, i64, i64, i64, i64, i64, b)),
    (dense._matmul, (A2, A2, A2, A1, b)),
    (dense._column_sums, (C2, V1)),
    (dense._gather_rows, (C2, C2, I1, C2)),
    (dense._copy_block, (A2, A2, i64, i64)),
    (dense._add_into, (C2, A2)),
    (gru._after_forward, (C2, C2, A1, A1, C2, C2, C2, i64, i64, i64, i64)),
    (gru._before_gates, (C2, C2, A1, A1, C2, C2, i64, i64, i64)),
    (gru._before_update, (C2, A2, A1, C2, C2, i64, i64, i64)),
    (gru._unit_backward, (C2, C2, C2, C2, C2, C2, C2, C2, i64, i64, i64, i64, i64)),
    (gru._before_reset_backward, (C2, C2, C2, C2, i64, i64, i64)),
    (gru._add_two, (C2, C2, C2, i64)),
    (gru._zero, (V1,)),
]
for kernel, sig in kernels:
    ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))
    assert ".entry" in ptx, kernel
print("ok", len(kernels))
"""


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_kernel_compiles_for_sm90(dtype):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(dtype=dtype)],
                          capture_output=True, text=True, env=env, timeout=900)
    if done.stdout.startswith("no NVVM"):
        pytest.skip("NVVM (the CUDA toolkit's compiler) is not installed: "
                    "pip install 'numba-cuda[cu12]'")
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-3000:]
