"""Benchmark the engines side by side: histories per second and memory per history in flight.

Run: python benchmarks/bench_engine.py [--runs 40000] [--quick] [--profile] [--scenario ID]

For batch sizes 1,000, 5,000 and 20,000 on one and two worker processes, the NumPy engine (the
mechanisms as written, the specification) and the compiled one (Numba kernels where they
exist, ``politburo.engine.compiled``) run the same histories one after the other, row by row,
so both see the same load on the machine; the table gives histories per second (wall clock) and the
ratio compiled / NumPy. Memory in flight is the peak resident set of a fresh process above its
warmed-up baseline while it runs one batch (Linux: VmHWM after resetting it through
/proc/self/clear_refs; this counts NumPy's and Numba's allocations alike, which tracemalloc
does not: it misses what compiled kernels allocate), divided by the batch.

The physical bound estimate adds what one history-month cannot do without: its random draws
(counted, and timed with ``politburo.engine.rng``'s own kernels, which stay as they are), its AES
coalition games (counted, timed with the existing kernel), and its remaining arithmetic
(estimated from the scenario's sizes) at the scalar rate this core sustains in a compiled
loop; and, separately, the bytes of state each history-month reads and writes, against this
core's memory bandwidth, for the month-by-month layout that streams the whole batch's state.
``--profile`` prints the share of time per mechanism under each engine. ``--quick`` runs fewer
histories and batches. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import os
import pstats
import time
from collections import Counter
from typing import Any

import numba
import numpy as np

from politburo.engine import rng
from politburo.engine.histories import coalition_dtype
from politburo.engine.mechanisms import coalitions
from politburo.engine.month import draw_attributes, draw_params, initial_state, simulate
from politburo.engine.state import step_dtype
from politburo.engine.switch import ENGINES
from politburo.runner.batches import run
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import RISE_STEPS


def _rss_peak_kib() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_now_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def _memory_child(args: tuple[str, str, int, int], out: Any) -> None:
    scenario, engine, batch, seed = args
    model = compile_scenario(load_scenario(scenario))
    simulate(model, seed, np.arange(200), engine=engine)  # load kernels, warm the allocator
    base = _rss_now_kib()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak resident set to the current one
    simulate(model, seed, np.arange(batch), engine=engine)
    peak = _rss_peak_kib()
    out.send(None if peak is None else (peak - base) / batch)


def memory_per_history(scenario: str, engine: str, batch: int, seed: int) -> float | None:
    """KiB of peak resident memory above the warmed-up baseline, per history in a batch."""
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    ctx = mp.get_context("spawn")  # a fresh process: nothing left over from earlier rows
    a, b = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_memory_child, args=((scenario, engine, batch, seed), b))
    p.start()
    value = a.recv()
    p.join()
    return value


def throughput(model: Compiled, seed: int, runs: int, batch: int, workers: int,
               engine: str) -> tuple[float, float]:
    """Histories per second of wall clock, and per second of this process's CPU time (on one
    worker the batches run here, so that is the rate of one core whatever else the machine
    runs)."""
    t0, c0 = time.perf_counter(), time.process_time()
    run(model, seed, runs, batch_size=batch, workers=workers, engine=engine)
    return runs / (time.perf_counter() - t0), runs / (time.process_time() - c0)


# --- the physical bound ------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def _scalar_loop(x: np.ndarray, reps: int) -> float:
    """Four independent chains of multiply, add, compare and select: branchy scalar work like
    the kernels', kept in L1."""
    a0 = a1 = a2 = a3 = 0.0
    for _ in range(reps):
        for i in range(0, x.shape[0], 4):
            a0 = a0 * 0.999 + x[i]
            a1 = a1 * 0.999 + x[i + 1]
            a2 = a2 * 0.999 + x[i + 2]
            a3 = a3 * 0.999 + x[i + 3]
            a0 = a0 if a0 < 1e6 else 0.0
            a1 = a1 if a1 < 1e6 else 0.0
            a2 = a2 if a2 < 1e6 else 0.0
            a3 = a3 if a3 < 1e6 else 0.0
    return a0 + a1 + a2 + a3


def scalar_ops_per_s() -> float:
    x = np.random.default_rng(0).random(1024)
    _scalar_loop(x, 1)
    reps = 20000
    t0 = time.process_time()
    _scalar_loop(x, reps)
    return 3 * x.shape[0] * reps / (time.process_time() - t0)  # mul, add, compare-select


def bandwidth_bytes_per_s() -> float:
    a = np.ones(32 * 2**20 // 8)
    b = np.empty_like(a)
    np.copyto(b, a)
    t0 = time.process_time()
    for _ in range(10):
        np.copyto(b, a)
    return 10 * 2 * a.nbytes / (time.process_time() - t0)  # read and write


def draw_rates() -> tuple[float, float]:
    """Seconds per uniform and per normal draw of ``politburo.engine.rng`` (width 7, 20,000
    rows)."""
    idx = np.arange(20000, dtype=np.int64)
    out = []
    for f in (rng.uniforms, rng.normals):
        f(1, idx, 0, "bench", 7)
        t0 = time.process_time()
        for m in range(50):
            f(1, idx, m, "bench", 7)
        out.append((time.process_time() - t0) / (50 * idx.size * 7))
    return out[0], out[1]


def aes_seconds_per_unit() -> float:
    """Seconds per 3^n subset pair of the AES kernel (``coalitions.ruling_coalition``)."""
    g = np.random.default_rng(0)
    H, n = 2000, 8
    power = g.random((H, n))
    args = (power, np.full(H, (1 << n) - 1), np.full(H, 0.5), np.zeros((H, n, n)),
            np.full(H, np.inf))
    coalitions.ruling_coalition(*args)
    t0 = time.process_time()
    coalitions.ruling_coalition(*args)
    return (time.process_time() - t0) / (H * 3 ** n)


def census(model: Compiled, seed: int, H: int) -> dict[str, float]:
    """Per history-month: uniform and normal draws, AES subset pairs (3^players summed over
    the games played), and the state's bytes; counted on one NumPy run of ``H`` histories."""
    counts: Counter[str] = Counter()
    real_u, real_z, real_aes = rng.uniforms, rng.normals, coalitions.ruling_coalition

    def u(seed: int, idx: np.ndarray, month: int, purpose: str, width: int = 1) -> np.ndarray:
        counts["uniform" if month >= 0 else "setup"] += len(idx) * width
        return real_u(seed, idx, month, purpose, width)

    def z(seed: int, idx: np.ndarray, month: int, purpose: str, width: int = 1) -> np.ndarray:
        counts["normal" if month >= 0 else "setup"] += len(idx) * width
        return real_z(seed, idx, month, purpose, width)

    def aes(power: np.ndarray, players: np.ndarray, *a: Any, **k: Any) -> np.ndarray:
        n = np.array([bin(int(p)).count("1") for p in players])
        counts["aes"] += int((3.0 ** n).sum())
        return real_aes(power, players, *a, **k)

    rng.uniforms, rng.normals, coalitions.ruling_coalition = u, z, aes  # type: ignore[assignment]
    try:
        simulate(model, seed, np.arange(H), engine="numpy")
    finally:
        rng.uniforms, rng.normals, coalitions.ruling_coalition = real_u, real_z, real_aes
    hm = H * model.steps
    return {"uniform": counts["uniform"] / hm, "normal": counts["normal"] / hm,
            "aes": counts["aes"] / hm, "state_bytes": live_set(model, seed, H)["state"]}


def live_set(model: Compiled, seed: int, H: int = 1000) -> dict[str, float]:
    """Bytes a history holds from the first month to the last, whatever the engine: the state,
    the parameter draws (returned as ``Histories.params``), the attribute draws the months read
    (the drawn standing is dropped once the state holds it) and the narrow outputs written as
    the months go (the coalition each month, the rises, a tally per assembly). The peak per
    history in flight can come down to this and no further without narrowing values that the
    mechanisms compute with, which would change the histories."""
    index = np.arange(H)
    theta = draw_params(model, seed, index)
    noise = theta[:, model.priors.index("attribute_noise")]
    attrs = draw_attributes(model, seed, index, noise)
    s = initial_state(model, H, False, attrs)
    state = sum(v.nbytes for v in vars(s).values() if isinstance(v, np.ndarray))
    drawn = sum(v.nbytes for k, v in attrs.items() if v.flags.owndata and k != "standing")
    assemblies = sum(1 for mt in model.meetings if mt.kind >= 2)
    rises = H * model.P * (len(RISE_STEPS) + len(model.offices)) * step_dtype(model.steps).itemsize
    outputs = H * model.steps * coalition_dtype(model.P).itemsize + rises + H * assemblies * 8
    return {"state": state / H, "parameters": theta.nbytes / H, "attributes": drawn / H,
            "outputs": outputs / H}


def arithmetic_ops(model: Compiled) -> float:
    """An estimated count of the scalar operations of one history-month outside the draws and
    the AES game, from the scenario's sizes (P leaders, K offices, C clients, M meetings a
    month): each term is a mechanism's loop nest times the operations in its body."""
    P, K, C = model.P, len(model.offices), len(model.clients)
    M = len(model.meetings) / model.steps
    power = P * (25 + 3 * C) + 10 * P  # power parts with clients' votes; effective standing
    per_month = (40 * P                # line and drift
                 + 6 * P * P           # blocs (distances where someone moves), enmity decay
                 + 20 * P + 10 * C     # patronage, standing shocks, clients' drift
                 + 2 * power           # power after the first game and at the month's end
                 + P * (3 * K + 15)    # rises
                 + P * (3 * C + 10)    # consolidation
                 + 15 * P)             # administrative steps
    per_meeting = (power
                   + 16 * P * P + 30 * P  # the game's inputs, sitting core, like-minded
                   + P * (50 + K)         # motions
                   + 20 * P + 10 * C)     # delegates, seats
    return per_month + M * per_meeting


def bound(model: Compiled, seed: int, measured: float | None) -> None:
    c = census(model, seed, 1000)
    t_u, t_z = draw_rates()
    t_aes = aes_seconds_per_unit()
    ops = arithmetic_ops(model)
    rate = scalar_ops_per_s()
    bw = bandwidth_bytes_per_s()
    t_draws = c["uniform"] * t_u + c["normal"] * t_z
    t_game = c["aes"] * t_aes
    t_ops = ops / rate
    t_cpu = t_draws + t_game + t_ops
    t_bytes = 2 * c["state_bytes"] / bw
    T = model.steps
    print(f"\nphysical bound estimate, per history-month ({T} months a history; rates measured "
          "here in CPU time):")
    print(f"  draws:      {c['uniform']:6.1f} uniform, {c['normal']:5.1f} normal at "
          f"{t_u * 1e9:.1f} / {t_z * 1e9:.1f} ns each (rng kernels)   {t_draws * 1e9:8.0f} ns")
    print(f"  AES games:  {c['aes']:8.1f} subset pairs at {t_aes * 1e9:.2f} ns"
          f"                          {t_game * 1e9:8.0f} ns")
    print(f"  arithmetic: ~{ops:,.0f} scalar ops at {rate / 1e9:.2f} Gop/s (estimated count)"
          f"          {t_ops * 1e9:8.0f} ns")
    print(f"  compute bound: {t_cpu * 1e9:,.0f} ns a history-month = "
          f"{1 / (t_cpu * T):,.0f} histories/s on one core")
    print(f"  bytes: state {c['state_bytes']:,.0f} B a history; month-major layout streams it "
          f"in and out each month: {t_bytes * 1e9:,.0f} ns at {bw / 1e9:.1f} GB/s "
          f"(= {1 / (t_bytes * T):,.0f} histories/s); a history-major kernel keeps it in cache")
    # The target, against the parts of a history-month it keeps as they are (the
    # counter-based draws) and the game the model is built on: if those alone exceed the time
    # the target allows, no layout of the rest can reach it on this core.
    allowed = 1 / (25000 * T)
    print(f"  25,000 histories/s on one core allows {allowed * 1e9:,.0f} ns a history-month; "
          f"the draws and the AES games alone take {(t_draws + t_game) * 1e9:,.0f} ns "
          f"({(t_draws + t_game) / allowed:.2f}x of it), before any other arithmetic")
    if measured:
        print(f"  compiled engine at batch 5,000 on one worker: {measured:,.0f} histories per "
              f"CPU-second, {1 / (t_cpu * T) / measured:.1f}x below this bound; 25,000/s needs "
              f"{25000 / measured:.0f}x")


# --- profile -----------------------------------------------------------------------------

_TOP = ("simulate", "_meeting", "_first_game")


def profile(model: Compiled, seed: int, batch: int) -> None:
    """Share of time per mechanism: each function called by the month (``simulate``,
    ``_meeting``, ``_first_game``), with the time of everything it calls."""
    for engine in ENGINES:
        simulate(model, seed, np.arange(100), engine=engine)
        pr = cProfile.Profile()
        pr.enable()
        simulate(model, seed, np.arange(batch), engine=engine)
        pr.disable()
        st = pstats.Stats(pr).stats  # type: ignore[attr-defined]
        total = next(v[3] for k, v in st.items() if k[2] == "simulate")
        share: Counter[str] = Counter()
        for (file, _line, name), (_cc, _nc, _tt, _ct, callers) in st.items():
            if name in _TOP:
                continue
            for (_f, _l, caller), cstats in callers.items():
                if caller in _TOP:
                    mod = os.path.basename(file).removesuffix(".py")
                    share[f"{mod}.{name}"] += cstats[3]
        print(f"\nprofile, {engine} engine, batch {batch:,}: {total:.2f} s under cProfile")
        rest = total - sum(share.values())
        for k, v in share.most_common(18):
            print(f"  {k:42} {v:6.2f} s {v / total:6.1%}")
        print(f"  {'(the rest: the loop, small calls)':42} {rest:6.2f} s {rest / total:6.1%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40_000, help="histories per row")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", default="soviet-1922")
    ap.add_argument("--quick", action="store_true",
                    help="10,000 histories per row, batches of 1,000 and 5,000")
    ap.add_argument("--profile", action="store_true", help="share of time per mechanism")
    ap.add_argument("--no-bound", action="store_true", help="skip the physical bound")
    args = ap.parse_args()
    runs = 10_000 if args.quick else args.runs
    batches = (1000, 5000) if args.quick else (1000, 5000, 20000)
    model = compile_scenario(load_scenario(args.scenario))
    for engine in ENGINES:  # load or compile the kernels outside the timings
        simulate(model, 0, np.arange(50), engine=engine)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores: {os.cpu_count()}; load average {load:.1f}; scenario {args.scenario}, "
          f"{model.steps} monthly steps, {runs:,} histories per row; wall clock")
    print(f"{'batch':>6} {'work':>4} | {'numpy h/s':>9} {'compiled':>9} {'ratio':>5} | "
          f"{'numpy h/cpu-s':>13} {'compiled':>9} {'ratio':>5} | {'numpy KiB/h':>11} "
          f"{'compiled':>9}")
    one_5000 = None
    for workers in (1, 2):
        for batch in batches:
            rate = {e: throughput(model, args.seed, runs, batch, workers, e) for e in ENGINES}
            if workers == 1 and batch == 5000:
                one_5000 = rate["compiled"][1]
            mem = {e: memory_per_history(args.scenario, e, batch, args.seed) if workers == 1
                   else None for e in ENGINES}
            kib = {e: f"{mem[e]:.1f}" if mem[e] is not None else "-" for e in ENGINES}
            cpu = ({e: f"{rate[e][1]:,.0f}" for e in ENGINES} if workers == 1
                   else {e: "-" for e in ENGINES})
            cpu_ratio = (f"{rate['compiled'][1] / rate['numpy'][1]:.2f}" if workers == 1
                         else "-")
            print(f"{batch:>6} {workers:>4} | {rate['numpy'][0]:>9,.0f} "
                  f"{rate['compiled'][0]:>9,.0f} {rate['compiled'][0] / rate['numpy'][0]:>5.2f} | "
                  f"{cpu['numpy']:>13} {cpu['compiled']:>9} {cpu_ratio:>5} | {kib['numpy']:>11} "
                  f"{kib['compiled']:>9}", flush=True)
    print("h/s: histories per second of wall clock; h/cpu-s: per second of the process's CPU "
          "time (one worker: the rate of one core, whatever else runs); KiB/h: peak resident "
          "memory above the warmed-up process, per history of one batch (one process)")
    live = live_set(model, args.seed)
    print("live set, held by each history through the run: "
          + ", ".join(f"{k} {v:,.0f} B" for k, v in live.items())
          + f" = {sum(live.values()) / 1024:.2f} KiB; the peak above it is temporaries")
    if not args.no_bound:
        bound(model, args.seed, one_5000)
    if args.profile:
        profile(model, args.seed, 5000)


if __name__ == "__main__":
    main()
