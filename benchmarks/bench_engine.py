"""Benchmark the engine: histories per second by batch size and workers, memory per history.

Run: python benchmarks/bench_engine.py [--runs 100000]
Prints figures measured side by side in one run, and ratios against the first row. Timings
are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np

from politburo.engine import simulate
from politburo.runner import run
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    model = compile_scenario(load_scenario())
    simulate(model, 0, np.arange(50))  # compile the Numba kernel outside the timings
    print(f"cores: {os.cpu_count()}; scenario soviet-1922, {model.steps} monthly steps, "
          f"{args.runs:,} histories per row")
    rows = []
    for batch, workers in [(1000, 1), (5000, 1), (20000, 1), (5000, 2), (20000, 2)]:
        t0 = time.perf_counter()
        run(model, args.seed, args.runs, batch_size=batch, workers=workers)
        dt = time.perf_counter() - t0
        rows.append((batch, workers, args.runs / dt))
    base = rows[0][2]
    print(f"{'batch':>7} {'workers':>7} {'histories/s':>12} {'ratio':>6}")
    for batch, workers, rate in rows:
        print(f"{batch:>7} {workers:>7} {rate:>12,.0f} {rate / base:>6.2f}")
    for batch in (1000, 5000, 20000):
        tracemalloc.start()
        simulate(model, args.seed, np.arange(batch))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak memory in flight, batch {batch:>6}: {peak / 2**20:7.1f} MiB, "
              f"{peak / batch / 1024:6.1f} KiB per history")


if __name__ == "__main__":
    main()
