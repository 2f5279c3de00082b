"""Compare the engine's speed at two revisions, measured side by side in one run.

Run: python benchmarks/bench_compare.py --base 60b445a [--runs 5000] [--rounds 3]

The base revision is checked out into a temporary git worktree; each round times one batch of
the built-in scenario at the base and at the working tree, alternately, in fresh processes (so
both pay the same start-up and neither benefits from the other's warm caches), after a warm-up
that compiles the Numba kernels. Prints histories/s for each round, the medians and their
ratio. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, time
import numpy as np
from politburo import simulate
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario
model = compile_scenario(load_scenario("soviet-1922"))
simulate(model, 0, np.arange(50))  # compile outside the timing
runs = int(sys.argv[1])
t0 = time.perf_counter()
simulate(model, 1, np.arange(runs))
print(json.dumps({"rate": runs / (time.perf_counter() - t0)}))
"""


def rate(src: Path, runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(runs)], env=env, check=True,
                         capture_output=True, text=True, cwd=src.parent).stdout
    return float(json.loads(out.strip().splitlines()[-1])["rate"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--runs", type=int, default=5000, help="histories per timing (one batch)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(wt),
                        args.base], check=True)
        try:
            base, head = [], []
            print(f"cores: {os.cpu_count()}; one batch of {args.runs:,} histories per timing, "
                  f"one worker; base {args.base} against the working tree")
            for r in range(args.rounds):
                base.append(rate(wt / "src", args.runs))
                head.append(rate(ROOT / "src", args.runs))
                print(f"round {r + 1}: base {base[-1]:8.0f}/s   working tree {head[-1]:8.0f}/s")
            b, h = statistics.median(base), statistics.median(head)
            print(f"median: base {b:.0f}/s, working tree {h:.0f}/s; "
                  f"cost per history, working tree / base: {b / h:.2f}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(wt)],
                           check=False)


if __name__ == "__main__":
    main()
