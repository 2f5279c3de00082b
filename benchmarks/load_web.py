"""A class of students on one laptop: a bounded load test of ``politburo serve`` on loopback.

Run from the repository root::

    python benchmarks/load_web.py                       # 30 students, 2 phases of 45 s at most
    python benchmarks/load_web.py --students 10 --actions 4

It starts the real server (uvicorn, 127.0.0.1 only, a free port) in a subprocess, then lets
``--students`` threads each do ``--actions`` lesson actions: open a page, run a what-if and poll
its job to the end, read a history, ask for the weights of two factors. The same lesson runs
twice: with the cache cold (a fresh server), then warm (the same questions again). For each
phase it prints throughput, p50/p95 latency of whole actions and of single requests, errors
(5xx or no answer) and 'busy' answers (429, retried after Retry-After), and the resident
memory of the server and its worker processes before and after. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

SERVER = """
import uvicorn
from politburo.web import create_app
uvicorn.run(create_app(workers={workers}, queue_limit={queue}), host="127.0.0.1", port={port},
            log_level="warning")
"""
LEVERS = ["lenin_lives", "trotsky_attends_funeral", "testament_published",
          "no_secretariat_patronage", "no_lenin_enrolment", "no_faction_ban"]


@dataclass
class Stats:
    actions: list[float] = field(default_factory=list)
    requests: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    busy: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MiB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


class Student:
    def __init__(self, base: str, stats: Stats, deadline: float, rng: random.Random) -> None:
        self.base, self.stats, self.deadline, self.rng = base, stats, deadline, rng

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        for _ in range(20):
            req = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    payload = r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                payload, status = e.read(), e.code
                if status == 429:
                    with self.stats.lock:
                        self.stats.busy += 1
                    time.sleep(float(e.headers.get("Retry-After", "2")))
                    continue
            except OSError as e:
                with self.stats.lock:
                    self.stats.errors.append(f"{path}: {e}")
                return None
            with self.stats.lock:
                self.stats.requests.append(time.perf_counter() - t)
                if status >= 400:
                    self.stats.errors.append(f"{path}: HTTP {status}")
            if path.startswith("/api/"):
                return json.loads(payload) if status < 400 else None
            return payload
        with self.stats.lock:
            self.stats.errors.append(f"{path}: still busy after 20 tries")
        return None

    def job(self, path: str, body: dict[str, Any]) -> None:
        job = self.call("POST", path, body)
        while job is not None and job["status"] in ("queued", "running"):
            if time.monotonic() > self.deadline:
                return
            time.sleep(0.3)
            job = self.call("GET", f"/api/jobs/{job['id']}")
        if job is not None and job["status"] != "done":
            with self.stats.lock:
                self.stats.errors.append(f"{path}: job {job['status']}: {job['error']}")

    def act(self, k: int) -> None:
        lever = LEVERS[k % len(LEVERS)]
        kind = k % 4
        if kind == 0:
            self.call("GET", "/whatif")
            self.job("/api/whatif", {"levers": {lever: None}, "runs": 4000, "seed": 1})
        elif kind == 1:
            self.call("GET", f"/chronicle?history={self.rng.randrange(20)}")
        elif kind == 2:
            self.job("/api/explain", {"levers": [lever, LEVERS[(k + 1) % len(LEVERS)]],
                                      "runs": 200, "seed": 1})
        else:
            self.call("GET", "/")
            self.call("GET", "/api/scenario")

    def run(self, actions: int) -> None:
        for k in range(actions):
            if time.monotonic() > self.deadline:
                return
            t = time.perf_counter()
            self.act(k + self.rng.randrange(len(LEVERS)))
            with self.stats.lock:
                self.stats.actions.append(time.perf_counter() - t)


def phase(name: str, base: str, args: argparse.Namespace, pid: int) -> None:
    stats = Stats()
    rss0 = rss_mib(pid)
    deadline = time.monotonic() + args.seconds
    students = [Student(base, stats, deadline, random.Random(i)) for i in range(args.students)]
    threads = [threading.Thread(target=s.run, args=(args.actions,)) for s in students]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    rss1 = rss_mib(pid)
    print(f"{name}: {len(stats.actions)} actions by {args.students} students in {wall:.1f} s "
          f"= {len(stats.actions) / wall:.2f} actions/s, {len(stats.requests) / wall:.1f} "
          f"requests/s")
    print(f"  action latency p50 {pct(stats.actions, .5):.2f} s, p95 "
          f"{pct(stats.actions, .95):.2f} s; request latency p50 "
          f"{pct(stats.requests, .5) * 1000:.0f} ms, p95 {pct(stats.requests, .95) * 1000:.0f} ms")
    print(f"  errors {len(stats.errors)}, busy (429) answers {stats.busy}; server RSS "
          f"{rss0:.0f} MiB before, {rss1:.0f} MiB after (with its workers)")
    for e in stats.errors[:5]:
        print("   ", e)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--actions", type=int, default=6, help="actions per student and phase")
    ap.add_argument("--seconds", type=float, default=45, help="time limit of a phase")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--queue", type=int, default=32)
    args = ap.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(
        workers=args.workers, queue=args.queue, port=port)])
    try:
        t = time.perf_counter()
        while True:
            try:
                with urllib.request.urlopen(base + "/api/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t > 120:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.3)
        print(f"server up in {time.perf_counter() - t:.1f} s ({args.workers} workers, queue "
              f"limit {args.queue}), RSS {rss_mib(proc.pid):.0f} MiB; load average "
              f"{os.getloadavg()[0]:.2f}")
        phase("cold cache", base, args, proc.pid)
        phase("warm cache", base, args, proc.pid)
        with urllib.request.urlopen(base + "/api/health") as r:
            print("server:", json.loads(r.read())["jobs"])
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
