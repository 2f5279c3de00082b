"""A readable, dated account of one simulated history, and the search for a history by outcome.

Why this exists: a probability table says *what* happened across thousands of histories; a
student needs to see *why* it happened in one of them. The engine records, for every event of a
history it is asked to log, the actors, the body and a ``because`` string naming the mechanism's
state (loyalties in a vote, perceived powers behind a coalition). This module turns that log into
prose: an opening that sets out December 1922 from the scenario's data, then one paragraph per
month ("In May 1924 the 13th Party Congress ..."), then the outcome.

Because every random draw is keyed by (seed, history index, step, purpose), re-running history
*k* alone with the log switched on gives exactly the history *k* of any batch: ``find_history``
searches cheaply without logs and ``rerun`` then tells the story of the one it found.

Everything here is pure: data in, data out. The command in ``politburo.cli.chronicle``
prints. The sentences live in ``politburo.chronicle.prose``; the opening, the scenario's own
events and the outcome in ``politburo.chronicle.frame``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.chronicle import frame as _frame
from politburo.chronicle import prose as _prose
from politburo.chronicle.where import STEPS, OutcomeArrays
from politburo.dates import format_month, month_name, parse_month
from politburo.engine.histories import Histories
from politburo.engine.month import simulate
from politburo.engine.switch import default_engine
from politburo.runner.batches import run_range
from politburo.runner.pool import executor_width, map_jobs, worker_pool
from politburo.runner.summary import fall_months
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import Scenario

__all__ = [
    "Chronicle",
    "ChronicleEvent",
    "Search",
    "find_history",
    "outcome_arrays",
    "rerun",
    "to_json",
    "to_markdown",
    "to_text",
    "write_chronicle",
]

WIDTH = 88  # columns of the text form: fits a terminal and a printed page


@dataclass(frozen=True)
class ChronicleEvent:
    """One event of the account: when, what, who, where, and why (never empty)."""

    date: str  # YYYY-MM
    kind: str
    actors: tuple[str, ...]
    body: str
    causes: tuple[str, ...]
    text: str
    details: dict[str, Any] = field(default_factory=dict)  # motion, tally, office, ...

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "kind": self.kind, "actors": list(self.actors),
                "body": self.body, "causes": list(self.causes), "text": self.text,
                "details": self.details}


@dataclass(frozen=True)
class Chronicle:
    """A history told as prose, with the structured events behind it."""

    scenario: str
    title: str
    seed: int
    history: int
    levers: tuple[str, ...]
    start: str  # YYYY-MM of the scenario's first month
    opening: tuple[str, ...]  # paragraphs setting out the start
    months: tuple[tuple[str, str], ...]  # (YYYY-MM, paragraph), in calendar order
    outcome: str
    winner: str | None  # principal id, None for collective leadership
    consolidation: str | None  # YYYY-MM
    events: tuple[ChronicleEvent, ...]


@dataclass(frozen=True)
class Search:
    """Result of searching histories for an outcome: the first match (or None) and the effort."""

    found: int | None
    searched: int  # histories searched, to the end of the batch with the match
    matches: int  # how many histories of the match's batch matched


def outcome_arrays(model: Compiled, h: Histories) -> OutcomeArrays:
    """The outcomes ``where`` filters on, in absolute months (-1 never)."""
    falls = np.stack([fall_months(h, step) for step in STEPS], axis=2)
    falls = np.where(falls >= 0, falls + model.start, -1)
    cons = np.where(h.consolidation >= 0, h.consolidation + model.start, -1)
    return OutcomeArrays(actors=model.principals, winner=np.asarray(h.winner),
                         consolidation=cons, falls=falls)


ParamSource = Callable[[NDArray[np.int64]], NDArray[np.float64]] | None
"""Parameter rows for given history indices (from a posterior), or None for the priors."""


def find_history(model: Compiled, seed: int, predicate: Callable[[OutcomeArrays], Any],
                 limit: int, *, batch: int = 5000, start: int = 0,
                 params: ParamSource = None, workers: int = 1,
                 executor: Executor | None = None) -> Search:
    """Search histories ``start..start+limit-1`` in vectorised batches for the first match.

    Logs are off during the search (they cost a Python object per event); the match is re-run
    alone with its log by ``rerun``, which gives the same history because draws are keyed by
    (seed, index). With ``workers`` local processes or an ``executor`` (a Dask cluster's), the
    batches go out in rounds, one batch per process or cluster thread, and the search stops
    after the first round with a match; the rounds are taken in index order and the batches of
    a round read in index order, so the match, ``searched`` (the histories up to the end of
    the match's batch) and ``matches`` are the same as a search here would give.
    """
    width = executor_width(executor, workers)
    pool = worker_pool(width) if executor is None and width > 1 else None
    engine = default_engine()
    done = 0
    try:
        while done < limit:
            jobs = []
            for _ in range(width):
                n = min(batch, limit - done)
                if n <= 0:
                    break
                idx = np.arange(start + done, start + done + n, dtype=np.int64)
                jobs.append((model, seed, idx, None if params is None else params(idx), False,
                             engine))
                done += n
            parts = map_jobs(run_range, jobs, executor=executor or pool)
            for job, part in zip(jobs, parts, strict=True):
                hits = np.flatnonzero(np.asarray(predicate(outcome_arrays(model, part)), bool))
                if hits.size:
                    idx = job[2]
                    return Search(found=int(idx[hits[0]]), searched=int(idx[-1]) + 1 - start,
                                  matches=int(hits.size))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return Search(found=None, searched=done, matches=0)


def rerun(model: Compiled, seed: int, history: int, params: ParamSource = None) -> Histories:
    """History ``history`` of ``seed`` alone, with its event log and monthly power shares."""
    idx = np.array([history], dtype=np.int64)
    return simulate(model, seed, idx, None if params is None else params(idx),
                    record_log=True, keep_power=True)


def write_chronicle(scenario: Scenario, model: Compiled, h: Histories,
                    levers: tuple[str, ...] = ()) -> Chronicle:
    """Tell the single history in ``h`` (H == 1, run with ``record_log=True``)."""
    if h.H != 1 or h.log is None:
        raise ValueError("write_chronicle needs one history run with record_log=True")
    words = _prose.Words.of(scenario)
    logged = [dict(e) for e in h.log[0]]
    _frame.annotate(logged, scenario, model)
    # A platform against a crisis answer is told only where the rulers adopted that answer.
    adopted = {(str(e.get("crisis")), str(e.get("response"))) for e in logged
               if e["kind"] == "crisis"}
    raw = [e for e in _frame.scenario_events(scenario, model, words)
           if not e.get("against") or tuple(str(e["against"]).split(".", 1)) in adopted]
    raw += logged
    raw.sort(key=lambda e: int(e["step"]))  # stable: the engine's order within a month stays
    events: list[ChronicleEvent] = []
    months: list[tuple[str, str]] = []
    coalition: tuple[str, ...] = ()
    for step in sorted({int(e["step"]) for e in raw}):
        group = [e for e in raw if int(e["step"]) == step]
        singles, grouped, coalition = _prose.month_sentences(group, words, coalition)
        date = format_month(model.start + step)
        for ev, sentence in singles:
            events.append(ChronicleEvent(
                date=date, kind=str(ev["kind"]), actors=tuple(str(a) for a in ev["actors"]),
                body=str(ev.get("body") or ""), causes=_prose.causes(ev, words),
                text=sentence, details=_details(ev)))
        paragraph = _prose.paragraph(month_name(model.start + step), grouped, words)
        if paragraph:
            months.append((date, paragraph))
    w = int(h.winner[0])
    winner = model.principals[w] if w < model.P else None
    cons = int(h.consolidation[0])
    return Chronicle(
        scenario=model.scenario_id, title=scenario.title, seed=h.seed,
        history=int(h.index[0]), levers=levers, start=format_month(model.start),
        opening=tuple(_frame.opening(scenario, model, words, levers)),
        months=tuple(months),
        outcome=_frame.outcome(model, h, words),
        winner=winner, consolidation=format_month(model.start + cons) if cons >= 0 else None,
        events=tuple(events))


_PLAIN = ("kind", "step", "actors", "body", "because", "text")


def _details(ev: dict[str, Any]) -> dict[str, Any]:
    """The rest of a log entry (motion, tally, office...), as JSON-ready plain values."""
    out: dict[str, Any] = {}
    for k, v in ev.items():
        if k in _PLAIN:
            continue
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float):
            v = round(v, 4)
        out[k] = list(v) if isinstance(v, tuple) else v
    return out


def _header(ch: Chronicle) -> str:
    levers = ", ".join(ch.levers) if ch.levers else "none (the world as it was)"
    return (f"seed {ch.seed}, history {ch.history} of scenario {ch.scenario}; "
            f"levers: {levers}")


def to_text(ch: Chronicle, width: int = WIDTH) -> str:
    """The account as wrapped plain text: title, the start, month by month, the outcome."""
    def fill(p: str) -> str:
        return textwrap.fill(p, width=width, break_on_hyphens=False)

    title = f"A simulated history: {ch.title}"
    parts = [title, "=" * len(title), fill(_header(ch)), "",
             *(fill(p) + "\n" for p in ch.opening), "* * *", ""]
    parts += [fill(p) + "\n" for _, p in ch.months]
    parts += ["* * *", "", fill(ch.outcome)]
    return "\n".join(parts).rstrip() + "\n"


def to_markdown(ch: Chronicle) -> str:
    """The account as Markdown, with a heading per section and per month."""
    parts = [f"# A simulated history: {ch.title}", "", f"*{_header(ch)}*", "",
             f"## {month_name(parse_month(ch.start))}: the starting point", ""]
    for p in ch.opening:
        parts += [p, ""]
    parts += ["## Month by month", ""]
    for date, p in ch.months:
        parts += [f"### {month_name(parse_month(date))}", "", p, ""]
    parts += ["## Outcome", "", ch.outcome]
    return "\n".join(parts).rstrip() + "\n"


def to_json(ch: Chronicle) -> dict[str, Any]:
    """The account as a JSON-ready object; ``events`` is the list of dated, caused events.

    ``winner`` is a principal's id or "none", as in ``politburo run``'s results and in
    ``--where`` filters."""
    return {
        "scenario": ch.scenario, "seed": ch.seed, "history": ch.history,
        "levers": list(ch.levers), "winner": ch.winner or "none",
        "consolidation": ch.consolidation,
        "opening": list(ch.opening), "outcome": ch.outcome,
        "events": [e.to_dict() for e in ch.events],
    }
