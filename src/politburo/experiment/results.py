"""Result objects of ``politburo.experiment``: paired what-ifs, Shapley weights, Sobol' indices.

Each keeps the arrays it was computed from and offers ``to_dict()`` (plain, JSON-ready values)
and ``to_frame()`` (a pandas DataFrame for a notebook). Intervals: paired differences use the
normal approximation on the mean of per-history differences (the worlds share their random
numbers, so the pairs are the unit); winner odds use Wilson score intervals (``results.wilson``);
Shapley intervals are the bootstrap percentiles of ``politburo.experiment.attribution``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from politburo._version import __version__
from politburo.dates import format_month
from politburo.engine.fingerprint import platform_stamp
from politburo.engine.histories import Histories
from politburo.experiment.attribution import ShapleyResult
from politburo.experiment.sensitivity import SobolResult
from politburo.runner.summary import fall_months, wilson
from politburo.scenario.compile import Compiled
from politburo.scenario.levers import lever
from politburo.scenario.loader import scenario_hash
from politburo.scenario.schema import Scenario

Settings = dict[str, str | float | None]
SHIFT_STEPS = ("politburo", "party")
_Z95 = float(stats.norm.ppf(0.975))


def _shift_table(model: Compiled, base: Histories, new: Histories) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for step in SHIFT_STEPS:
        b_all, n_all = fall_months(base, step), fall_months(new, step)
        for i, a in enumerate(model.principals):
            b, n = b_all[:, i], n_all[:, i]
            both = (b >= 0) & (n >= 0)

            def med(x: NDArray[np.int64]) -> str | None:
                ok = x[x >= 0]
                if not ok.size:
                    return None
                return format_month(model.start + int(np.percentile(ok, 50, method="nearest")))

            out.setdefault(a, {})[step] = {
                "median_shift": float(np.median(n[both] - b[both])) if both.any() else None,
                "mean_shift": float(np.mean(n[both] - b[both])) if both.any() else None,
                "n_both": int(both.sum()),
                "baseline_share": float((b >= 0).mean()),
                "intervened_share": float((n >= 0).mean()),
                "baseline_median": med(b),
                "intervened_median": med(n),
            }
    return out


@dataclass(frozen=True, eq=False)
class _LeverRun:
    """What every lever result records: the levers, how the worlds were drawn, the scenario."""

    levers: Settings
    mode: str
    seed: int
    parameters: str
    parameters_note: str
    scenario: Scenario


@dataclass(frozen=True, eq=False)
class WhatIfResult(_LeverRun):
    """Paired baseline and intervened worlds: odds, differences, flips and milestone shifts."""

    model: Compiled
    baseline: Histories
    intervened: Histories

    @property
    def runs(self) -> int:
        return self.baseline.H

    @property
    def actors(self) -> tuple[str, ...]:
        return (*self.model.principals, "none")

    def _indicators(self, h: Histories) -> NDArray[np.float64]:
        return (h.winner[:, None] == np.arange(len(self.actors))[None, :]).astype(np.float64)

    def winners(self, which: Literal["baseline", "intervened"]) -> dict[str, float]:
        p = self._indicators(getattr(self, which)).mean(axis=0)
        return {a: float(p[k]) for k, a in enumerate(self.actors)}

    def difference(self) -> dict[str, dict[str, Any]]:
        """Per actor: mean paired difference in winning, with a normal 95% interval."""
        d = self._indicators(self.intervened) - self._indicators(self.baseline)
        mean = d.mean(axis=0)
        se = d.std(axis=0, ddof=1) / np.sqrt(d.shape[0]) if d.shape[0] > 1 else 0 * mean
        return {a: {"delta": float(mean[k]),
                    "ci": [float(mean[k] - _Z95 * se[k]), float(mean[k] + _Z95 * se[k])]}
                for k, a in enumerate(self.actors)}

    @property
    def flipped(self) -> float:
        """Share of histories whose winner (or "no one") changes."""
        return float(np.mean(self.baseline.winner != self.intervened.winner))

    def shifts(self) -> dict[str, Any]:
        """Per principal and step: median month shift where both worlds reach the step."""
        return _shift_table(self.model, self.baseline, self.intervened)

    def to_frame(self) -> pd.DataFrame:
        """One row per actor: both worlds' odds with Wilson intervals and the paired delta."""
        n = self.runs
        rows = []
        diff = self.difference()
        for which in ("baseline", "intervened"):
            p = self.winners(which)  # type: ignore[arg-type]
            lo, hi = wilson(np.array([p[a] * n for a in self.actors]), n)
            for k, a in enumerate(self.actors):
                rows.append({"actor": a, "world": which, "p": p[a], "lo": float(lo[k]),
                             "hi": float(hi[k])})
        wide = pd.DataFrame(rows).pivot(index="actor", columns="world")
        wide.columns = [f"{w}_{c}" if c != "p" else w for c, w in wide.columns]
        wide["delta"] = [diff[a]["delta"] for a in wide.index]
        wide["delta_lo"] = [diff[a]["ci"][0] for a in wide.index]
        wide["delta_hi"] = [diff[a]["ci"][1] for a in wide.index]
        return wide.loc[list(self.actors)]

    def to_dict(self) -> dict[str, Any]:
        n = self.runs
        out: dict[str, Any] = {
            "levers": dict(self.levers), "mode": self.mode, "runs": n, "seed": self.seed,
            "parameters": self.parameters, "parameters_note": self.parameters_note,
            "scenario": self.scenario.id, "scenario_hash": scenario_hash(self.scenario),
            "platform": platform_stamp(), "version": __version__,
        }
        for which in ("baseline", "intervened"):
            p = self.winners(which)  # type: ignore[arg-type]
            lo, hi = wilson(np.array([p[a] * n for a in self.actors]), n)
            out[which] = {"winners": p, "winner_ci": {a: [float(lo[k]), float(hi[k])]
                                                      for k, a in enumerate(self.actors)}}
        out["difference"] = self.difference()
        out["flipped"] = self.flipped
        out["shifts"] = self.shifts()
        return out


@dataclass(frozen=True, eq=False)
class ExplainResult(_LeverRun):
    """Shapley weights of levers on one actor's chance to come to rule."""

    target: str
    method: str  # "exact" or "sampled"
    shapley: ShapleyResult
    baseline: float  # target's probability with no lever set
    all_levers: float  # with every lever set
    alone: dict[str, float] | None  # each lever alone minus none (exact method only)
    worlds: int
    seconds: float

    @property
    def runs(self) -> int:
        return self.shapley.n_histories

    def essay_factors(self) -> list[dict[str, Any]]:
        """"The essay's factors, weighed": each claim a lever speaks to, with its weight."""
        ci = dict(zip(self.shapley.names, self.shapley.ci.tolist(), strict=True))
        val = dict(zip(self.shapley.names, self.shapley.value.tolist(), strict=True))
        rows = []
        claims = {c.number: c.text for c in self.scenario.claims}
        for name in self.shapley.names:
            for claim in lever(self.scenario, name).essay_claims:
                rows.append({"claim": claim, "paraphrase": claims.get(claim, ""),
                             "lever": name, "weight": val[name], "ci": ci[name]})
        return sorted(rows, key=lambda r: (r["claim"], -abs(r["weight"])))

    def to_frame(self) -> pd.DataFrame:
        """One row per lever: Shapley value and 95% interval, and the lever's effect alone."""
        frame = pd.DataFrame({
            "title": [lever(self.scenario, n).title for n in self.shapley.names],
            "value": self.shapley.value, "ci_lo": self.shapley.ci[:, 0],
            "ci_hi": self.shapley.ci[:, 1],
        }, index=pd.Index(self.shapley.names, name="lever"))
        if self.alone is not None:
            frame["alone"] = [self.alone[n] for n in self.shapley.names]
        return frame

    def interactions_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"lever_a": a, "lever_b": b, "value": v, "ci_lo": c[0],
                              "ci_hi": c[1]} for a, b, v, c in self.shapley.interactions])

    def to_dict(self) -> dict[str, Any]:
        s = self.shapley
        return {
            "target": self.target, "levers": list(s.names), "values": dict(self.levers),
            "mode": self.mode, "runs": self.runs, "seed": self.seed, "method": self.method,
            "parameters": self.parameters, "parameters_note": self.parameters_note,
            "shapley": {n: {"value": float(s.value[k]), "ci": [float(x) for x in s.ci[k]]}
                        for k, n in enumerate(s.names)},
            "total_effect": s.total_effect, "total_effect_ci": list(s.total_effect_ci),
            "baseline": self.baseline, "all_levers": self.all_levers, "alone": self.alone,
            "interactions": [{"levers": [a, b], "value": v, "ci": list(c)}
                             for a, b, v, c in s.interactions],
            "essay_factors": self.essay_factors(), "worlds": self.worlds,
            "seconds": self.seconds, "scenario": self.scenario.id,
            "scenario_hash": scenario_hash(self.scenario), "platform": platform_stamp(),
            "version": __version__,
        }


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """Sobol' indices of a target's chance to rule over the scenario's continuous parameters."""

    target: str
    levers: Settings
    sobol: SobolResult
    bounds: dict[str, tuple[float, float]]
    pinned: dict[str, float]
    histories_per_row: int
    n_base: int
    seed: int
    scenario: Scenario

    def to_frame(self) -> pd.DataFrame:
        s = self.sobol
        return pd.DataFrame({"S1": s.S1, "S1_conf": s.S1_conf, "ST": s.ST, "ST_conf": s.ST_conf},
                            index=pd.Index(s.names, name="parameter"))

    def to_dict(self) -> dict[str, Any]:
        d = self.sobol.to_dict()
        for row in d["parameters"]:
            row["bounds"] = list(self.bounds[row["name"]])
        d.update({"target": self.target, "levers": dict(self.levers), "pinned": self.pinned,
                  "histories_per_row": self.histories_per_row, "n_base": self.n_base,
                  "seed": self.seed, "scenario": self.scenario.id,
                  "scenario_hash": scenario_hash(self.scenario), "platform": platform_stamp(),
                  "version": __version__})
        return d
