"""The cost of a custom training loop against trainnet, on the same model and data.

    python benchmarks/custom_loop.py [--only small medium] [--processes 5] [--no-record]

Model: sequenceInputLayer(C) -> lstmLayer(H, OutputMode="last") ->
fullyConnectedLayer(K), loss "mse" (trainnet) and its equal in the loop,
``l2loss(Y, T, NormalizationFactor="all-elements")``; sequences of one length
(no padding, so both do the same arithmetic); adam.  Per iteration:

* trainnet: (t(4 epochs) - t(1 epoch)) / iterations between, so the set-up
  is excluded;
* the loop: ``dlfeval(modelLoss, net, X, T)`` (forward, the loss,
  ``dlgradient(loss, net.Learnables)``) and ``adamupdate``, on mini-batches
  prepared beforehand as dlarrays; and the same with the mini-batches read
  from a minibatchqueue (its reads included), an epoch's time divided by its
  iterations.

Five rounds, each timing trainnet, then a loop epoch of each kind, in turn
(after a warm-up of each); every figure is the fastest of its five, so
machine noise meets the three alike.  The same code runs at different speeds
in different processes (up to 1.5x on the 2-core machine of RESULTS.md), so
each shape is measured in several fresh processes and the median ratio
reported with its range.

The issue's goal: the loop within 1.3x of trainnet.  Appends to
benchmarks/RESULTS.md.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from run import record  # noqa: E402

CASES = {"small": (27, 20, 12, 100, 9), "medium": (64, 100, 32, 128, 9)}   # N, T, C, H, K


def measure(lk, case):
    """Per-iteration seconds: trainnet, the loop, the loop reading a minibatchqueue."""
    N, T, C, H, K = CASES[case]
    r = np.random.default_rng(0)
    batches = 8
    X = [r.standard_normal((T, C)).astype(np.float32) for _ in range(N * batches)]
    Y = r.standard_normal((N * batches, K)).astype(np.float32)
    layers = [lk.sequenceInputLayer(C), lk.lstmLayer(H, OutputMode="last"),
              lk.fullyConnectedLayer(K)]
    net0 = lk.dlnetwork(layers)

    def train(epochs):
        opts = lk.trainingOptions("adam", MaxEpochs=epochs, MiniBatchSize=N,
                                  Shuffle="never", Verbose=False, L2Regularization=0)
        t0 = time.perf_counter()
        lk.trainnet(X, Y, net0, "mse", opts)
        return time.perf_counter() - t0
    def model_loss(net, Xb, Tb):
        Yb = lk.forward(net, Xb)
        loss = lk.l2loss(Yb, Tb, NormalizationFactor="all-elements")
        return loss, lk.dlgradient(loss, net.Learnables)

    prepared = [(lk.dlarray(np.stack(X[b * N:(b + 1) * N], axis=2), "TCB"),
                 Y[b * N:(b + 1) * N].T) for b in range(batches)]
    ds = lk.combine(lk.arrayDatastore(X, OutputType="same"), lk.arrayDatastore(Y))
    mbq = lk.minibatchqueue(ds, MiniBatchSize=N, MiniBatchFormat=["TCB", "CB"],
                            MiniBatchFcn=lambda x, t: (np.stack(x, axis=2),
                                                       np.concatenate(t, axis=0).T))

    def queued():
        lk.reset(mbq)
        while lk.hasdata(mbq):
            yield next(mbq)

    loop_state = {"net": net0, "avg": None, "avg_sq": None, "iteration": 0}

    def loop_epoch(source):
        """Seconds per iteration of one epoch of the loop (continuing its training)."""
        st = loop_state
        t0 = time.perf_counter()
        for Xb, Tb in source():
            _, grad = lk.dlfeval(model_loss, st["net"], Xb, Tb)
            st["iteration"] += 1
            st["net"], st["avg"], st["avg_sq"] = lk.adamupdate(
                st["net"], grad, st["avg"], st["avg_sq"], st["iteration"], nargout=3)
        return (time.perf_counter() - t0) / batches

    train(1)                                               # compile, caches
    loop_epoch(lambda: prepared)
    loop_epoch(queued)
    samples = {"trainnet": [], "loop": [], "queue": []}
    for _ in range(5):         # interleaved, so that both sides meet the same machine noise
        samples["trainnet"].append((train(4) - train(1)) / (3 * batches))
        samples["loop"].append(loop_epoch(lambda: prepared))
        samples["queue"].append(loop_epoch(queued))
    per_trainnet, per_loop, per_queue = (min(samples[k]) for k in ("trainnet", "loop", "queue"))
    return per_trainnet, per_loop, per_queue


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(CASES))
    parser.add_argument("--processes", type=int, default=5,
                        help="fresh processes per shape (the ratio reported is their median)")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:                       # one measurement, in a process of its own
        import lstmkit as lk
        print(json.dumps(measure(lk, args.child)))
        return
    lines = [f"## {datetime.datetime.now():%Y-%m-%d %H:%M}: custom loop against trainnet "
             f"(benchmarks/custom_loop.py), {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} logical cores, median of {args.processes} processes", "",
             "| shape (N, T, C, H) | trainnet per iteration | loop per iteration | ratio "
             "(range) | loop with minibatchqueue | ratio (range) |",
             "|---|---|---|---|---|---|"]
    for case in args.only:
        N, T, C, H = CASES[case][:4]
        runs = []
        for _ in range(args.processes):   # the same code runs up to 1.5x slower in some
            out = subprocess.run([sys.executable, __file__, "--child", case], check=True,
                                 capture_output=True, text=True).stdout   # processes than others
            runs.append(json.loads(out.strip().splitlines()[-1]))
        per_trainnet, per_loop, per_queue = (statistics.median(r[i] for r in runs)
                                             for i in range(3))
        loop_ratios = [r[1] / r[0] for r in runs]
        queue_ratios = [r[2] / r[0] for r in runs]
        lines.append(f"| {case} ({N}, {T}, {C}, {H}) | {per_trainnet * 1e3:.1f} ms | "
                     f"{per_loop * 1e3:.1f} ms | {statistics.median(loop_ratios):.2f} "
                     f"({min(loop_ratios):.2f}-{max(loop_ratios):.2f}) | "
                     f"{per_queue * 1e3:.1f} ms | {statistics.median(queue_ratios):.2f} "
                     f"({min(queue_ratios):.2f}-{max(queue_ratios):.2f}) |")
        print(lines[-1], flush=True)
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("\n" + report + "\n")


if __name__ == "__main__":
    main()
