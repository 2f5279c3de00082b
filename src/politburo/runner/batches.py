"""Run many histories in batches, here, over worker processes or on any executor, and join them.

Because every draw is keyed by (seed, history index, step, purpose), how the indices are cut
into batches or spread over processes or a cluster's machines cannot change any history;
``run`` only decides the order of work. Batches are index ranges; their results are joined by
range, in index order, whatever order they finish in (``runner.pool.map_jobs``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from politburo.engine.histories import Histories
from politburo.engine.month import simulate
from politburo.engine.state import LADDER
from politburo.engine.switch import default_engine
from politburo.runner.pool import map_jobs
from politburo.scenario.compile import Compiled

Progress = Callable[[int, int], None]


def run_range(args: tuple[Compiled, int, np.ndarray, np.ndarray | None, bool, str | None]
              ) -> Histories:
    """One job: the histories ``idx`` of ``seed`` (model, seed, idx, parameter rows or None,
    keep_power, engine), as a worker process or a cluster runs it."""
    model, seed, idx, params, keep_power, engine = args
    return simulate(model, seed, idx, params, keep_power=keep_power, engine=engine)


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
    executor: Executor | None = None,
    engine: str | None = None,
) -> Histories:
    """Histories ``start .. start+runs-1`` of ``seed``; ``params`` (runs, D) overrides draws.

    Batches of ``batch_size`` run here, on ``workers`` local processes, or, given an
    ``executor`` (a Dask ``Client.get_executor()``, say), wherever it sends them; the histories
    are the same in every case, and under either ``engine`` (``month.simulate``)."""
    index = np.arange(start, start + runs, dtype=np.int64)
    return run_index(model, seed, index, params, batch_size=batch_size, workers=workers,
                     keep_power=keep_power, progress=progress, executor=executor,
                     engine=engine)


def run_index(model: Compiled, seed: int, index: np.ndarray, params: np.ndarray | None = None,
              *, batch_size: int = 5000, workers: int = 1, keep_power: bool = False,
              progress: Progress | None = None, executor: Executor | None = None,
              engine: str | None = None) -> Histories:
    """Histories ``index`` of ``seed`` (any indices, in this order), as ``run`` does them.

    Each batch carries its engine, named here (None: this process's ``default_engine()``), so
    a worker started by ``spawn`` or a cluster's, which never saw ``politburo --engine``, runs
    the one asked for."""
    engine = engine or default_engine()
    runs = int(index.shape[0])
    size = max(1, batch_size)
    jobs = [(model, seed, index[c:c + size], None if params is None else params[c:c + size],
             keep_power, engine) for c in range(0, runs, size)]
    done = 0

    def tick(_k: int, part: Histories) -> None:
        nonlocal done
        done += part.H
        if progress:
            progress(done, runs)

    # fork starts local workers at once; they share the parent's loaded engine
    parts = map_jobs(run_range, jobs, executor=executor, workers=workers, done=tick)
    return concat(parts)
