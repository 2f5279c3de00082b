"""Summaries of an ensemble of histories: winner odds with intervals, milestone months.

Pure functions over ``Histories`` arrays; the CLI and reports format what these return.
Intervals on probabilities are Wilson score intervals (Wilson 1927), which behave at 0 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from politburo.dates import format_month
from politburo.engine.histories import Histories
from politburo.engine.state import LADDER
from politburo.scenario.compile import Compiled

FALL_STEPS = ("politburo", "central_committee", "party", "exile")


def wilson(k: NDArray[np.float64] | float, n: int, level: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for k successes in n trials."""
    z = stats.norm.ppf(0.5 + level / 2)
    p = np.asarray(k, dtype=float) / max(n, 1)
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def fall_months(h: Histories, step: str) -> NDArray[np.int64]:
    """(H, P) step index at which each principal first reached ``step`` (-1 never).

    ``exile`` counts internal exile or deportation, whichever came first.
    """
    k = LADDER.index(step)
    out = h.falls[:, :, k].copy()
    if step == "exile":
        dep = h.falls[:, :, LADDER.index("deportation")]
        out = np.where((out < 0) | ((dep >= 0) & (dep < out)), dep, out)
    return out


@dataclass(frozen=True)
class Summary:
    scenario: str
    seed: int
    runs: int
    actors: tuple[str, ...]
    winners: dict[str, float]
    winner_ci: dict[str, tuple[float, float]]
    falls: dict[str, dict[str, dict[str, Any]]]
    historical: dict[str, dict[str, str]] = field(default_factory=dict)
    rules_alone: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "seed": self.seed, "runs": self.runs,
            "winners": self.winners,
            "winner_ci": {k: list(v) for k, v in self.winner_ci.items()},
            "falls": self.falls, "historical": self.historical,
            "rules_alone": self.rules_alone,
        }


def summarise(model: Compiled, h: Histories, historical: dict[str, dict[str, str]] | None = None
              ) -> Summary:
    n = h.H
    ids = (*model.principals, "none")
    counts = np.bincount(h.winner, minlength=len(ids)).astype(float)
    lo, hi = wilson(counts, n)
    winners = {a: float(counts[i] / n) for i, a in enumerate(ids)}
    winner_ci = {a: (float(lo[i]), float(hi[i])) for i, a in enumerate(ids)}
    months = {step: fall_months(h, step) for step in FALL_STEPS}
    falls = {a: {step: _months(model, months[step][:, i]) for step in FALL_STEPS}
             for i, a in enumerate(model.principals)}
    return Summary(scenario=model.scenario_id, seed=h.seed, runs=n, actors=model.principals,
                   winners=winners, winner_ci=winner_ci, falls=falls,
                   historical=historical or {}, rules_alone=_months(model, h.first_rule))


def _months(model: Compiled, steps: NDArray[np.int64] | None) -> dict[str, Any]:
    """Share of histories in which a step happened, with its median and 10-90% months."""
    if steps is None:
        return {}
    ok = steps >= 0
    entry: dict[str, Any] = {"share": float(ok.mean()) if steps.size else 0.0}
    if ok.any():
        q = np.percentile(steps[ok], [50, 10, 90], method="nearest")
        entry.update({k: format_month(model.start + int(v))
                      for k, v in zip(("median", "p10", "p90"), q, strict=True)})
    else:
        entry.update({"median": None, "p10": None, "p90": None})
    return entry


def historical_falls(milestones: Any) -> dict[str, dict[str, str]]:
    """Historical month of each (actor, step) fall from the scenario's milestones (a rise, such
    as a seat regained, is no fall and is left out)."""
    out: dict[str, dict[str, str]] = {}
    for m in milestones:
        step = "exile" if m.step == "deportation" else m.step
        if step in FALL_STEPS and m.direction == "fall":
            out.setdefault(m.actor, {}).setdefault(step, m.month)
    return out


def per_history_table(model: Compiled, h: Histories) -> dict[str, NDArray[Any]]:
    """Columns for one row per history (for Parquet)."""
    cols: dict[str, NDArray[Any]] = {
        "seed": np.full(h.H, h.seed, dtype=np.int64),
        "history": h.index,
        "winner": np.array([(*model.principals, "none")[w] for w in h.winner]),
        "consolidation": np.array(
            [format_month(model.start + c) if c >= 0 else None for c in h.consolidation],
            dtype=object),
    }
    if h.first_rule is not None:
        cols["first_rules_alone"] = np.array(
            [format_month(model.start + c) if c >= 0 else None for c in h.first_rule],
            dtype=object)
    for step in FALL_STEPS:
        m = fall_months(h, step)
        for i, a in enumerate(model.principals):
            cols[f"{a}_{step}"] = np.array(
                [format_month(model.start + v) if v >= 0 else None for v in m[:, i]],
                dtype=object)
    return cols
