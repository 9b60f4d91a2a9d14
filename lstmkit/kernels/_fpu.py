"""Flush-to-zero for the recurrent kernels (subnormals off the hot path).

Sigmoid gates near 0 and cell states or gradients that decay over many time
steps produce subnormal floats, which some CPUs process tens of times more
slowly (oneDNN issue 561).  On x86 the kernels set the FTZ and DAZ bits of
MXCSR on entry and restore the caller's MXCSR on exit, through LLVM's
``stmxcsr``/``ldmxcsr`` intrinsics.  Elsewhere these are no-ops.  Values below
1.2e-38 (float32) or 2.2e-308 (float64) become zero: far below anything an
LSTM's output can resolve.
"""

import platform

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils, config
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
FTZ_DAZ = 0x8040  # bit 15: flush to zero; bit 6: denormals are zero


@intrinsic
def _read_mxcsr(typingctx):
    def codegen(context, builder, signature, args):
        if not _X86:
            return ir.Constant(ir.IntType(32), 0)
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.stmxcsr")
        builder.call(fn, [builder.bitcast(slot, ir.IntType(8).as_pointer())])
        return builder.load(slot)
    return types.uint32(), codegen


@intrinsic
def _write_mxcsr(typingctx, value):
    def codegen(context, builder, signature, args):
        if _X86:
            slot = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], slot)
            fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
            fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.ldmxcsr")
            builder.call(fn, [builder.bitcast(slot, ir.IntType(8).as_pointer())])
        return context.get_dummy_value()
    return types.void(types.uint32), codegen


if config.DISABLE_JIT:  # pure-Python runs (coverage): nothing to set
    def flush_denormals():
        """Set FTZ/DAZ; return the caller's MXCSR (no-op without the JIT)."""
        return 0

    def restore_fpu(old):
        """Restore the caller's MXCSR (no-op without the JIT)."""
else:
    @njit(inline="always")
    def flush_denormals():
        """Set FTZ/DAZ; return the caller's MXCSR to restore later."""
        old = _read_mxcsr()
        _write_mxcsr(old | np.uint32(FTZ_DAZ))
        return old

    @njit(inline="always")
    def restore_fpu(old):
        """Restore the caller's MXCSR."""
        _write_mxcsr(old)
