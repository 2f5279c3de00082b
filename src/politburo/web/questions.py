"""The questions a lesson asks, answered from worlds: odds, what-ifs, weights, a history.

Each function takes the :class:`~politburo.web.compute.Engine` and checked arguments and
returns a JSON-ready dict built by politburo's own result objects. ``plan_*`` functions check a
request quickly in the request's thread (a mistake becomes a 4xx at once, not a failed job) and
return the cache key and the work to run as a job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from politburo._version import __version__
from politburo.chronicle.story import outcome_arrays
from politburo.chronicle.where import WhereError, compile_where, describe
from politburo.engine.fingerprint import platform_stamp
from politburo.experiment.attribution import exact_shapley
from politburo.experiment.worlds import ExplainResult, WhatIfResult
from politburo.runner.summary import historical_falls, summarise
from politburo.scenario.levers import lever_table
from politburo.web.compute import Engine
from politburo.web.jobs import UserError, cache_key

Progress = Callable[[int, int], None]
MAX_WEIGHED = 5
"""Levers weighed at once: 2**5 = 32 worlds, all of them, with exact Shapley values."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (the app's caps)."""

    max_runs: int = 4000  # histories per world
    max_explain_runs: int = 500  # histories per world when weighing factors
    max_fit_runs: int = 2000
    max_seed: int = 2**31 - 1


@dataclass(frozen=True)
class Plan:
    key: str
    kind: str
    work: Callable[[Progress], dict[str, Any]]


def _runs(runs: int, cap: int, what: str = "histories") -> int:
    if not 1 <= runs <= cap:
        raise UserError(f"{what} must be between 1 and {cap:,}, got {runs:,}")
    return runs


def _mode(mode: str) -> str:
    if mode not in ("ex-ante", "counterfactual"):
        raise UserError(f"mode must be ex-ante or counterfactual, got {mode!r}")
    return mode


def _target(engine: Engine, target: str) -> int:
    ids = engine.model.principals
    if target == "none":
        return len(ids)
    if target not in ids:
        raise UserError(f"unknown leader {target!r}; expected one of {', '.join(ids)} or none")
    return ids.index(target)


def provenance(engine: Engine, draws_parameters: str, note: str = "") -> dict[str, Any]:
    return {"scenario": engine.scenario.id, "scenario_hash": engine.hash,
            "version": __version__, "parameters": draws_parameters, "parameters_note": note,
            "platform": platform_stamp()}


# -- odds ---------------------------------------------------------------------------------------


def plan_odds(engine: Engine, limits: Limits, *, runs: int, seed: int) -> Plan:
    _runs(runs, limits.max_runs)
    key = cache_key(kind="odds", scenario=engine.hash, runs=runs, seed=seed)

    def work(progress: Progress) -> dict[str, Any]:
        draws = engine.draws(seed, runs, "ex-ante")
        (h,) = engine.worlds([{}], draws, "ex-ante", progress)
        s = summarise(engine.model, h, historical_falls(engine.scenario.milestones))
        out = s.to_dict()
        out.update(provenance(engine, draws.parameters, draws.note))
        out["milestones"] = [m.model_dump() for m in engine.scenario.milestones]
        return out

    return Plan(key, "odds", work)


# -- what if ------------------------------------------------------------------------------------


def plan_whatif(engine: Engine, limits: Limits, *, levers: Mapping[str, Any], runs: int,
                seed: int, mode: str) -> Plan:
    settings = engine.settings(levers)
    if not settings:
        raise UserError("a what-if needs at least one lever: switch one on")
    _mode(mode)
    _runs(runs, limits.max_runs)
    key = cache_key(kind="whatif", scenario=engine.hash, levers=settings, runs=runs, seed=seed,
                    mode=mode)

    def work(progress: Progress) -> dict[str, Any]:
        draws = engine.draws(seed, runs, mode)
        engine.check_world(settings, draws)
        base, new = engine.worlds([{}, settings], draws, mode, progress)
        result = WhatIfResult(levers=settings, mode=mode, seed=draws.seed,
                              parameters=draws.parameters, parameters_note=draws.note,
                              scenario=engine.scenario, model=engine.model, baseline=base,
                              intervened=new)
        out = result.to_dict()
        actors = result.actors
        changed = np.flatnonzero(base.winner != new.winner)
        out["flips"] = [{"history": int(base.index[i]), "baseline": actors[int(base.winner[i])],
                         "intervened": actors[int(new.winner[i])]} for i in changed[:12]]
        out["flipped_count"] = int(changed.size)
        return out

    return Plan(key, "whatif", work)


# -- weights ------------------------------------------------------------------------------------


def plan_explain(engine: Engine, limits: Limits, *, levers: list[str], target: str, runs: int,
                 seed: int, mode: str, n_boot: int = 400) -> Plan:
    names = list(dict.fromkeys(levers))
    if not names:
        raise UserError("choose at least one factor to weigh")
    if len(names) > MAX_WEIGHED:
        raise UserError(f"weigh at most {MAX_WEIGHED} factors at once (2^{MAX_WEIGHED} = "
                        f"{2 ** MAX_WEIGHED} worlds), got {len(names)}")
    chosen = engine.settings(dict.fromkeys(names))
    who = _target(engine, target)
    _mode(mode)
    _runs(runs, limits.max_explain_runs, "histories per world")
    key = cache_key(kind="explain", scenario=engine.hash, levers=chosen, target=target,
                    runs=runs, seed=seed, mode=mode, n_boot=n_boot)

    def work(progress: Progress) -> dict[str, Any]:
        import time

        t0 = time.perf_counter()
        draws = engine.draws(seed, runs, mode)
        engine.check_world(chosen, draws)
        order = list(chosen)
        L = len(order)
        masks = list(range(1 << L))
        worlds = [{n: chosen[n] for k, n in enumerate(order) if m >> k & 1} for m in masks]
        hs = engine.worlds(worlds, draws, mode, progress)
        values = np.stack([h.winner == who for h in hs], axis=1)
        gen = np.random.default_rng(seed)
        shap = exact_shapley(values, order, rng=gen, n_boot=n_boot)
        mean = values.mean(axis=0)
        result = ExplainResult(
            target=target, levers=chosen, mode=mode, seed=draws.seed,
            parameters=draws.parameters, parameters_note=draws.note, scenario=engine.scenario,
            method="exact", shapley=shap, baseline=float(mean[0]), all_levers=float(mean[-1]),
            alone={n: float(mean[1 << k] - mean[0]) for k, n in enumerate(order)},
            worlds=len(masks), seconds=time.perf_counter() - t0)
        return result.to_dict()

    return Plan(key, "explain", work)


# -- fit ----------------------------------------------------------------------------------------


def plan_fit(engine: Engine, limits: Limits, *, runs: int, seed: int) -> Plan:
    _runs(runs, limits.max_fit_runs)
    key = cache_key(kind="fit", scenario=engine.hash, runs=runs, seed=seed)

    def work(progress: Progress) -> dict[str, Any]:
        progress(0, runs)
        out = engine.fit(runs, seed)
        progress(runs, runs)
        return out

    return Plan(key, "fit", work)


# -- chronicle ----------------------------------------------------------------------------------


def plan_chronicle(engine: Engine, limits: Limits, *, levers: Mapping[str, Any], seed: int,
                   history: int | None, where: str | None, search: int) -> Plan:
    settings = engine.settings(levers)
    if history is not None and where:
        raise UserError("give either a history number or a condition, not both")
    if history is not None and not 0 <= history < 10**9:
        raise UserError(f"history must be between 0 and 999,999,999, got {history}")
    text = None
    predicate = None
    if where:
        try:
            predicate = compile_where(where, engine.model.principals)
            text = describe(where, engine.model.principals)
        except WhereError as exc:
            raise UserError(f"condition: {exc}") from None
        _runs(search, limits.max_runs, "histories searched")
    key = cache_key(kind="chronicle", scenario=engine.hash, levers=settings, seed=seed,
                    history=history, where=text, search=search if where else None)

    def work(progress: Progress) -> dict[str, Any]:
        k = history or 0
        found: dict[str, Any] | None = None
        if predicate is not None:
            draws = engine.draws(seed, search, "ex-ante")
            engine.check_world(settings, draws)
            (h,) = engine.worlds([settings], draws, "ex-ante", progress)
            hits = np.flatnonzero(np.asarray(predicate(outcome_arrays(engine.model, h)), bool))
            found = {"condition": text, "searched": int(h.H), "matches": int(hits.size),
                     "history": int(h.index[hits[0]]) if hits.size else None}
            if not hits.size:
                return {"found": found, "chronicle": None}
            k = found["history"]
        story = engine.chronicle(settings, seed, k)
        return {"found": found, "chronicle": story, "levers": settings, "seed": seed}

    return Plan(key, "chronicle", work)


# -- what the pages list ------------------------------------------------------------------------


def levers_info(engine: Engine) -> list[dict[str, Any]]:
    """Every lever with its sources resolved to titles and addresses, and its essay claims."""
    bib = {b.id: b for b in engine.scenario.bibliography}
    rows = lever_table(engine.scenario)
    claims = {c.number: c.text for c in engine.scenario.claims}
    for r in rows:
        r["source_links"] = [{"id": s, "title": bib[s].title if s in bib else None,
                              "url": bib[s].url if s in bib else None} for s in r["sources"]]
        r["claims"] = [{"number": c, "text": claims.get(c, "")} for c in r["essay_claims"]]
    return rows


def sources_info(engine: Engine) -> list[dict[str, str]]:
    return [{"id": b.id, "title": b.title, "url": b.url} for b in engine.scenario.bibliography]
