"""The engine as an ABC batch simulator: parameter rows in, one distance per history out.

``EngineDistance`` satisfies ``politburo.calibration.abc_smc.BatchSimulator``: row ``i`` is history
``indices[i]`` of ``seed`` run with parameters ``theta[i]`` and scored by
``targets.distance``. Because every draw in the engine is keyed by (seed, history index, month,
purpose), splitting a batch over worker processes, or over a cluster through any
``concurrent.futures.Executor``, cannot change any distance, so the ABC results do not depend on
``workers`` or ``executor``. Local workers are started with ``spawn`` (not ``fork``): a progress
bar's refresh thread may be running, and forking a threaded process can deadlock.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Executor
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from politburo.calibration.targets import Targets, distance
from politburo.engine.month import simulate
from politburo.engine.switch import default_engine
from politburo.runner.pool import executor_width, map_jobs, worker_pool
from politburo.scenario.compile import Compiled

_MIN_SPLIT = 500  # below this many rows per worker the pool costs more than it saves


def score(model: Compiled, targets: Targets, theta: NDArray[np.float64], seed: int,
          indices: NDArray[np.int64], engine: str | None = None) -> NDArray[np.float64]:
    """Distances of histories ``indices`` of ``seed`` run with ``theta`` (in this process) under
    ``engine`` (None: ``default_engine()``)."""
    h = simulate(model, seed, np.asarray(indices, dtype=np.int64), np.asarray(theta, float),
                 engine=engine)
    return distance(h.falls, h.tallies, targets, h.rises)


def _job(args: tuple[Compiled, Targets, NDArray[np.float64], int, NDArray[np.int64], str]
         ) -> NDArray[np.float64]:
    return score(*args)


class EngineDistance:
    """A batch simulator over the engine, optionally spread over ``workers`` processes or over
    ``executor`` (any ``concurrent.futures.Executor``, e.g. a Dask cluster's; the caller's to
    shut down).

    Use as a context manager when ``workers > 1`` so the pool is shut down. The engine is
    the one named when it is made (``engine``, None: ``default_engine()``), and every job
    carries it: a spawned or remote worker does not inherit ``politburo --engine``.
    """

    def __init__(self, model: Compiled, targets: Targets, *, workers: int = 1,
                 executor: Executor | None = None, engine: str | None = None) -> None:
        self.model = model
        self.engine = engine or default_engine()
        self.targets = targets
        self.workers = workers
        self.executor = executor
        self._pool: Executor | None = None
        self.simulated = 0

    def __enter__(self) -> EngineDistance:
        if self.workers > 1 and self.executor is None:
            self._pool = worker_pool(self.workers, multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __call__(self, theta: NDArray[np.float64], seed: int, indices: NDArray[np.int64], /
                 ) -> NDArray[np.float64]:
        n = len(indices)
        self.simulated += n
        pool = self.executor or self._pool
        parts = min(executor_width(self.executor, self.workers), max(1, n // _MIN_SPLIT))
        if pool is None or parts <= 1:
            return score(self.model, self.targets, theta, seed, indices, self.engine)
        cuts = np.linspace(0, n, parts + 1).astype(int)
        jobs = [(self.model, self.targets, theta[a:b], seed, indices[a:b], self.engine)
                for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        return np.concatenate(map_jobs(_job, jobs, executor=pool))
