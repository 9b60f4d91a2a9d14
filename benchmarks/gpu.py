"""ExecutionEnvironment 'gpu' against PyTorch's cuDNN LSTM, on a machine with an NVIDIA GPU.

    python benchmarks/gpu.py [--only small medium large stream ragged] [--out FILE]

For each of calls.py's shapes: whole trainNetwork and predict calls of
lstmkit with ExecutionEnvironment 'gpu' and 'cpu', and the same training
loop and prediction in PyTorch with ``nn.LSTM`` on the GPU (cuDNN, float32,
TF32 off, both switches recorded), each after a warm-up, each in its own
process, the median of ``--rounds``.  Ratios are lstmkit-gpu / PyTorch-cuDNN
(the issue's goals: <= 1.2 large, <= 1.5 medium and stream, <= 2.0 small and
ragged).  Also the largest relative difference between lstmkit's 'gpu' and
'cpu' predictions of one float64 network (the kernels' agreement on the
device).  Writes a Markdown report to ``--out`` (default: print it) with the
date, the GPU and the versions; benchmarks/RESULTS.md takes it by hand.

The device script (``benchmarks/gpu_device.sh``) runs this after the GPU
tests, on the lent machine, whose image has numba-cuda and PyTorch.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from calls import CASES, worker_lstmkit, worker_torch  # noqa: E402

SHAPES = ("small", "medium", "large", "stream", "ragged")


def child(args):
    """One measurement in this process (``--child NAME CASE``); prints JSON."""
    name, case = args.child
    if name == "torch":
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        out = worker_torch(case, device="cuda")
    else:
        out = worker_lstmkit(case, "trainNetwork", env=name)
    print(json.dumps(out))


def spawn(name, case):
    done = subprocess.run([sys.executable, __file__, "--child", name, case],
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{name} {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def agreement():
    """Largest relative difference of 'gpu' and 'cpu' predictions (float64, one network)."""
    import numpy as np
    import lstmkit as lk
    r = np.random.default_rng(0)
    X = [r.standard_normal((12, int(T))) for T in r.integers(5, 40, 64)]
    Y = np.array([f"c{k % 9}" for k in range(64)])
    layers = [lk.sequenceInputLayer(12), lk.bilstmLayer(64, OutputMode="sequence"),
              lk.gruLayer(32, OutputMode="last"), lk.fullyConnectedLayer(9), lk.softmaxLayer(),
              lk.classificationLayer()]
    opts = lk.trainingOptions("adam", MaxEpochs=2, MiniBatchSize=16, Verbose=False)
    cpu = lk.trainNetwork(X, Y, layers, opts, dtype="float64", seed=0)
    gpu = lk.trainNetwork(X, Y, layers, lk.trainingOptions(
        "adam", MaxEpochs=2, MiniBatchSize=16, Verbose=False, ExecutionEnvironment="gpu"),
        dtype="float64", seed=0)
    w = [np.concatenate([np.ravel(getattr(layer, lb.name)) for layer in n.Layers
                         for lb in layer.learnables]) for n in (cpu, gpu)]
    train_diff = float(np.max(np.abs(w[1] - w[0]) / (np.abs(w[0]) + 1e-12)))
    a, b = lk.predict(cpu, X), lk.predict(cpu, X, ExecutionEnvironment="gpu")
    return train_diff, float(np.max(np.abs(a - b)))


def environment():
    lines = [f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.node()}"]
    try:
        lines.append(subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                    timeout=60).stdout.strip())
    except OSError:
        lines.append("nvidia-smi: not found")
    import numba
    import torch
    from numba import cuda
    lines.append(f"numba {numba.__version__}, numba.cuda available: {cuda.is_available()}, "
                 f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, TF32 off")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(SHAPES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default="")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    lines = ["## ExecutionEnvironment 'gpu' against PyTorch cuDNN (benchmarks/gpu.py)", ""]
    lines += [f"- {line}" for line in environment()]
    train_diff, predict_diff = agreement()
    lines += [f"- float64 agreement, 'gpu' against 'cpu': weights after 2 epochs "
              f"{train_diff:.1e} (relative), predicted scores {predict_diff:.1e}", "",
              "| shape (N, T, C, H) | train s: lstmkit gpu / cpu / torch cuDNN | ratio | "
              "predict s: lstmkit gpu / cpu / torch cuDNN | ratio |", "|---|---|---|---|---|"]
    for case in args.only:
        N, T, C, H = CASES[case][:4]
        runs = {name: [spawn(name, case) for _ in range(args.rounds)]
                for name in ("gpu", "cpu", "torch")}
        med = {name: {k: statistics.median(r[k] for r in rs) for k in ("train", "predict")}
               for name, rs in runs.items()}
        lines.append(
            f"| {case} ({N}, {T}, {C}, {H}) | {med['gpu']['train']:.3f} / "
            f"{med['cpu']['train']:.3f} / {med['torch']['train']:.3f} | "
            f"{med['gpu']['train'] / med['torch']['train']:.2f} | "
            f"{med['gpu']['predict']:.3f} / {med['cpu']['predict']:.3f} / "
            f"{med['torch']['predict']:.3f} | "
            f"{med['gpu']['predict'] / med['torch']['predict']:.2f} |")
        print(lines[-1], flush=True)
    report = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(report)
    print(report)


if __name__ == "__main__":
    main()
