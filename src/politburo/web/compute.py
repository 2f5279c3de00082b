"""The web app's work, done through politburo's Python API in a fixed pool of worker processes
(or on a Dask cluster's workers: ``politburo serve --scheduler``).

Why processes, and why worlds: the engine is NumPy and Numba code that holds the GIL for much
of a month, so two threads run no faster than one; two warm worker processes do (a what-if of
4,000 paired histories runs its two worlds side by side). Every question a page asks is built
from *worlds*: the histories ``(seed, index)`` of one choice of levers. A world is split into
chunks of histories run on the workers, and kept in a small cache, so the baseline world that
every what-if of a lesson shares is simulated once, and a Shapley weighing reuses the worlds of
the what-ifs before it.

The answers are the API's own: ``summarise`` for the odds, ``WhatIfResult`` for a what-if,
``attribution.exact_shapley`` and ``ExplainResult`` for the weights (as
``Experiment.explain`` computes them; a test holds the two equal), ``fit_report`` for the fit,
and ``chronicle`` for a history's story. Draws come from ``Experiment.draws``, so history *k*
here is history *k* of ``politburo run`` and ``politburo whatif`` with the same seed.

On a cluster (``Engine(executor=...)``, any ``concurrent.futures.Executor`` such as Dask's
``Client.get_executor()``) each task carries the scenario, since the cluster's workers were not
started by this server; a worker loads it once (``_with_scenario``). The chunks are the same
index ranges, so the histories are the same as on the server's own processes.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from politburo.engine.histories import Histories
from politburo.experiment.worlds import Draws, Experiment, ExperimentError, simulate_world
from politburo.runner.batches import concat
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.levers import LeverError, apply_levers, resolve_settings
from politburo.scenario.loader import scenario_hash
from politburo.scenario.schema import Scenario
from politburo.web.jobs import UserError, cache_key

Settings = dict[str, str | float | None]
Progress = Callable[[int, int], None]

# -- the worker processes ---------------------------------------------------------------------

_SCENARIO: Scenario | None = None
_SCENARIO_KEY: str | None = None
_MODELS: dict[str, Compiled] = {}


def _init_worker(scenario: Scenario, parent: int) -> None:
    global _SCENARIO
    _SCENARIO = scenario
    _MODELS.clear()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """End this worker when the server is gone, however it ended (a killed server's workers
    would otherwise linger, holding memory and the server's output pipe)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _with_scenario(scenario: Scenario, key: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on a worker the server did not start (a cluster's), loading the
    server's scenario there first unless this worker already has it (same hash)."""
    global _SCENARIO, _SCENARIO_KEY
    if _SCENARIO_KEY != key:
        _SCENARIO, _SCENARIO_KEY = scenario, key
        _MODELS.clear()
    return fn(*args)


def _model(settings_items: tuple[tuple[str, Any], ...]) -> Compiled:
    """The compiled world of ``settings`` (kept per worker: compiling costs milliseconds)."""
    assert _SCENARIO is not None, "worker not initialised"
    key = repr(settings_items)
    if key not in _MODELS:
        s, fixed = apply_levers(_SCENARIO, dict(settings_items))
        _MODELS[key] = compile_scenario(s, fixed=fixed)
    return _MODELS[key]


def _warm() -> int:
    """Load the scenario's model and the engine's compiled kernels in a fresh worker."""
    model = _model(())
    simulate_world(model, Draws(1, np.arange(2, dtype=np.int64), None, "prior"))
    return multiprocessing.current_process().pid or 0


def _chunk(settings_items: tuple[tuple[str, Any], ...], draws: Draws) -> Histories:
    return simulate_world(_model(settings_items), draws, batch_size=max(1, draws.H))


def _fit(runs: int, seed: int) -> dict[str, Any]:
    from politburo.calibration.fit import fit_report
    from politburo.calibration.posterior import load_default_posterior

    assert _SCENARIO is not None
    return fit_report(_SCENARIO, runs=runs, seed=seed,
                      posterior=load_default_posterior(_SCENARIO)).to_dict()


def _chronicle(settings_items: tuple[tuple[str, Any], ...], seed: int, k: int,
               posterior: bool) -> dict[str, Any]:
    """History ``k`` told by ``politburo.chronicle``, with its monthly power shares."""
    from politburo.chronicle import story as ch
    from politburo.dates import format_month

    assert _SCENARIO is not None
    settings = dict(settings_items)
    s, fixed = apply_levers(_SCENARIO, settings)
    model = compile_scenario(s, fixed=fixed)
    params = None
    if posterior:
        from politburo.calibration.posterior import draw_posterior_params, load_default_posterior

        post = load_default_posterior(_SCENARIO)
        if post is not None:
            def params(idx: Any) -> Any:
                return draw_posterior_params(model, post, seed, idx)
    h = ch.rerun(model, seed, k, params)
    labels = tuple(n if v is None else f"{n}={v}" for n, v in settings.items())
    story = ch.write_chronicle(s, model, h, labels)
    data = ch.to_json(story)
    data["months"] = [{"date": d, "text": p} for d, p in story.months]
    data["title"] = story.title
    power = h.power[0] if h.power is not None else None
    data["power"] = ({format_month(model.start + t): {a: round(float(power[t, i]), 4)
                                                      for i, a in enumerate(model.principals)}
                      for t in range(power.shape[0])} if power is not None else {})
    return data


# -- the pool and its worlds -------------------------------------------------------------------


class Engine:
    """A scenario, a fixed pool of worker processes, and a cache of simulated worlds.

    ``workers`` processes simulate chunks of ``chunk`` histories; at most ``world_cache``
    worlds are kept (least recently used dropped first). With ``executor`` (a cluster's), the
    chunks run there instead and the server starts no processes of its own; the executor
    belongs to the caller, who shuts it down.
    """

    def __init__(self, scenario: Scenario, *, workers: int = 2, chunk: int = 1000,
                 world_cache: int = 48, executor: Executor | None = None) -> None:
        self.scenario = scenario
        self.hash = scenario_hash(scenario)
        self.model = compile_scenario(scenario)
        self.workers, self.chunk, self.world_cache = max(1, workers), max(1, chunk), world_cache
        self._pool: ProcessPoolExecutor | None = None
        self._external = executor
        self._lock = threading.Lock()
        self._worlds: OrderedDict[str, Histories] = OrderedDict()
        self._draws: OrderedDict[str, Draws] = OrderedDict()

    def pool(self) -> Executor:
        if self._external is not None:
            return _Carrying(self._external, self.scenario, self.hash)
        with self._lock:
            if self._pool is None:
                ctx = multiprocessing.get_context("spawn")  # never fork a threaded server
                self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx,
                                                 initializer=_init_worker,
                                                 initargs=(self.scenario, os.getpid()))
            return self._pool

    def warm(self) -> None:
        """Start every worker and load the engine there, so the first student waits less."""
        n = self.workers if self._external is None else 1
        futures = [self.pool().submit(_warm) for _ in range(n)]
        for f in futures:
            f.result()

    def shutdown(self) -> None:
        """Stop the workers now: queued chunks are cancelled, running ones abandoned."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + 3.0
            for p in processes:  # idle workers leave at once; a chunk in flight gets 3 s
                p.join(max(0.0, deadline - time.monotonic()))
                if p.is_alive():
                    p.terminate()
            pool.shutdown(wait=True)  # joins the pool's own thread, which frees its queues

    # -- checking requests (fast, in the request's thread) ------------------------------------

    def settings(self, levers: Mapping[str, Any] | Sequence[str]) -> Settings:
        """Levers checked and resolved (unknown lever, bad value: :class:`UserError`)."""
        try:
            settings = resolve_settings(self.scenario, levers)
            apply_levers(self.scenario, settings)
        except LeverError as exc:
            raise UserError(str(exc)) from None
        return settings

    def draws(self, seed: int, runs: int, mode: str) -> Draws:
        """The histories of a request, as ``Experiment.draws`` gives them (kept a while)."""
        key = cache_key(seed=seed, runs=runs, mode=mode)
        with self._lock:
            if key in self._draws:
                return self._draws[key]
        try:
            d = Experiment(self.scenario, runs=runs, seed=seed, mode=mode).draws()  # type: ignore[arg-type]
        except ExperimentError as exc:
            raise UserError(str(exc)) from None
        with self._lock:
            self._draws[key] = d
            while len(self._draws) > 8:
                self._draws.popitem(last=False)
        return d

    def check_world(self, settings: Settings, draws: Draws) -> None:
        """A lever that changes a prior does nothing when parameters come from a posterior;
        refuse it as ``Experiment`` does."""
        if draws.theta is None or not settings:
            return
        s, fixed = apply_levers(self.scenario, settings)
        model = compile_scenario(s, fixed=fixed)
        if model.priors != self.model.priors:
            raise UserError(f"levers {sorted(settings)} change a prior, which does nothing when "
                            f"parameters come from the {draws.parameters}; use the priors")

    # -- worlds -------------------------------------------------------------------------------

    def world_key(self, settings: Settings, draws: Draws, mode: str) -> str:
        return cache_key(kind="world", scenario=self.hash, settings=settings, mode=mode,
                         seed=draws.seed, index=[int(draws.index[0]), int(draws.index[-1]),
                                                 draws.H, int(draws.index.sum())]
                         if draws.H else [], parameters=draws.parameters)

    def _broken(self, pool: Executor) -> None:
        """A worker died (killed, out of memory): drop the pool, so the next job starts a
        fresh one instead of every later job failing."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def worlds(self, worlds: Sequence[Settings], draws: Draws, mode: str,
               progress: Progress | None = None) -> list[Histories]:
        """Each world's histories, from the cache or simulated in chunks on the workers
        (tried again once, on a fresh pool, if a worker died)."""
        pool = self.pool()
        try:
            return self._worlds_on(pool, worlds, draws, mode, progress)
        except BrokenProcessPool:
            self._broken(pool)
            return self._worlds_on(self.pool(), worlds, draws, mode, progress)

    def _worlds_on(self, pool: Executor, worlds: Sequence[Settings], draws: Draws,
                   mode: str, progress: Progress | None) -> list[Histories]:
        keys = [self.world_key(w, draws, mode) for w in worlds]
        out: dict[str, Histories] = {}
        with self._lock:
            for k in keys:
                if k in self._worlds:
                    self._worlds.move_to_end(k)
                    out[k] = self._worlds[k]
        todo = {k: w for k, w in zip(keys, worlds, strict=True) if k not in out}
        total = len(keys) * draws.H
        done = (len(keys) - len(todo)) * draws.H
        if progress:
            progress(done, total)
        futures: dict[str, list[Future[Histories]]] = {}
        for k, w in todo.items():
            items = tuple(w.items())
            futures[k] = [pool.submit(_chunk, items, _slice(draws, c, c + self.chunk))
                          for c in range(0, draws.H, self.chunk)]
        for k, fs in futures.items():
            parts = []
            for f in fs:
                parts.append(f.result())
                done += parts[-1].H
                if progress:
                    progress(done, total)
            h = concat(parts) if len(parts) > 1 else parts[0]
            out[k] = h
            with self._lock:
                self._worlds[k] = h
                while len(self._worlds) > self.world_cache:
                    self._worlds.popitem(last=False)
        return [out[k] for k in keys]

    def _call(self, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """``fn(*args)`` on a worker (tried again once on a fresh pool if a worker died)."""
        pool = self.pool()
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool:
            self._broken(pool)
            return self.pool().submit(fn, *args).result()

    def fit(self, runs: int, seed: int) -> dict[str, Any]:
        return self._call(_fit, runs, seed)

    def chronicle(self, settings: Settings, seed: int, k: int) -> dict[str, Any]:
        return self._call(_chronicle, tuple(settings.items()), seed, k, True)


class _Carrying(Executor):
    """A cluster's executor whose tasks carry the server's scenario (``_with_scenario``)."""

    def __init__(self, inner: Executor, scenario: Scenario, key: str) -> None:
        self.inner, self.scenario, self.key = inner, scenario, key

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        assert not kwargs, "tasks take positional arguments"
        return self.inner.submit(_with_scenario, self.scenario, self.key, fn, *args)


def _slice(d: Draws, a: int, b: int) -> Draws:
    return Draws(d.seed, d.index[a:b], None if d.theta is None else d.theta[a:b], d.parameters,
                 d.note)
