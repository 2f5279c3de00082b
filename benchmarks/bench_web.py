"""How long the web app takes to answer a what-if of 4,000 paired histories.

Run from the repository root::

    python benchmarks/bench_web.py                 # 4,000 paired histories, 2 workers
    python benchmarks/bench_web.py --runs 2000 --workers 1

It prints, measured side by side in one run: ``Experiment.whatif()`` in this process (the
reference), then the web app's job through its real HTTP API (Starlette's test client, no
network): cold with both worlds simulated (a seed no one has asked for, warm worker
processes), cold with the baseline world the app simulates when it starts (what a class sees:
the default seed and number of histories), and answered from the cache. Also the cost of
starting the workers. A benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from typing import Any

from fastapi.testclient import TestClient

from politburo import __version__
from politburo.experiment.worlds import Experiment
from politburo.scenario.loader import load_scenario
from politburo.web import create_app


def wait(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    while job["status"] in ("queued", "running"):
        time.sleep(0.01)
        job = client.get(f"/api/jobs/{job['id']}").json()
    if job["status"] != "done":
        raise SystemExit(f"job failed: {job['error']}")
    return job


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4000, help="paired histories")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    s = load_scenario()
    print(f"politburo {__version__}, Python {sys.version.split()[0]}, {platform.machine()}, "
          f"{os.cpu_count()} cores; {args.runs:,} paired histories, {args.workers} workers")

    t = time.perf_counter()
    Experiment(s, levers={"trotsky_attends_funeral": None}, runs=args.runs,
               seed=args.seed).whatif().to_dict()
    ref = time.perf_counter() - t
    print(f"  Experiment.whatif() in one process:          {ref:6.2f} s")

    app = create_app(s, workers=args.workers)
    t = time.perf_counter()
    with TestClient(app) as client:  # the lifespan starts and warms the workers
        start = time.perf_counter() - t
        print(f"  start and warm {args.workers} worker processes:        {start:6.2f} s")

        def whatif(levers: dict[str, Any], seed: int) -> tuple[float, dict[str, Any]]:
            t0 = time.perf_counter()
            job = client.post("/api/whatif", json={"levers": levers, "runs": args.runs,
                                                   "seed": seed}).json()
            job = wait(client, job)
            return time.perf_counter() - t0, job

        while client.get("/api/health").json()["jobs"]["active"]:
            time.sleep(0.05)  # the baseline world the app simulates when it starts
        print(f"  ... and simulate the default baseline world: {time.perf_counter() - t:6.2f} s")
        lever = {"trotsky_attends_funeral": None}
        cold, _ = whatif(lever, args.seed + 1)
        print(f"  web what-if, cold, both worlds simulated:   {cold:6.2f} s "
              f"({ref / cold:.2f}x the reference)")
        half, _ = whatif(lever, args.seed)
        print(f"  web what-if, cold, baseline from start-up:  {half:6.2f} s")
        hot, job = whatif(lever, args.seed)
        print(f"  web what-if, answered from the cache:       {hot * 1000:6.1f} ms "
              f"(cached={job['cached']})")

if __name__ == "__main__":
    main()
