"""Benchmark scale-out: the same histories on local worker processes and on a Dask cluster.

Run: python benchmarks/bench_cluster.py [--histories 20000] [--workers 2] [--batch-size 5000]
     [--scheduler tcp://HOST:8786]

Side by side in one run: ``runner.run`` in this process, on ``--workers`` local processes, and
on a Dask cluster: a ``LocalCluster`` of ``--workers`` processes (one thread each) started here,
or the cluster at ``--scheduler``. The cluster's start is timed apart from the run. Each run's
histories are checked equal to the first's. Prints seconds, histories per second and the ratio
to the local pool. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

from politburo.engine.histories import Histories
from politburo.engine.month import simulate
from politburo.runner.batches import run
from politburo.runner.cluster import connect, executor
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario


def timed(fn: Callable[[], Histories]) -> tuple[float, Histories]:
    t0 = time.perf_counter()
    h = fn()
    return time.perf_counter() - t0, h


def main() -> None:
    from distributed import LocalCluster

    ap = argparse.ArgumentParser()
    ap.add_argument("--histories", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n, w, b = args.histories, args.workers, args.batch_size
    model = compile_scenario(load_scenario())
    simulate(model, 0, np.arange(50))  # compile the Numba kernel outside the timings
    print(f"cores: {os.cpu_count()}; {n:,} histories of seed {args.seed}, ranges of {b:,}")
    rows: list[tuple[str, float]] = []
    t, ref = timed(lambda: run(model, args.seed, n, batch_size=b))
    rows.append(("this process", t))
    t, h = timed(lambda: run(model, args.seed, n, batch_size=b, workers=w))
    rows.append((f"local pool, {w} processes", t))
    assert np.array_equal(h.falls, ref.falls) and np.array_equal(h.winner, ref.winner)
    t0 = time.perf_counter()
    local = None
    if args.scheduler is None:
        local = LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                             dashboard_address=None)
    address = args.scheduler or local.scheduler_address  # type: ignore[union-attr]
    client = connect(address)
    ex = executor(client)
    client.run(lambda: simulate(model, 0, np.arange(50)) and None)  # warm each worker's Numba
    start = time.perf_counter() - t0
    label = f"Dask {'LocalCluster' if local else address}, {len(client.nthreads())} workers"
    try:
        t, h = timed(lambda: run(model, args.seed, n, batch_size=b, executor=ex))
        rows.append((label, t))
        assert np.array_equal(h.falls, ref.falls) and np.array_equal(h.winner, ref.winner)
    finally:
        client.close()
        if local is not None:
            local.close()
    base = rows[1][1]
    for name, t in rows:
        print(f"{name:<40} {t:7.2f} s {n / t:10,.0f} histories/s  x{base / t:5.2f} vs pool")
    print(f"(cluster start and warm-up, not counted: {start:.1f} s; histories identical)")


if __name__ == "__main__":
    main()
