"""How long exact Shapley attribution takes: ``Experiment.explain`` over all 2**L worlds.

Run from the repository root::

    python benchmarks/bench_explain.py                 # 12 levers x 1000 histories, all cores
    python benchmarks/bench_explain.py --levers 6      # a quicker look

It prints, measured side by side in one run: one world of ``--runs`` histories run alone
(compile + simulate), then the full attribution with ``--workers`` processes, its wall time,
worlds and histories per second, and its speed-up over running the worlds one after another.
A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

from politburo import __version__
from politburo.experiment.worlds import Draws, Experiment, simulate_world
from politburo.scenario.compile import compile_scenario
from politburo.scenario.levers import apply_levers
from politburo.scenario.loader import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levers", type=int, default=12, help="first L levers of the scenario")
    ap.add_argument("--runs", type=int, default=1000, help="histories per world")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    s = load_scenario()
    names = [lv.id for lv in s.levers][: args.levers]
    print(f"politburo {__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f} (other work on the machine slows every "
          f"figure below)")

    draws = Draws(args.seed, np.arange(args.runs, dtype=np.int64), None, "prior")
    simulate_world(compile_scenario(s), Draws(args.seed, np.arange(10), None, "prior"))  # warm
    t0 = time.perf_counter()
    scen, fixed = apply_levers(s, names)
    simulate_world(compile_scenario(scen, fixed=fixed), draws)
    one = time.perf_counter() - t0
    worlds = 1 << len(names)
    print(f"one world, {args.runs:,} histories: {one:.3f} s "
          f"({args.runs / one:,.0f} histories/s)")
    print(f"serial estimate for {worlds:,} worlds: {worlds * one:,.0f} s")

    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30 or done == total:
            last[0] = now
            sys.stderr.write(f"  {done:,}/{total:,} histories\n")

    exp = Experiment(s, runs=args.runs, seed=args.seed, parameters="prior",
                     workers=args.workers, progress=progress)
    t0 = time.perf_counter()
    r = exp.explain(names, "stalin")
    wall = time.perf_counter() - t0
    total = worlds * args.runs
    print(f"explain: {len(names)} levers x {args.runs:,} histories = {worlds:,} worlds, "
          f"{total:,} histories, {args.workers} workers: {wall:,.1f} s "
          f"({wall / 60:.1f} min)")
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")
    print(f"  {worlds / wall:.2f} worlds/s, {total / wall:,.0f} histories/s, "
          f"{wall / worlds * 1000:.0f} ms per world; speed-up over serial "
          f"{worlds * one / wall:.2f}x")
    print(f"  P(stalin): {r.baseline:.3f} with no lever, {r.all_levers:.3f} with all; "
          f"sum of Shapley values {float(np.sum(r.shapley.value)):+.4f} = total effect "
          f"{r.shapley.total_effect:+.4f}")
    for name, value in sorted(zip(r.shapley.names, r.shapley.value, strict=True),
                              key=lambda kv: -abs(kv[1])):
        print(f"    {name:28s} {value:+.4f}")


if __name__ == "__main__":
    main()
