"""The cost of a custom training loop against trainnet, on the same model and data.

    python benchmarks/custom_loop.py [--only small medium] [--no-record]

Model: sequenceInputLayer(C) -> lstmLayer(H, OutputMode="last") ->
fullyConnectedLayer(K), loss "mse" (trainnet) and its equal in the loop,
``l2loss(Y, T, NormalizationFactor="all-elements")``; sequences of one length
(no padding, so both do the same arithmetic); adam.  Per iteration:

* trainnet: (t(4 epochs) - t(1 epoch)) / iterations between, each time the
  fastest of three runs, so the set-up is excluded;
* the loop: ``dlfeval(modelLoss, net, X, T)`` (forward, the loss,
  ``dlgradient(loss, net.Learnables)``) and ``adamupdate``, on mini-batches
  prepared beforehand as dlarrays; and the same with the mini-batches read
  from a minibatchqueue (its reads included).  Per iteration: the fastest
  epoch of five after a warm-up one, divided by its iterations.

Both figures are the fastest of repeated whole epochs, so machine noise
affects them alike.

The issue's goal: the loop within 1.3x of trainnet.  Appends to
benchmarks/RESULTS.md.
"""

import argparse
import datetime
import os
import platform
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
    train(1)                                               # compile, caches
    t1 = min(train(1) for _ in range(3))
    t4 = min(train(4) for _ in range(3))
    per_trainnet = (t4 - t1) / (3 * batches)

    def model_loss(net, Xb, Tb):
        Yb = lk.forward(net, Xb)
        loss = lk.l2loss(Yb, Tb, NormalizationFactor="all-elements")
        return loss, lk.dlgradient(loss, net.Learnables)

    prepared = [(lk.dlarray(np.stack(X[b * N:(b + 1) * N], axis=2), "TCB"),
                 Y[b * N:(b + 1) * N].T) for b in range(batches)]

    def loop(source, rounds=6):
        """Seconds per iteration: the fastest of ``rounds - 1`` epochs after a warm-up one
        (as trainnet's figure is the fastest of repeated runs)."""
        net, avg, avg_sq = net0, None, None
        epochs, iteration = [], 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            for Xb, Tb in source():
                _, grad = lk.dlfeval(model_loss, net, Xb, Tb)
                iteration += 1
                net, avg, avg_sq = lk.adamupdate(net, grad, avg, avg_sq, iteration,
                                                 nargout=3)
            epochs.append((time.perf_counter() - t0) / batches)
        return min(epochs[1:])

    per_loop = loop(lambda: prepared)
    ds = lk.combine(lk.arrayDatastore(X, OutputType="same"), lk.arrayDatastore(Y))
    mbq = lk.minibatchqueue(ds, MiniBatchSize=N, MiniBatchFormat=["TCB", "CB"],
                            MiniBatchFcn=lambda x, t: (np.stack(x, axis=2),
                                                       np.concatenate(t, axis=0).T))

    def queued():
        lk.reset(mbq)
        while lk.hasdata(mbq):
            yield next(mbq)
    per_queue = loop(queued)
    return per_trainnet, per_loop, per_queue


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(CASES))
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    import lstmkit as lk
    lines = [f"## {datetime.datetime.now():%Y-%m-%d %H:%M}: custom loop against trainnet "
             f"(benchmarks/custom_loop.py), {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} logical cores", "",
             "| shape (N, T, C, H) | trainnet per iteration | loop per iteration | ratio | "
             "loop with minibatchqueue | ratio |", "|---|---|---|---|---|---|"]
    for case in args.only:
        N, T, C, H = CASES[case][:4]
        per_trainnet, per_loop, per_queue = measure(lk, case)
        lines.append(f"| {case} ({N}, {T}, {C}, {H}) | {per_trainnet * 1e3:.1f} ms | "
                     f"{per_loop * 1e3:.1f} ms | {per_loop / per_trainnet:.2f} | "
                     f"{per_queue * 1e3:.1f} ms | {per_queue / per_trainnet:.2f} |")
        print(lines[-1], flush=True)
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("\n" + report + "\n")


if __name__ == "__main__":
    main()
