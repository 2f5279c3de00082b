"""Benchmark calibration: how long ABC takes for a given number of histories.

Run: python benchmarks/bench_calibrate.py [--histories 20000] [--workers 1 2]

For each worker count, side by side in one run: plain simulation of the histories
(``runner.run``), rejection ABC over the same number of histories (engine + distance +
bookkeeping; ``politburo calibrate --method rejection``), rejection ABC with a checkpoint folder
(what the command does, so the cost of resumability shows), and ABC-SMC with that many
simulations as its budget (screening included). Prints seconds, histories per second and the
ratio to plain simulation with one worker. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from politburo.calibration import CalibrationSpec, calibrate
from politburo.engine.month import simulate
from politburo.runner.batches import run
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--histories", type=int, default=20_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    n = args.histories
    s = load_scenario()
    model = compile_scenario(s)
    simulate(model, 0, np.arange(50))  # compile the Numba kernel outside the timings
    print(f"cores: {os.cpu_count()}; scenario {s.id}, {model.steps} monthly steps, "
          f"{model.priors.dim} parameters; {n:,} histories per row")
    rej = CalibrationSpec(method="rejection", runs=n, seed=args.seed, quantile=0.01)
    screen = max(n // 10, 200)
    smc = CalibrationSpec(method="smc", runs=n - screen, seed=args.seed, screen=screen,
                          particles=max(n // 40, 50), generations=20)
    rows: list[tuple[str, int, float, int]] = []
    for w in args.workers:
        rows.append(("simulate only", w, timed(lambda w=w: run(model, args.seed, n, workers=w)),
                     n))
        rows.append(("rejection ABC", w, timed(lambda w=w: calibrate(s, rej, workers=w)), n))
        with tempfile.TemporaryDirectory() as tmp:
            ck = Path(tmp) / "ck"
            rows.append(("rejection ABC + checkpoint", w, timed(
                lambda w=w, ck=ck: calibrate(s, rej, workers=w, checkpoint=ck)), n))
        rows.append(("SMC (budget, with screening)", w,
                     timed(lambda w=w: calibrate(s, smc, workers=w)), n))
    base = rows[0][2]
    print(f"{'what':<30} {'workers':>7} {'seconds':>8} {'histories/s':>12} {'time ratio':>10}")
    for what, w, dt, count in rows:
        print(f"{what:<30} {w:>7} {dt:>8.2f} {count / dt:>12,.0f} {dt / base:>10.2f}")
    print("ABC-SMC stops when its budget is spent; its histories/s counts the budget, and "
          "the last generation's unused batch may add up to one batch more.")


if __name__ == "__main__":
    main()
