"""lstmkit against PyTorch (and ONNX Runtime) on a CPU, side by side in one process.

    python benchmarks/run.py [--quick] [--threads N] [--no-record] [--only NAME ...]

Needs the ``bench`` extra (torch, onnx, onnxruntime).  Every comparison runs
both libraries in the same process, interleaved (A, B, A, B, ...), after
warm-up runs, and reports medians; ratios are lstmkit / other, so below 1
means lstmkit is faster.  The results are printed as a table and appended to
``benchmarks/RESULTS.md`` with the date, CPU, thread count and library
versions.

Measures (issue 5):

* one training iteration (forward, backward, Adam update) and prediction, at
  the shapes small, medium, large, stream and ragged;
* the whole Japanese Vowels ``trainNetwork`` against an equivalent PyTorch loop;
* prediction against ONNX Runtime's LSTM on the same weights;
* the float32 GEMM rate of this process (2048-cubed), and each lstmkit training
  iteration as a fraction of it;
* first-call cost (import + a tiny trainNetwork in a fresh process) with an
  empty and a warm Numba cache;
* peak memory of training the large shape, each library in its own process.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

SHAPES = {
    #          N    T    C    H   K  mode      lengths
    "small": (27, 20, 12, 100, 9, "last", None),
    "medium": (64, 100, 32, 128, 9, "last", None),
    "large": (128, 200, 64, 512, 9, "last", None),
    "stream": (1, 1000, 8, 64, 1, "sequence", None),
    "ragged": (27, 40, 12, 100, 9, "last", (5, 40)),
}


def set_threads(n):
    """Give lstmkit (BLAS, Numba) and torch the same number of threads."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)


def timeit(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


#: pause between one library's block and the other's: idle BLAS/OpenMP worker threads
#: spin for a while after a call, and on a 2-core machine a spinning pool of one
#: library slows the other (seen here: 4x on small GEMMs); the pause lets them sleep
SETTLE = 0.15


def interleaved(fns, repeats, warmup, rounds=5):
    """Median seconds per call of each function, measured in alternating rounds.

    Each round runs every function ``repeats`` times in a block, with a pause
    between blocks so that the libraries' thread pools do not fight.
    """
    for fn in fns:
        timeit(fn, 0, warmup)
        time.sleep(SETTLE)
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            samples[k] += timeit(fn, repeats, 1)
            time.sleep(SETTLE)
    return [statistics.median(s) for s in samples]


# ------------------------------------------------------------------------------------------
# the same model and data in both libraries


def make_data(shape, seed=0):
    import numpy as np
    N, T, C, H, K, mode, lengths = shape
    r = np.random.default_rng(seed)
    if lengths is None:
        lens = np.full(N, T)
    else:
        lens = r.integers(lengths[0], lengths[1] + 1, N)
    X = [r.standard_normal((C, int(L))).astype(np.float32) for L in lens]
    if mode == "last":
        Y = np.array([str(k) for k in r.integers(0, K, N)])
        Y[:K] = [str(k) for k in range(K)]
    else:
        Y = [r.standard_normal((K, int(L))).astype(np.float32) for L in lens]
    return X, Y, lens


def lstmkit_model(shape, X, Y):
    """A prepared lstmkit network: returns (train_step, predict) closures and its weights."""
    import numpy as np
    import lstmkit as lk
    from lstmkit.training.data import prepare_minibatch
    from lstmkit.training.trainer import _Solver, forward_backward, prepare_training
    N, T, C, H, K, mode, _ = shape
    head = ([lk.fullyConnectedLayer(K), lk.softmaxLayer(), lk.classificationLayer()]
            if mode == "last" else [lk.fullyConnectedLayer(K), lk.regressionLayer()])
    layers = [lk.sequenceInputLayer(C), lk.lstmLayer(H, OutputMode=mode)] + head
    opts = lk.trainingOptions("adam", MiniBatchSize=N, L2Regularization=0, Verbose=False)
    s = prepare_training("bench", X, Y, layers, opts, "float32")
    chunk = prepare_minibatch(np.arange(len(X)), s.data, s.targets, "longest", "right",
                              np.dtype(np.float32))[0]
    solver = _Solver(opts, s.params)
    it = [0]

    def train_step():
        forward_backward(s.net, chunk, {}, s.params.grads, np.dtype(np.float32))
        solver.regularize_and_threshold()
        it[0] += 1
        solver.step(1e-3, it[0])

    def predict_step():
        s.net.forward(chunk.x, chunk.batch, {}, False, np.dtype(np.float32))

    return train_step, predict_step, s


def torch_model(shape, X, Y, lens, weights=None):
    import numpy as np
    import torch
    N, T, C, H, K, mode, _ = shape
    lstm = torch.nn.LSTM(C, H)
    fc = torch.nn.Linear(H, K)
    if weights is not None:  # same weights as lstmkit (gate order i, f, g, o in both)
        with torch.no_grad():
            lstm.weight_ih_l0.copy_(torch.from_numpy(weights["W"]))
            lstm.weight_hh_l0.copy_(torch.from_numpy(weights["R"]))
            lstm.bias_ih_l0.copy_(torch.from_numpy(weights["b"]))
            lstm.bias_hh_l0.zero_()
            fc.weight.copy_(torch.from_numpy(weights["Wfc"]))
            fc.bias.copy_(torch.from_numpy(weights["bfc"]))
    Tmax = int(max(lens))
    x = np.zeros((Tmax, len(X), C), np.float32)        # padded, time-major
    for n, seq in enumerate(X):
        x[:seq.shape[1], n] = seq.T
    x = torch.from_numpy(x)
    last = torch.from_numpy(np.asarray(lens) - 1)
    params = list(lstm.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    if mode == "last":
        classes = sorted(set(Y))
        target = torch.tensor([classes.index(y) for y in Y])
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        t = np.zeros((Tmax, len(X), K), np.float32)
        for n, y in enumerate(Y):
            t[:y.shape[1], n] = y.T
        target = torch.from_numpy(t)

    def forward():
        out, _ = lstm(x)
        if mode == "last":
            h = out[last, torch.arange(len(X))]       # each sequence's own last step
            return fc(h)
        return fc(out)

    def train_step():
        opt.zero_grad(set_to_none=True)
        y = forward()
        if mode == "last":
            loss = loss_fn(y, target)
        else:
            loss = 0.5 * ((y - target) ** 2).sum() / (len(X) * Tmax)
        loss.backward()
        opt.step()

    def predict_step():
        with torch.inference_mode():
            forward()

    return train_step, predict_step, (lstm, fc)


def weights_of(setup):
    lstm, fc = setup.layers[1], setup.layers[2]
    return {"W": lstm.InputWeights, "R": lstm.RecurrentWeights, "b": lstm.Bias.ravel(),
            "Wfc": fc.Weights, "bfc": fc.Bias.ravel()}


# ------------------------------------------------------------------------------------------


def bench_shapes(names, quick):
    rows = []
    for name in names:
        shape = SHAPES[name]
        X, Y, lens = make_data(shape)
        lk_train, lk_pred, setup = lstmkit_model(shape, X, Y)
        th_train, th_pred, _ = torch_model(shape, X, Y, lens, weights_of(setup))
        big = name == "large"
        reps, warm = (1, 1) if big else ((3, 2) if quick else (10, 3))
        rounds = 2 if (big or quick) else 5
        t_lk, t_th = interleaved([lk_train, th_train], reps, warm, rounds)
        p_lk, p_th = interleaved([lk_pred, th_pred], reps * 2, warm, rounds)
        rows.append({"measure": f"training iteration, {name}", "lstmkit": t_lk, "other": t_th,
                     "other_name": "PyTorch"})
        rows.append({"measure": f"prediction, {name}", "lstmkit": p_lk, "other": p_th,
                     "other_name": "PyTorch"})
        rows[-2]["flops"] = training_flops(shape, lens)
    return rows


def training_flops(shape, lens):
    """Multiply-add FLOPs of one LSTM training iteration (the GEMMs only)."""
    N, T, C, H, K, mode, _ = shape
    S = float(sum(lens))
    fwd = 2 * S * 4 * H * (C + H)
    return 3 * fwd  # forward + backward (dX, dh) + weight gradients


def onnx_session(shape, lstm, fc):
    """An ONNX Runtime session for the PyTorch twin of the model (same weights)."""
    import onnxruntime as ort
    import torch
    N, T, C, H, K, mode, _ = shape

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = lstm, fc

        def forward(self, x):
            out, (h, _) = self.lstm(x)
            return self.fc(h[-1]) if mode == "last" else self.fc(out)

    path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    torch.onnx.export(Net(), (torch.zeros(T, N, C),), path, input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def bench_onnx(quick):
    """lstmkit prediction against ONNX Runtime running the same weights."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return []
    import numpy as np
    rows = []
    for name in ("small", "medium", "stream"):
        shape = SHAPES[name]
        X, Y, lens = make_data(shape)
        _, lk_pred, setup = lstmkit_model(shape, X, Y)
        _, _, (lstm, fc) = torch_model(shape, X, Y, lens, weights_of(setup))
        sess = onnx_session(shape, lstm, fc)
        N, T, C = shape[:3]
        xin = np.zeros((T, N, C), np.float32)
        for n, seq in enumerate(X):
            xin[:seq.shape[1], n] = seq.T
        reps, warm = (3, 2) if quick else (10, 3)
        t_lk, t_ort = interleaved([lk_pred, lambda s=sess, x=xin: s.run(None, {"x": x})], reps,
                                  warm, 2 if quick else 5)
        rows.append({"measure": f"prediction, {name}", "lstmkit": t_lk, "other": t_ort,
                     "other_name": "ONNX Runtime"})
    return rows


def gemm_rate():
    """float32 GEMM rate (GFLOP/s) of scipy's BLAS, the one lstmkit's kernels call."""
    import numpy as np
    from scipy.linalg.blas import sgemm
    n = 2048
    a = np.asfortranarray(np.random.default_rng(0).standard_normal((n, n)), dtype=np.float32)
    b = a.copy(order="F")
    t = min(timeit(lambda: sgemm(1.0, a, b), 3, 1))
    return 2.0 * n ** 3 / t / 1e9


def japanese_vowels_sorted():
    """The Japanese Vowels training set sorted by length, as MATLAB's example sorts it."""
    import numpy as np
    import lstmkit as lk
    X, Y = lk.japaneseVowelsTrainData()
    order = np.argsort([x.shape[1] for x in X], kind="stable")
    return [X[i] for i in order], np.asarray(Y)[order]


def torch_japanese_vowels_batches(X, Y):
    """The ten padded time-major mini-batches of 27 a PyTorch user builds: (x, last, labels)."""
    import numpy as np
    import torch
    classes = sorted(set(Y.tolist()))
    batches = []
    for b in range(10):
        xs = X[27 * b:27 * (b + 1)]
        lens = np.array([x.shape[1] for x in xs])
        x = np.zeros((lens.max(), 27, 12), np.float32)
        for n, s in enumerate(xs):
            x[:s.shape[1], n] = s.T
        y = torch.tensor([classes.index(c) for c in Y[27 * b:27 * (b + 1)].tolist()])
        batches.append((torch.from_numpy(x), torch.from_numpy(lens - 1), y))
    return batches


def torch_japanese_vowels_train(batches, epochs):
    """The example's network and options as a PyTorch loop (MATLAB's L2 and clipping)."""
    import torch
    lstm, fc = torch.nn.LSTM(12, 100), torch.nn.Linear(100, 9)
    params = list(lstm.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=0)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, last, y in batches:
            opt.zero_grad(set_to_none=True)
            out, _ = lstm(x)
            loss = loss_fn(fc(out[last, torch.arange(27)]), y)
            # MATLAB's L2 (1e-4 on weights) and per-parameter l2norm clipping at 1
            loss = loss + 0.5e-4 * sum((p ** 2).sum() for n_, p in
                                       list(lstm.named_parameters()) +
                                       list(fc.named_parameters()) if "weight" in n_)
            loss.backward()
            for p in params:
                torch.nn.utils.clip_grad_norm_([p], 1.0)
            opt.step()


def bench_japanese_vowels(quick):
    """The whole Japanese Vowels trainNetwork against the same PyTorch loop."""
    import lstmkit as lk
    XTrain, YTrain = japanese_vowels_sorted()
    epochs = 10 if quick else 100
    opts = lk.trainingOptions("adam", GradientThreshold=1, MaxEpochs=epochs, MiniBatchSize=27,
                              Shuffle="never", Verbose=0)
    layers = [lk.sequenceInputLayer(12), lk.lstmLayer(100, OutputMode="last"),
              lk.fullyConnectedLayer(9), lk.softmaxLayer(), lk.classificationLayer()]

    def run_lstmkit():
        lk.trainNetwork(XTrain, YTrain, layers, opts)

    batches = torch_japanese_vowels_batches(XTrain, YTrain)

    def run_torch():
        torch_japanese_vowels_train(batches, epochs)

    t_lk, t_th = interleaved([run_lstmkit, run_torch], 1, 1, 1 if quick else 3)
    return [{"measure": "whole Japanese Vowels training", "lstmkit": t_lk, "other": t_th,
             "other_name": "PyTorch loop"}]


FIRST_CALL = textwrap.dedent("""
    import time
    t0 = time.perf_counter()
    import numpy as np
    import lstmkit as lk
    X = [np.random.default_rng(0).standard_normal((3, 5)) for _ in range(4)]
    lk.trainNetwork(X, ["a", "b", "a", "b"],
                    [lk.sequenceInputLayer(3), lk.lstmLayer(4, OutputMode="last"),
                     lk.fullyConnectedLayer(2), lk.softmaxLayer(), lk.classificationLayer()],
                    lk.trainingOptions("adam", MaxEpochs=1, Verbose=0))
    print(time.perf_counter() - t0)
""")


def bench_first_call():
    cache = tempfile.mkdtemp(prefix="lstmkit-numba-cache-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=ROOT)
    times = []
    for _ in range(2):  # empty cache, then warm
        out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True,
                             text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


PEAK = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
    import run

    def high_water_mib():  # VmHWM is per process image (ru_maxrss survives fork + exec)
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

    which = {which!r}
    shape = run.SHAPES["large"]
    X, Y, lens = run.make_data(shape)
    if which == "lstmkit":
        step = run.lstmkit_model(shape, X, Y)[0]
    else:
        step = run.torch_model(shape, X, Y, lens)[0]
    base = high_water_mib()
    for _ in range(2):
        step()
    print(high_water_mib(), base)
""")


def bench_peak_memory():
    out = {}
    for which in ("lstmkit", "PyTorch"):
        code = PEAK.format(root=ROOT, here=HERE, which=which)
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=dict(os.environ, PYTHONPATH=ROOT))
        peak, base = map(float, res.stdout.split())
        out[which] = (peak, base)
    return out


# ------------------------------------------------------------------------------------------


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}, "
            f"OpenBLAS kernels {blas_core()}")


def blas_core():
    """The kernel set scipy's OpenBLAS chose (``OPENBLAS_CORETYPE`` overrides it)."""
    import ctypes
    import glob
    import scipy
    base = os.path.dirname(os.path.dirname(scipy.__file__))
    for pattern in ("scipy.libs/libscipy_openblas*", "scipy/.dylibs/libscipy_openblas*"):
        for path in glob.glob(os.path.join(base, pattern)):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            get = getattr(lib, "scipy_openblas_get_corename", None) or getattr(
                lib, "openblas_get_corename", None)
            if get is None:
                continue
            get.restype = ctypes.c_char_p
            forced = os.environ.get("OPENBLAS_CORETYPE")
            return get().decode() + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")
    return "unknown"


def versions():
    import numba
    import numpy
    import scipy
    import lstmkit
    v = {"lstmkit": lstmkit.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
         "numba": numba.__version__, "python": platform.python_version()}
    for mod in ("torch", "onnxruntime"):
        try:
            v[mod] = __import__(mod).__version__
        except ImportError:
            pass
    return v


def record(report):
    """Append a run's report to benchmarks/RESULTS.md (started with its heading if new)."""
    path = os.path.join(HERE, "RESULTS.md")
    new = not os.path.exists(path)
    with open(path, "a", encoding="utf-8") as f:
        if new:
            f.write("# Benchmark results\n\nAppended by `python benchmarks/run.py`; ratios "
                    "are lstmkit / other (below 1: lstmkit faster).\n\n")
        f.write(report + "\n")


def fmt_time(t):
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--no-record", action="store_true",
                        help="do not append to benchmarks/RESULTS.md")
    parser.add_argument("--only", nargs="*", default=None,
                        help="shapes to run (small medium large stream ragged)")
    args = parser.parse_args()
    set_threads(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    import numba
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))

    names = args.only or list(SHAPES)
    rows = bench_shapes(names, args.quick)
    if args.only is None:
        rows += bench_onnx(args.quick)
        rows += bench_japanese_vowels(args.quick)
    gflops = gemm_rate()
    lines = ["| measure | lstmkit | other | ratio (lstmkit / other) | lstmkit GEMM fraction |",
             "|---|---|---|---|---|"]
    for r in rows:
        frac = ""
        if "flops" in r:
            frac = f"{r['flops'] / r['lstmkit'] / 1e9 / gflops:.0%}"
        lines.append(f"| {r['measure']} | {fmt_time(r['lstmkit'])} | {fmt_time(r['other'])} "
                     f"({r['other_name']}) | {r['lstmkit'] / r['other']:.2f} | {frac} |")
    extra = [f"- float32 GEMM rate (2048-cubed, scipy's BLAS): {gflops:.1f} GFLOP/s"]
    if args.only is None:
        cold, warm = bench_first_call()
        extra.append(f"- first call (import + tiny trainNetwork, fresh process): "
                     f"{cold:.1f} s with an empty Numba cache, {warm:.2f} s with a warm one")
        peak = bench_peak_memory()
        extra.append(f"- peak memory, training the large shape (2 iterations, own process): "
                     f"lstmkit {peak['lstmkit'][0]:.0f} MiB, PyTorch {peak['PyTorch'][0]:.0f} MiB "
                     f"(ratio {peak['lstmkit'][0] / peak['PyTorch'][0]:.2f}; after setup: "
                     f"{peak['lstmkit'][1]:.0f} and {peak['PyTorch'][1]:.0f} MiB)")
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    header = (f"## {stamp}: {machine()}, {args.threads} threads"
              f"{' (quick)' if args.quick else ''}\n\n"
              f"Versions: {json.dumps(versions())}\n")
    report = header + "\n" + "\n".join(lines) + "\n\n" + "\n".join(extra) + "\n"
    print(report)
    if not args.no_record:
        record(report)


if __name__ == "__main__":
    main()
