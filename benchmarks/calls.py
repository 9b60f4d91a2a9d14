"""Whole public calls, as a user meets them: each library in its own process.

    python benchmarks/calls.py [--rounds 3] [--threads 2] [--only CASE ...] [--busy]
                               [--no-record]

Where ``run.py`` times steady-state iterations inside one long-lived process,
this script times what a script pays: a whole ``trainNetwork`` (or
``trainnet``) call of several epochs, set-up included, then ``predict`` (or
``minibatchpredict``) over the data, against the same model, data and Adam
settings as a PyTorch loop (then ``torch.inference_mode`` prediction), and
prediction against ONNX Runtime on lstmkit's own exported model.  Every
measurement runs in a fresh process (so no second thread pool spins beside
it) after one warm-up call of the same kind in that process; the libraries
alternate, ``--rounds`` times, and medians are reported.  Ratios are
lstmkit / other: below 1, lstmkit is faster.

Also measured: time to the first result in a fresh process (import, a small
training and a prediction), the per-iteration cost of a one-epoch call against
a ten-epoch call, and with ``--busy`` the Japanese Vowels example while another
process keeps one core busy (default threads, 1 thread, PyTorch).
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: case: (mini-batch N, T, C, H, classes K or responses, OutputMode, lengths range or None,
#:        mini-batches per epoch, epochs, bidirectional)
CASES = {
    "small": (27, 20, 12, 100, 9, "last", None, 20, 5, False),
    "medium": (64, 100, 32, 128, 9, "last", None, 8, 3, False),
    "large": (128, 200, 64, 512, 9, "last", None, 3, 1, False),
    "stream": (1, 1000, 8, 64, 1, "sequence", None, 20, 2, False),
    "ragged": (27, 40, 12, 100, 9, "last", (5, 40), 20, 5, False),
    "bilstm2000": (16, 50, 12, 2000, 9, "last", None, 2, 1, True),
}


def make_data(case, seed=0):
    import numpy as np
    N, T, C, H, K, mode, lengths, batches, _, _ = CASES[case]
    r = np.random.default_rng(seed)
    M = N * batches
    lens = np.full(M, T) if lengths is None else r.integers(lengths[0], lengths[1] + 1, M)
    X = [r.standard_normal((C, int(L))).astype(np.float32) for L in lens]
    if mode == "last":
        Y = np.array([f"c{k}" for k in r.integers(0, K, M)])
        Y[:K] = [f"c{k}" for k in range(K)]
    else:
        Y = [r.standard_normal((K, int(L))).astype(np.float32) for L in lens]
    return X, Y, lens


# ---------------------------------------------------------------- workers (own process)

def era_layers(lk, case):
    """The case's trainNetwork-era layers (an output layer at the end)."""
    N, T, C, H, K, mode, _, _, _, bi = CASES[case]
    rnn = (lk.bilstmLayer if bi else lk.lstmLayer)(H, OutputMode=mode)
    head = ([lk.fullyConnectedLayer(K), lk.softmaxLayer(), lk.classificationLayer()]
            if mode == "last" else [lk.fullyConnectedLayer(K), lk.regressionLayer()])
    return [lk.sequenceInputLayer(C), rnn] + head


def one_batch_network(lk, case, X, Y):
    """A network of the case's shape, trained on one mini-batch (for prediction timings)."""
    N = CASES[case][0]
    return lk.trainNetwork(X[:N], Y[:N], era_layers(lk, case),
                           lk.trainingOptions("adam", MaxEpochs=1, MiniBatchSize=N, Verbose=False))


def worker_lstmkit(case, api, epochs=None, env="cpu"):
    import lstmkit as lk
    N, T, C, H, K, mode, _, _, E, bi = CASES[case]
    E = epochs or E
    X, Y, _ = make_data(case)
    rnn = (lk.bilstmLayer if bi else lk.lstmLayer)(H, OutputMode=mode)
    opts = lk.trainingOptions("adam", MiniBatchSize=N, MaxEpochs=E, L2Regularization=0,
                              Shuffle="never", Verbose=False, ExecutionEnvironment=env)
    warm = lk.trainingOptions("adam", MiniBatchSize=N, MaxEpochs=1, L2Regularization=0,
                              Shuffle="never", Verbose=False, ExecutionEnvironment=env)
    few = X[:2 * N], Y[:2 * N]
    if api == "trainNetwork":
        layers = era_layers(lk, case)
        lk.trainNetwork(*few, layers, warm)                      # warm-up: compile, caches
        t0 = time.perf_counter()
        net = lk.trainNetwork(X, Y, layers, opts)
        t1 = time.perf_counter()
        lk.predict(net, X[:N], MiniBatchSize=N, ExecutionEnvironment=env)
        t2 = time.perf_counter()
        lk.predict(net, X, MiniBatchSize=N, ExecutionEnvironment=env)
        t3 = time.perf_counter()
    else:                                                        # trainnet era, T-by-C
        Xt = [x.T for x in X]
        Yt = Y if mode == "last" else [y.T for y in Y]
        head = [lk.fullyConnectedLayer(K), lk.softmaxLayer()] if mode == "last" else \
            [lk.fullyConnectedLayer(K)]
        layers = [lk.sequenceInputLayer(C), rnn] + head
        loss = "crossentropy" if mode == "last" else "mse"
        lk.trainnet(Xt[:2 * N], Yt[:2 * N], layers, loss, warm)
        t0 = time.perf_counter()
        net = lk.trainnet(Xt, Yt, layers, loss, opts)
        t1 = time.perf_counter()
        lk.minibatchpredict(net, Xt[:N], MiniBatchSize=N, ExecutionEnvironment=env)
        t2 = time.perf_counter()
        lk.minibatchpredict(net, Xt, MiniBatchSize=N, ExecutionEnvironment=env)
        t3 = time.perf_counter()
    iterations = E * len(X) // N
    return {"train": t1 - t0, "predict": t3 - t2, "iterations": iterations}


def worker_torch(case, epochs=None, device="cpu"):
    import numpy as np
    import torch
    N, T, C, H, K, mode, _, batches, E, bi = CASES[case]
    E = epochs or E
    X, Y, lens = make_data(case)
    classes = sorted(set(Y)) if mode == "last" else None

    def batch(b):
        xs = X[b * N:(b + 1) * N]
        ln = lens[b * N:(b + 1) * N]
        x = np.zeros((int(ln.max()), len(xs), C), np.float32)     # padded, time-major
        for n, s in enumerate(xs):
            x[:s.shape[1], n] = s.T
        if mode == "last":
            y = torch.tensor([classes.index(c) for c in Y[b * N:(b + 1) * N]])
        else:
            t = np.zeros((int(ln.max()), len(xs), K), np.float32)
            for n, s in enumerate(Y[b * N:(b + 1) * N]):
                t[:s.shape[1], n] = s.T
            y = torch.from_numpy(t)
        return (torch.from_numpy(x).to(device), torch.from_numpy(ln - 1).to(device),
                y.to(device))

    def build():
        lstm = torch.nn.LSTM(C, H, bidirectional=bi).to(device)
        fc = torch.nn.Linear(2 * H if bi else H, K).to(device)
        return lstm, fc

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()

    def forward(lstm, fc, x, last):
        out, _ = lstm(x)
        if mode == "last":
            return fc(out[last, torch.arange(x.shape[1], device=x.device)])
        return fc(out)

    def train(nb, epochs):
        data = [batch(b) for b in range(nb)]                      # the user's own packing
        lstm, fc = build()
        params = list(lstm.parameters()) + list(fc.parameters())
        opt = torch.optim.Adam(params, lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(epochs):
            for x, last, y in data:
                opt.zero_grad(set_to_none=True)
                out = forward(lstm, fc, x, last)
                loss = loss_fn(out, y) if mode == "last" else \
                    0.5 * ((out - y) ** 2).sum() / (x.shape[0] * x.shape[1])
                loss.backward()
                opt.step()
        return lstm, fc

    def predict(lstm, fc, nb):
        with torch.inference_mode():
            for b in range(nb):
                x, last, _ = batch(b)
                forward(lstm, fc, x, last)

    train(2, 1)
    sync()
    t0 = time.perf_counter()
    lstm, fc = train(batches, E)
    sync()
    t1 = time.perf_counter()
    predict(lstm, fc, 1)
    sync()
    t2 = time.perf_counter()
    predict(lstm, fc, batches)
    sync()
    t3 = time.perf_counter()
    return {"train": t1 - t0, "predict": t3 - t2}


def worker_ort(case):
    """ONNX Runtime running lstmkit's exported network over the same mini-batches."""
    import tempfile
    import numpy as np
    import onnxruntime as ort
    import lstmkit as lk
    N, _, C, _, _, _, _, batches, _, _ = CASES[case]
    X, Y, lens = make_data(case)
    net = one_batch_network(lk, case, X, Y)
    path = os.path.join(tempfile.mkdtemp(), "net.onnx")
    lk.exportONNXNetwork(net, path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]

    def feeds(b):
        xs = X[b * N:(b + 1) * N]
        ln = lens[b * N:(b + 1) * N]
        x = np.zeros((int(ln.max()), len(xs), C), np.float32)     # T-N-C, as exported
        for n, s in enumerate(xs):
            x[:s.shape[1], n] = s.T
        out = {names[0]: x}
        if len(names) > 1:
            kind = sess.get_inputs()[1].type
            out[names[1]] = ln.astype(np.int32 if "int32" in kind else np.int64)
        return out

    sess.run(None, feeds(0))
    t0 = time.perf_counter()
    for b in range(batches):
        sess.run(None, feeds(b))
    return {"predict": time.perf_counter() - t0}


def worker_lstmkit_predict_only(case):
    """lstmkit's predict over the same mini-batches as worker_ort (same network shape)."""
    import lstmkit as lk
    N = CASES[case][0]
    X, Y, _ = make_data(case)
    net = one_batch_network(lk, case, X, Y)
    lk.predict(net, X[:N], MiniBatchSize=N)
    t0 = time.perf_counter()
    lk.predict(net, X, MiniBatchSize=N)
    return {"predict": time.perf_counter() - t0}


def japanese_vowels_lstmkit():
    import numpy as np
    import lstmkit as lk
    from run import japanese_vowels_sorted
    X, Y = japanese_vowels_sorted()
    layers = [lk.sequenceInputLayer(12), lk.lstmLayer(100, OutputMode="last"),
              lk.fullyConnectedLayer(9), lk.softmaxLayer(), lk.classificationLayer()]
    opts = lk.trainingOptions("adam", GradientThreshold=1, MaxEpochs=100, MiniBatchSize=27,
                              Shuffle="never", Verbose=False)
    lk.trainNetwork(X[::5], Y[::5], layers, lk.trainingOptions(     # warm-up: all 9 classes
        "adam", MaxEpochs=1, MiniBatchSize=27, Verbose=False))
    t0 = time.perf_counter()
    net = lk.trainNetwork(X, Y, layers, opts)
    t1 = time.perf_counter()
    XT, YT = lk.japaneseVowelsTestData()
    acc = float(np.mean(lk.classify(net, XT).ravel() == np.asarray(YT).ravel()))
    return {"train": t1 - t0, "accuracy": acc}


def japanese_vowels_torch():
    from run import (japanese_vowels_sorted, torch_japanese_vowels_batches,
                     torch_japanese_vowels_train)
    X, Y = japanese_vowels_sorted()

    def run(epochs):                  # the user's own padding is part of the call
        torch_japanese_vowels_train(torch_japanese_vowels_batches(X, Y), epochs)
    run(1)
    t0 = time.perf_counter()
    run(100)
    return {"train": time.perf_counter() - t0}


def first_result():
    """Seconds from the start of the process to a first prediction (set at exec time)."""
    import lstmkit as lk
    X, Y = lk.japaneseVowelsTrainData()
    net = lk.trainNetwork(X[::5], Y[::5], [lk.sequenceInputLayer(12),
                                           lk.lstmLayer(100, OutputMode="last"),
                                           lk.fullyConnectedLayer(9), lk.softmaxLayer(),
                                           lk.classificationLayer()],
                          lk.trainingOptions("adam", MaxEpochs=1, MiniBatchSize=27,
                                             Verbose=False))
    lk.classify(net, X[:5])
    return {"first": time.perf_counter() - float(os.environ["BENCH_T0"])}


WORKERS = {
    "lstmkit": lambda case: worker_lstmkit(case, "trainNetwork"),
    "lstmkit-trainnet": lambda case: worker_lstmkit(case, "trainnet"),
    "lstmkit-1epoch": lambda case: worker_lstmkit(case, "trainNetwork", epochs=1),
    "lstmkit-10epochs": lambda case: worker_lstmkit(case, "trainNetwork", epochs=10),
    "torch": worker_torch,
    "ort": worker_ort,
    "lstmkit-predict": worker_lstmkit_predict_only,
    "jv-lstmkit": lambda case: japanese_vowels_lstmkit(),
    "jv-torch": lambda case: japanese_vowels_torch(),
    "first": lambda case: first_result(),
}


# ---------------------------------------------------------------- driver

def spawn(worker, case, threads, env_extra=None):
    env = dict(os.environ, PYTHONPATH=ROOT, BENCH_T0=repr(time.perf_counter()))
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS"):
            env[var] = str(threads)
    env.update(env_extra or {})
    env["BENCH_T0"] = repr(time.perf_counter())
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", worker,
                          "--case", case], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{worker} {case} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def medians(worker_names, case, rounds, threads, env_extra=None):
    """Alternate the workers ``rounds`` times; the median of each measure for each worker."""
    got = {w: [] for w in worker_names}
    for _ in range(rounds):
        for w in worker_names:
            got[w].append(spawn(w, case, threads, env_extra))
            time.sleep(0.3)
    return {w: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            for w, runs in got.items()}


def fmt(t):
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


class Busy:
    """Another process keeping one core busy (a laptop with a browser open)."""

    def __enter__(self):
        self.p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        self.p.kill()
        self.p.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker")
    parser.add_argument("--case", default="small")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--busy", action="store_true",
                        help="also the Japanese Vowels example with one core kept busy")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    if args.worker:
        if args.worker in ("torch", "jv-torch"):
            import torch
            torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
        print(json.dumps(WORKERS[args.worker](args.case)))
        return

    names = args.only or list(CASES) + ["japanese-vowels", "iterations", "first"]
    th = args.threads
    lines = ["| measure | lstmkit | other | ratio (lstmkit / other) |", "|---|---|---|---|"]
    extra = []

    def row(measure, a, b, other):
        lines.append(f"| {measure} | {fmt(a)} | {fmt(b)} ({other}) | {a / b:.2f} |")
        print(lines[-1], flush=True)

    for case in [c for c in names if c in CASES]:
        m = medians(["lstmkit", "torch"], case, args.rounds, th)
        N, T, C, H, *_ = CASES[case]
        what = f"{case} (N={N}, T={T}, C={C}, H={H}, {m['lstmkit']['iterations']} iterations)"
        row(f"trainNetwork, {what}", m["lstmkit"]["train"], m["torch"]["train"], "PyTorch")
        row(f"predict, {case}", m["lstmkit"]["predict"], m["torch"]["predict"], "PyTorch")
        if case in ("small", "medium", "stream"):
            m2 = medians(["lstmkit-trainnet"], case, args.rounds, th)
            row(f"trainnet, {case}", m2["lstmkit-trainnet"]["train"], m["torch"]["train"],
                "PyTorch")
            row(f"minibatchpredict, {case}", m2["lstmkit-trainnet"]["predict"],
                m["torch"]["predict"], "PyTorch")
            try:
                m3 = medians(["lstmkit-predict", "ort"], case, args.rounds, th)
                row(f"predict, {case}", m3["lstmkit-predict"]["predict"], m3["ort"]["predict"],
                    "ONNX Runtime")
            except RuntimeError as err:
                extra.append(f"- ONNX Runtime, {case}: not measured ({str(err)[:200]})")
    if "japanese-vowels" in names:
        m = medians(["jv-lstmkit", "jv-torch"], "small", args.rounds, th)
        row("Japanese Vowels example, whole trainNetwork (100 epochs)",
            m["jv-lstmkit"]["train"], m["jv-torch"]["train"], "PyTorch loop")
        extra.append(f"- Japanese Vowels test accuracy (lstmkit): "
                     f"{m['jv-lstmkit']['accuracy']:.1%}")
        if args.busy:
            with Busy():
                busy_default = medians(["jv-lstmkit", "jv-torch"], "small", args.rounds, th)
                busy_one = medians(["jv-lstmkit"], "small", args.rounds, 1)
            extra.append(
                f"- one core busy: Japanese Vowels lstmkit {busy_default['jv-lstmkit']['train']:.2f}"
                f" s with {th} threads, {busy_one['jv-lstmkit']['train']:.2f} s with 1 thread; "
                f"PyTorch {busy_default['jv-torch']['train']:.2f} s with {th} threads")
    if "iterations" in names:
        m = medians(["lstmkit-1epoch", "lstmkit-10epochs"], "small", args.rounds, th)
        one = m["lstmkit-1epoch"]["train"] / m["lstmkit-1epoch"]["iterations"]
        ten = m["lstmkit-10epochs"]["train"] / m["lstmkit-10epochs"]["iterations"]
        extra.append(f"- per iteration, small shape: one-epoch call {one * 1e3:.2f} ms, ten-epoch "
                     f"call {ten * 1e3:.2f} ms (ratio {one / ten:.2f})")
    if "first" in names:
        m = medians(["first"], "small", args.rounds, th)
        extra.append(f"- first result in a fresh process (start, import, a 2-iteration "
                     f"trainNetwork, classify; warm Numba cache): {m['first']['first']:.2f} s")

    sys.path.insert(0, HERE)
    from run import machine, record, versions
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    report = (f"## {stamp}: whole calls (benchmarks/calls.py), {machine()}, {th} threads, "
              f"{args.rounds} rounds, each library in its own process\n\n"
              f"Versions: {json.dumps(versions())}\n\n" + "\n".join(lines) + "\n\n"
              + "\n".join(extra) + "\n")
    print(report)
    if not args.no_record:
        record(report)


if __name__ == "__main__":
    main()
