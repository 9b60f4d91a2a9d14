"""What compiles on first use, and how long it takes.

Runs one public workflow in a fresh process with an empty kernel cache and
lists every Numba compilation of lstmkit's kernels (a cache miss) with its
own time (nested compilations excluded) and the argument types it was
compiled for; then runs the same workflow again on the filled cache.

    python benchmarks/compile_time.py                 # the Japanese Vowels recipe
    python benchmarks/compile_time.py --workflow all  # + predict, BiLSTM, GRU, float64

Prints a table and the totals; nothing is written to the package or the
user's cache (a temporary LSTMKIT_CACHE_DIR is used).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

#: the README's example: sequence-to-label LSTM, adam, classify
_JV = """
X = [rs.standard_normal((12, int(t))) for t in rs.integers(7, 27, 60)]
Y = np.array([str(i % 9 + 1) for i in range(60)])
layers = [sequenceInputLayer(12), lstmLayer(100, OutputMode="last"), fullyConnectedLayer(9),
          softmaxLayer(), classificationLayer()]
net = trainNetwork(X, Y, layers, trainingOptions("adam", MaxEpochs=1, MiniBatchSize=27,
                   GradientThreshold=1, Verbose=0))
classify(net, X, MiniBatchSize=27)
"""

WORKFLOWS = {
    "jv": _JV,
    # what the other examples add: sequence regression, BiLSTM, GRU, float64
    "all": _JV + """
R = [rs.standard_normal((2, x.shape[1])) for x in X]
layers = [sequenceInputLayer(12), bilstmLayer(20), gruLayer(10), fullyConnectedLayer(2),
          regressionLayer()]
net = trainNetwork(X, R, layers, trainingOptions("sgdm", MaxEpochs=1, Verbose=0))
predict(net, X)
net = trainNetwork(X, Y, [sequenceInputLayer(12), lstmLayer(8, OutputMode="last"),
                   fullyConnectedLayer(9), softmaxLayer(), classificationLayer()],
                   trainingOptions("rmsprop", MaxEpochs=1, Verbose=0), dtype="float64")
""",
}

CHILD = """
import sys, time
t0 = time.perf_counter()
import numpy as np
from numba.core import event
records = []
class Recorder(event.Listener):
    def __init__(self):
        self.stack = []
    def on_start(self, ev):
        self.stack.append([time.perf_counter(), 0.0])
    def on_end(self, ev):
        start, nested = self.stack.pop()
        total = time.perf_counter() - start
        if self.stack:
            self.stack[-1][1] += total
        d = ev.data["dispatcher"]
        name = d.py_func.__module__ + "." + d.py_func.__qualname__
        records.append((name, total - nested, len(self.stack), str(ev.data["args"])))
event.register("numba:compile", Recorder())
from lstmkit import *
rs = np.random.default_rng(0)
t1 = time.perf_counter()
%s
t2 = time.perf_counter()
import json
print(json.dumps({"import": t1 - t0, "work": t2 - t1, "records": records}))
"""


def run(workflow, cache):
    env = dict(os.environ, LSTMKIT_CACHE_DIR=cache, LSTMKIT_QUIET="1")
    out = subprocess.run([sys.executable, "-c", CHILD % WORKFLOWS[workflow]], env=env,
                         capture_output=True, text=True, check=True)
    import json
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflow", choices=sorted(WORKFLOWS), default="jv")
    parser.add_argument("--all-records", action="store_true", help="list every compilation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        cold = run(args.workflow, cache)
        cold_wall = time.perf_counter() - t
        t = time.perf_counter()
        warm = run(args.workflow, cache)
        warm_wall = time.perf_counter() - t
    per_kernel = {}
    for name, own, _depth, sig in cold["records"]:
        if not name.startswith("lstmkit."):
            continue
        entry = per_kernel.setdefault(name, [0.0, 0, set()])
        entry[0] += own
        entry[1] += 1
        entry[2].add(sig)
    print(f"workflow {args.workflow!r}: {len(cold['records'])} compilations "
          f"({sum(v[1] for v in per_kernel.values())} of lstmkit kernels)")
    print(f"{'kernel':<52} {'own s':>7} {'times':>5}")
    for name, (own, count, sigs) in sorted(per_kernel.items(), key=lambda kv: -kv[1][0]):
        print(f"{name:<52} {own:7.2f} {count:5d}")
        if args.all_records:
            for sig in sorted(sigs):
                print(f"    {sig[:150]}")
    total = sum(v[0] for v in per_kernel.values())
    print(f"compiling lstmkit's kernels: {total:.1f} s; whole process: cold {cold_wall:.1f} s "
          f"(import {cold['import']:.1f} s, work {cold['work']:.1f} s), "
          f"warm cache {warm_wall:.1f} s (import {warm['import']:.1f} s, work {warm['work']:.1f} s)")


if __name__ == "__main__":
    main()
