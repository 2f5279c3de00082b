"""Run many histories in batches, optionally over worker processes, and join the results.

Because every draw is keyed by (seed, history index, step, purpose), how the indices are cut
into batches or spread over processes cannot change any history; ``run`` only decides the order
of work. Results are concatenated in index order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from politburo._pool import worker_pool
from politburo.engine import Histories, simulate
from politburo.scenario.compile import Compiled
from politburo.state import LADDER

Progress = Callable[[int, int], None]


def _batch(args: tuple[Compiled, int, np.ndarray, np.ndarray | None, bool]) -> Histories:
    model, seed, idx, params, keep_power = args
    return simulate(model, seed, idx, params, keep_power=keep_power)


def concat(parts: list[Histories]) -> Histories:
    first = parts[0]
    return replace(
        first,
        index=np.concatenate([p.index for p in parts]),
        params=np.concatenate([p.params for p in parts]),
        winner=np.concatenate([p.winner for p in parts]),
        consolidation=np.concatenate([p.consolidation for p in parts]),
        falls=np.concatenate([p.falls for p in parts]),
        tallies=np.concatenate([p.tallies for p in parts]),
        coalition=np.concatenate([p.coalition for p in parts]),
        power=(np.concatenate([p.power for p in parts]) if first.power is not None else None),
        log=None,
        first_rule=(np.concatenate([p.first_rule for p in parts])  # type: ignore[misc]
                    if first.first_rule is not None else None),
        rises=(np.concatenate([p.rises for p in parts])  # type: ignore[misc]
               if first.rises is not None else None),
    )


def bytes_per_history(model: Compiled, keep_power: bool = False) -> int:
    """A generous estimate of the memory one history's results take in a finished run: its
    arrays in ``Histories`` (index, parameters, winner, falls, tallies, the monthly coalition
    and, when kept, monthly power), times three for the copies that joining the batches,
    summarising and tabulating them make."""
    T, P, D = model.steps, model.P, len(model.priors.names)
    per = 8 * (3 + D + P * len(LADDER) + len(model.meetings)) + 8 * T
    if keep_power:
        per += 4 * T * P
    return 3 * per


def run(
    model: Compiled,
    seed: int,
    runs: int,
    *,
    batch_size: int = 5000,
    workers: int = 1,
    params: np.ndarray | None = None,
    start: int = 0,
    keep_power: bool = False,
    progress: Progress | None = None,
) -> Histories:
    """Histories ``start .. start+runs-1`` of ``seed``; ``params`` (runs, D) overrides draws."""
    index = np.arange(start, start + runs, dtype=np.int64)
    cuts = list(range(0, runs, max(1, batch_size)))
    jobs = [(model, seed, index[c:c + batch_size],
             None if params is None else params[c:c + batch_size], keep_power) for c in cuts]
    parts: list[Histories] = []
    done = 0
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            parts.append(_batch(job))
            done += job[2].shape[0]
            if progress:
                progress(done, runs)
    else:
        with worker_pool(min(workers, len(jobs))) as pool:  # fork starts them all at once
            for part in pool.map(_batch, jobs):
                parts.append(part)
                done += part.H
                if progress:
                    progress(done, runs)
    return concat(parts)
