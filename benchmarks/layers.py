"""The sequence layers of issue 13 against PyTorch: forward + backward, side by side.

    python benchmarks/layers.py [--quick] [--threads N] [--no-record]

Needs torch (the ``bench`` extra).  Each layer runs a forward and a backward
pass on a mini-batch of the sizes the MATLAB scripts use (the 1-D convolution
example's block, a CNN-LSTM's normalization, a small transformer's attention),
lstmkit's layer on its packed batch against the PyTorch module on a padded one
(equal lengths, so both do the same work), interleaved in one process after
warm-up; medians; ratio = lstmkit / PyTorch, below 1 means lstmkit is faster.
Results are printed and appended to ``benchmarks/RESULTS.md``.
"""

import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from run import interleaved, machine, record, set_threads, versions  # noqa: E402

CASES = {
    #                      N   T    C   what
    "convolution1d": (32, 100, 12, "convolution1dLayer(5, 64, Padding='causal') / nn.Conv1d"),
    "layernorm": (32, 100, 64, "layerNormalizationLayer / nn.LayerNorm"),
    "batchnorm": (32, 100, 64, "batchNormalizationLayer / nn.BatchNorm1d"),
    "attention": (16, 64, 64, "selfAttentionLayer(4, 64) / nn.MultiheadAttention(64, 4)"),
}


def lstmkit_step(name, N, T, C):
    import numpy as np

    from lstmkit import (batchNormalizationLayer, convolution1dLayer, layerNormalizationLayer,
                         selfAttentionLayer)
    from lstmkit._packing import PackedBatch
    rng = np.random.default_rng(0)
    layer = {"convolution1d": lambda: convolution1dLayer(5, 64, Padding="causal"),
             "layernorm": layerNormalizationLayer, "batchnorm": batchNormalizationLayer,
             "attention": lambda: selfAttentionLayer(4, 64)}[name]()
    layer._initialize(C, rng)
    batch = PackedBatch([T] * N)
    x = rng.standard_normal((batch.num_rows, C)).astype(np.float32)
    dt = np.dtype(np.float32)
    grads = {lb.name: np.zeros(np.shape(getattr(layer, lb.name)), np.float32)
             for lb in layer.learnables}

    def step():
        y, cache, _ = layer._forward(x, batch, None, True, dt)
        layer._backward(np.ones_like(y), cache, grads, True)
    return step


def torch_step(name, N, T, C):
    import torch
    torch.manual_seed(0)
    if name == "convolution1d":
        mod = torch.nn.Conv1d(C, 64, 5)
        x = torch.randn(N, C, T, requires_grad=True)

        def fwd():
            return mod(torch.nn.functional.pad(x, (4, 0)))
    elif name == "layernorm":
        mod = torch.nn.LayerNorm(C)
        x = torch.randn(N, T, C, requires_grad=True)

        def fwd():
            return mod(x)
    elif name == "batchnorm":
        mod = torch.nn.BatchNorm1d(C)
        x = torch.randn(N, C, T, requires_grad=True)

        def fwd():
            return mod(x)
    else:
        mod = torch.nn.MultiheadAttention(C, 4, batch_first=True)
        x = torch.randn(N, T, C, requires_grad=True)

        def fwd():
            return mod(x, x, x, need_weights=False)[0]

    def step():
        mod.zero_grad()
        x.grad = None
        fwd().sum().backward()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    set_threads(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    rows = []
    for name, (N, T, C, what) in CASES.items():
        a, b = lstmkit_step(name, N, T, C), torch_step(name, N, T, C)
        ta, tb = interleaved([a, b], repeats=5 if args.quick else 20, warmup=3)
        rows.append((name, what, ta, tb))
        print(f"{name:14s} lstmkit {ta * 1e3:8.2f} ms  PyTorch {tb * 1e3:8.2f} ms  "
              f"ratio {ta / tb:.2f}")
    if args.no_record:
        return
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"\n## {stamp}: layers (forward + backward), {machine()}, {args.threads} threads\n",
             f"Versions: {versions()}\n",
             "| layer (N, T, C) | lstmkit | PyTorch | ratio (lstmkit / PyTorch) |",
             "|---|---|---|---|"]
    for name, what, ta, tb in rows:
        N, T, C, _ = CASES[name]
        lines.append(f"| {what} ({N}, {T}, {C}) | {ta * 1e3:.2f} ms | {tb * 1e3:.2f} ms | "
                     f"{ta / tb:.2f} |")
    record("\n".join(lines))


if __name__ == "__main__":
    main()
