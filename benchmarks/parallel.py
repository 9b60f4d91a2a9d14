"""Data-parallel training on a Dask pool: measured on this machine, modelled for more workers.

    python benchmarks/parallel.py [--only small medium large] [--no-record] [--predict-only]

Needs the ``parallel`` extra.  For each shape (calls.py's small, medium and
large, float32):

* per-iteration time of trainNetwork with ExecutionEnvironment 'cpu' (2
  threads, what a user has), 'cpu' with 1 thread (one worker's speed) and
  'parallel' on a 2-worker pool (each worker single-threaded); per iteration
  = (t(k2 iterations) - t(k1)) / (k2 - k1), so set-up is excluded;
* on one pool worker, the compute of a share of n observations, t_c(n), for n
  = B, B/2, ..., B/64 (the call's time minus an echo of the same arrays);
* the transfer: an echo of S bytes to a worker and back, fitted as
  2 * (alpha + S / beta) (loopback here);
* the client's solver step over the S-byte parameter vector;
* prediction: a whole ``predict`` call over 4 B observations with
  ExecutionEnvironment 'cpu' (2 threads) and 'parallel' (2 workers), median
  of 3 after a warm-up (the network goes to the workers in every call).

Model (the client sends the weights to each of P workers and receives P
gradients, so its link carries 2 P S bytes per iteration):
``T(P) = t_c(B / P) + 2 alpha + 2 P S / beta + t_step``, efficiency
``T(1) / (P T(P))`` with ``T(1) = t_c(B) + t_step``; for loopback (the fitted
alpha, beta) and for 10 GbE (alpha = 50 us, beta = 1.1 GB/s).  The real
2-worker run checks the model.  Appends to benchmarks/RESULTS.md.
"""

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from calls import CASES, era_layers, make_data  # noqa: E402
from run import record  # noqa: E402

TEN_GBE = (50e-6, 1.1e9)
WORKERS = (1, 2, 4, 8, 16, 32, 64)
ITERATIONS = {"small": (5, 25), "medium": (2, 8), "large": (1, 3)}


def per_iteration(lk, X, Y, layers, N, env, k1, k2, threads=None):
    import numba
    old = numba.get_num_threads()
    if threads:
        numba.set_num_threads(threads)
    times = {}
    try:
        for k in (k1, k2):
            opts = lk.trainingOptions("adam", MiniBatchSize=N, MaxEpochs=1, Shuffle="never",
                                      Verbose=False, ExecutionEnvironment=env)
            best = []
            for _ in range(2):
                t0 = time.perf_counter()
                lk.trainNetwork(X[:k * N], Y[:k * N], layers, opts)
                best.append(time.perf_counter() - t0)
            times[k] = min(best)
    finally:
        numba.set_num_threads(old)
    return (times[k2] - times[k1]) / (k2 - k1)


class Echo:
    """An actor returning what it gets (transfer cost)."""

    def echo(self, a):
        return a


def median_call(fn, repeats):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def transfer_fit(client, worker):
    import numpy as np
    echo = client.submit(Echo, actor=True, workers=[worker]).result()
    sizes = [8, 1 << 20, 4 << 20, 16 << 20]
    times = [median_call(lambda s=s: echo.echo(np.ones(s // 8)).result(), 7) for s in sizes]
    # t = 2 alpha + 2 S / beta, least squares on (S, t)
    A = np.array([[2.0, 2.0 * s] for s in sizes])
    (alpha, inv_beta), *_ = np.linalg.lstsq(A, np.array(times), rcond=None)
    return max(alpha, 1e-6), 1.0 / max(inv_beta, 1e-12), echo


def share_compute(client, worker, lk, X, Y, layers, N, echo):
    """t_c(n) on one worker for n = N, N/2, ..., at least 1 (minus the transfer)."""
    import numpy as np
    from lstmkit.training.workers import ShareWorker, worker_options
    opts = lk.trainingOptions("adam", MiniBatchSize=N, Verbose=False)
    actor = client.submit(ShareWorker, "trainNetwork", (X[:N], Y[:N], layers,
                          worker_options(opts)), "float32", actor=True, workers=[worker],
                          pure=False).result()
    size = actor.size().result()
    theta = np.random.default_rng(0).standard_normal(size).astype(np.float32) * 0.1
    out = {}
    for P in WORKERS:
        n = max(1, N // P)
        idx = np.arange(n)
        actor.gradient(theta, idx, N, None, "right").result()          # warm-up
        call = median_call(lambda idx=idx: actor.gradient(theta, idx, N, None, "right").result(),
                           5)
        transfer = median_call(lambda: echo.echo(theta).result(), 5)
        out[P] = max(call - transfer, 1e-6)
    return out, size * 4


def solver_step(size):
    import numpy as np
    from lstmkit.kernels import solvers
    theta = np.ones(size, np.float32)
    grad = np.full(size, 1e-3, np.float32)
    s1, s2 = np.zeros_like(theta), np.zeros_like(theta)
    lr = np.ones_like(theta)
    solvers.solver_step(solvers.ADAM, theta, grad, s1, s2, 1e-3, lr, 0.9, 0.999, 1e-8, 1)
    return median_call(lambda: solvers.solver_step(solvers.ADAM, theta, grad, s1, s2, 1e-3, lr,
                                                   0.9, 0.999, 1e-8, 1), 20)


def prediction(lk, X, Y, layers, N):
    """Median whole-call predict time over 4 N observations: 'cpu' and 'parallel'."""
    opts = lk.trainingOptions("adam", MiniBatchSize=N, MaxEpochs=1, Verbose=False)
    net = lk.trainNetwork(X[:N], Y[:N], layers, opts)
    data = (X * 4)[:4 * N] if len(X) < 4 * N else X[:4 * N]
    out = {}
    for env in ("cpu", "parallel"):
        lk.predict(net, data[:N], ExecutionEnvironment=env)            # warm-up
        out[env] = median_call(lambda e=env: lk.predict(net, data, ExecutionEnvironment=e), 3)
    return out, len(data)


def train_row(lk, lines, case, client, worker, alpha, beta, echo, X, Y, layers, N):
    """One shape's row of the training table: measured and modelled."""
    k1, k2 = ITERATIONS[case]
    opts = lk.trainingOptions("adam", MiniBatchSize=N, MaxEpochs=1, Verbose=False)
    lk.trainNetwork(X[:N], Y[:N], layers, opts)                    # compile here
    two = per_iteration(lk, X, Y, layers, N, "cpu", k1, k2)
    one = per_iteration(lk, X, Y, layers, N, "cpu", k1, k2, threads=1)
    par = per_iteration(lk, X, Y, layers, N, "parallel", k1, k2)
    tc, S = share_compute(client, worker, lk, X, Y, layers, N, echo)
    step = solver_step(S // 4)
    T1 = tc[1] + step
    eff = {name: [T1 / (P * model(tc, S, step, a, b, P)) for P in (2, 4, 8, 16, 64)]
           for name, (a, b) in (("loop", (alpha, beta)), ("10g", TEN_GBE))}
    pred2 = model(tc, S, step, alpha, beta, 2)
    lines.append(
        f"| {case} (N={N}, {S / 2**20:.2f} MiB of weights) | {two * 1e3:.1f} ms | "
        f"{one * 1e3:.1f} ms | {par * 1e3:.1f} ms | {pred2 * 1e3:.1f} ms "
        f"({pred2 / par:.2f} of measured) | "
        + " / ".join(f"{e:.2f}" for e in eff["loop"]) + " | "
        + " / ".join(f"{e:.2f}" for e in eff["10g"]) + " |")
    print(lines[-1], flush=True)


def model(tc, S, step, alpha, beta, P):
    return tc[P] + 2 * alpha + 2 * P * S / beta + step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["small", "medium", "large"])
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--predict-only", action="store_true",
                        help="measure prediction only (no training table)")
    args = parser.parse_args()
    import lstmkit as lk
    pool = lk.parpool("Processes", 2)
    client = pool.Client
    worker = pool.workers()[0]
    alpha, beta, echo = transfer_fit(client, worker)
    lines = [f"## {datetime.datetime.now():%Y-%m-%d %H:%M}: data-parallel training "
             f"(benchmarks/parallel.py), {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} logical cores, 2-worker local pool",
             "",
             f"Loopback transfer fit: alpha = {alpha * 1e6:.0f} us, beta = {beta / 1e9:.2f} GB/s "
             f"(echo of 8 B to 16 MiB); 10 GbE model: alpha = 50 us, beta = 1.1 GB/s.",
             "",
             "| shape | cpu, 2 threads | cpu, 1 thread | parallel, 2 workers | model, 2 workers "
             "(loopback) | model efficiency at 2 / 4 / 8 / 16 / 64 workers, loopback | same, "
             "10 GbE |",
             "|---|---|---|---|---|---|---|"]
    predicted = []
    for case in args.only:
        N = CASES[case][0]
        X, Y, _ = make_data(case)
        layers = era_layers(lk, case)
        if not args.predict_only:
            train_row(lk, lines, case, client, worker, alpha, beta, echo, X, Y, layers, N)
        times, count = prediction(lk, X, Y, layers, N)
        predicted.append(f"| {case} | {count} | {times['cpu'] * 1e3:.1f} ms | "
                         f"{times['parallel'] * 1e3:.1f} ms | "
                         f"{times['cpu'] / times['parallel']:.2f} |")
        print(predicted[-1], flush=True)
    if args.predict_only:
        lines = [lines[0].replace("data-parallel training (benchmarks/parallel.py)",
                                  "prediction on the pool (benchmarks/parallel.py --predict-only)")]
    lines += ["", "Prediction, whole predict call (median of 3):", "",
              "| shape | observations | cpu, 2 threads | parallel, 2 workers | speed-up |",
              "|---|---|---|---|---|"] + predicted
    report = "\n".join(lines)
    print(report)
    pool.delete()
    if not args.no_record:
        record("\n" + report + "\n")


if __name__ == "__main__":
    main()
