"""How well simulated histories match the historical record, milestone by milestone.

For each scenario milestone: its historical month beside the simulated distribution of its month
(median and 10%-90% range) under the priors and under a posterior, the share of histories in
which it happened at all, whether history lies inside the 10%-90% range, and ``|median - history|``
in months. A milestone that never happens in a history counts as happening after the horizon, so
the quantiles are over *all* histories: a step that happens in fewer than half of them has the
median "never" (reported as None) and fails the check. Vote shares at the congresses and
conferences are set beside what the sources give (``fit.tallies``).
The historical alignments the scenario declares (``fit.alignments``; in the built-in scenario the
troika against Trotsky, 1923-25, and Stalin with the Right against the Left, 1926-27) check the
coalition mechanism itself: the share of those months in which the simulated ruling coalition
held the allies and none of their opponents. Which milestones and tallies are main is the
scenario's ``fit.main`` and ``fit.main_tallies``.

The checks above are pass or fail, and a variant can move a milestone by months without moving
a check. So each ensemble also has a score: how many months the simulated month lies from the
historical one, averaged over the milestones (weighted as in the distance) and the histories,
with a milestone that never happens counted as happening twelve months after the horizon (the
months part of ``targets.distance``, in months rather than in ``tau``), for all milestones and,
under a posterior calibrated with ``--until``, for the held-out ones alone: the continuous form
of the split's judgement, with a 95% interval over histories (``months_off``).

Both ensembles run the same histories (same seed and indices, so the same monthly draws: common
random numbers); only the parameters differ, so the columns are a paired comparison. Winner
odds are reported side by side, which shows that calibration leaves contingency in place.
This is the posterior predictive check of ABC (Pritchard et al. 1999; Beaumont et al. 2009).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from politburo._version import __version__
from politburo.calibration.abc_smc import Posterior
from politburo.calibration.posterior import draw_posterior_params
from politburo.calibration.targets import (
    TALLY_FLOOR,
    MilestoneTarget,
    TallyTarget,
    Targets,
    alignment_match,
    build_targets,
    milestone_months,
    months_apart,
    months_or_never,
)
from politburo.dates import format_month, parse_month
from politburo.engine.fingerprint import platform_stamp
from politburo.engine.histories import Histories
from politburo.engine.month import draw_params
from politburo.runner.batches import Progress, run
from politburo.runner.summary import summarise
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.schema import Scenario

WITHIN = 4  # months: the median must lie this close to history
SELF_RECORDS = 1000  # at most this many histories serve as records drawn from the model itself
SELF_REFERENCE = 2000  # months off of each such record is averaged over this many others


@dataclass(frozen=True)
class FitReport:
    scenario: str
    seed: int
    runs: int
    until: str | None
    ensembles: tuple[str, ...]  # "prior", and "posterior" when one was given
    milestones: list[dict[str, Any]]
    tallies: list[dict[str, Any]]
    winners: dict[str, dict[str, Any]]
    posterior_meta: dict[str, str] = field(default_factory=dict)
    alignments: list[dict[str, Any]] = field(default_factory=list)
    # per ensemble: {"all": [mean, lo, hi], "held_out": [...]} months off (``months_off``)
    months_off: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # per ensemble: how records drawn from the model itself score (``self_check``)
    self_checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def totals(self) -> dict[str, dict[str, int]]:
        """Per ensemble: milestones inside 10-90%, with median within 4 months, main passing."""
        out = {}
        for e in self.ensembles:
            rows = [m[e] for m in self.milestones]
            main = [m[e] for m in (*self.milestones, *self.tallies) if m["main"]]
            held = [m[e] for m in self.milestones if m["held_out"]]
            out[e] = {"milestones": len(rows),
                      "inside": sum(r["inside"] for r in rows),
                      "within": sum(r["within"] for r in rows),
                      "main": len(main), "main_pass": sum(r["pass"] for r in main),
                      "held_out": len(held), "held_out_inside": sum(r["inside"] for r in held),
                      "held_out_within": sum(r["within"] for r in held)}
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "seed": self.seed, "runs": self.runs,
                "until": self.until, "ensembles": list(self.ensembles), "within_months": WITHIN,
                "milestones": self.milestones, "tallies": self.tallies,
                "alignments": self.alignments, "winners": self.winners,
                "totals": self.totals(), "posterior_meta": self.posterior_meta,
                "months_off": self.months_off, "self_check": self.self_checks,
                "version": __version__, "platform": platform_stamp()}


def months_off(h: Histories, targets: Targets, keep: NDArray[np.bool_]
               ) -> list[float] | None:
    """[mean, lo, hi]: months between each history's month and the record's for the
    milestones ``keep`` (a mask over ``targets.milestones``), weighted by the milestones'
    weights and averaged over histories, a milestone that never happens counting as twelve
    months after the horizon; lo and hi a 95% normal interval over histories. None when
    ``keep`` is empty."""
    ms = tuple(m for m, k in zip(targets.milestones, keep, strict=True) if k)
    if not ms:
        return None
    wt = np.array([m.weight for m in ms], dtype=np.float64)
    per = months_apart(h.falls, targets, ms, h.rises) @ wt / max(wt.sum(), 1e-12)
    half = 1.96 * per.std(ddof=1) / np.sqrt(per.size) if per.size > 1 else 0.0
    return [float(per.mean()), float(per.mean() - half), float(per.mean() + half)]


def _quantiles(x: NDArray[np.float64], method: Literal["linear", "nearest"] = "linear"
               ) -> tuple[float, float, float]:
    """10%, median and 90% of ``x``."""
    p10, med, p90 = np.percentile(x, [10, 50, 90], method=method)
    return float(p10), float(med), float(p90)


def _month_checks(q: tuple[float, float, float], rec: NDArray[np.float64]
                  ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The milestone check, for any number of records: whether each (a month, infinity for
    never) lies inside the 10-90% range ``q`` and within ``WITHIN`` months of its median. A
    record without the step is near a median without it: the two agree to the month. The one
    rule for the real record (``month_stats``) and the model's own (``self_check``)."""
    p10, med, p90 = q
    inside = (p10 <= rec) & (rec <= p90)
    near = np.abs(rec - med) <= WITHIN if np.isfinite(med) else ~np.isfinite(rec)
    return np.asarray(inside), np.asarray(near)


def _tally_checks(q: tuple[float, float, float], rec: NDArray[np.float64], known: bool
                  ) -> NDArray[np.bool_]:
    """The vote check, for any number of records: a known share inside the 10-90% range ``q``;
    otherwise the record's outcome (a large majority or not) that of the median (the real
    record's is a large majority). The one rule for ``tally_stats`` and ``self_check``."""
    p10, med, p90 = q
    if known:
        return np.asarray((p10 <= rec) & (rec <= p90))
    return np.asarray((rec >= TALLY_FLOOR) == (med >= TALLY_FLOOR))


def self_check(h: Histories, targets: Targets, main: tuple[MilestoneTarget, ...],
               main_tallies: tuple[TallyTarget, ...],
               held: tuple[MilestoneTarget, ...] = ()) -> dict[str, Any] | None:
    """How records drawn from the model itself score, beside the real one (a posterior, or
    prior, predictive check: Rubin 1984; Gelman, Meng and Stern 1996).

    The first ``M`` histories (at most ``SELF_RECORDS``, a fifth of the ensemble) each play the
    record in turn, judged against the others, the *reference*, by the same rules as the real
    record: the main checks (``month_stats``, ``tally_stats``) and months off over every
    milestone (``months_off``; averaged over the first ``SELF_REFERENCE`` reference
    histories). The real record is judged against the same reference. If the model were the
    process that made history, the record would be one more such draw: the shares of model
    records that score no better than it (checks) and lie farther (months off) are then its
    predictive p-values, and a small one says the record is unusual for the model. The count
    of checks passed by the model's own records is what a check count can be expected to
    reach under this much contingency. With ``held`` (the milestones a posterior calibrated
    with ``until`` did not see) months off is also judged on them alone (``held_out``): the
    out-of-sample form of the check. None when the ensemble has under 100 histories."""
    H = h.falls.shape[0]
    M = min(SELF_RECORDS, H // 5)
    if M < 20:
        return None
    checks = np.zeros(M, dtype=np.int64)
    record = 0
    if main:
        sim = milestone_months(h.falls, main, h.rises).astype(np.float64)
        sim[sim < 0] = np.inf
        for j, m in enumerate(main):
            q = _quantiles(sim[M:, j], "nearest")
            checks += np.logical_and(*_month_checks(q, sim[:M, j]))
            record += int(np.logical_and(*_month_checks(q, np.array([float(m.t)])))[0])
    for t in main_tallies:
        share = h.tallies[:, t.column]
        known = t.value is not None
        q = _quantiles(share[M:])
        checks += _tally_checks(q, share[:M], known)
        said = np.array([t.value if t.value is not None else 1.0])
        record += int(_tally_checks(q, said, known)[0])
    n = len(main) + len(main_tallies)
    out: dict[str, Any] = {
        "records": M, "reference": H - M, "main": n, "record_main_pass": record,
        "main_pass_counts": np.bincount(checks, minlength=n + 1).tolist(),
        "main_pass_mean": float(checks.mean()),
        "share_no_better": float(np.mean(checks <= record)),
        "share_all_pass": float(np.mean(checks == n))}
    if targets.milestones:
        out.update(_months_off_check(h, targets, targets.milestones, M))
    if held:
        out["held_out"] = _months_off_check(h, targets, held, M)
    return out


def _months_off_check(h: Histories, targets: Targets, ms: tuple[MilestoneTarget, ...], M: int
                      ) -> dict[str, Any]:
    """Months off over ``ms`` for the record and for each of the first ``M`` histories taken as
    the record, against the reference (``self_check``)."""
    months = months_or_never(h.falls, targets, ms, h.rises)
    wt = np.array([m.weight for m in ms], dtype=np.float64)
    wt = wt / max(wt.sum(), 1e-12)
    part = slice(M, M + SELF_REFERENCE)
    ref = months[part]
    rises = h.rises[part] if h.rises is not None else None
    off_record = float((months_apart(h.falls[part], targets, ms, rises) @ wt).mean())
    off = np.zeros(M)
    for k in range(len(ms)):
        off += wt[k] * np.abs(ref[None, :, k] - months[:M, None, k]).mean(axis=1)
    return {"record_months_off": off_record,
            "months_off": [float(v) for v in np.percentile(off, [10, 50, 90])],
            "share_farther": float(np.mean(off >= off_record))}


def month_stats(sim: NDArray[np.int64], hist: int, start: int) -> dict[str, Any]:
    """Quantiles of simulated steps (-1 = never, sorted after everything) beside ``hist``."""
    x = np.where(sim >= 0, sim.astype(np.float64), np.inf)
    q = _quantiles(x, "nearest") if len(x) else (np.inf, np.inf, np.inf)
    p10, med, p90 = q

    def month(v: float) -> str | None:
        return None if not np.isfinite(v) else format_month(start + int(v))

    ins, near = _month_checks(q, np.array([float(hist)]))
    inside, within = bool(ins[0]), bool(near[0])
    err = abs(med - hist) if np.isfinite(med) else None
    happened = sim >= 0
    return {"median": month(med), "p10": month(p10), "p90": month(p90),
            "share": float(happened.mean()) if len(sim) else 0.0,
            "rank": rank(x, hist),
            "median_if_happened": (format_month(start + int(np.median(sim[happened])))
                                   if happened.any() else None),
            "inside": inside, "abs_error_months": err,
            "within": within, "pass": inside and within}


def rank(sim: NDArray[np.float64], hist: float) -> float:
    """The record's rank among the simulated months (never = infinity): the share of histories
    in which the step came earlier, ties counting half. 0.5 is the median history; a record
    drawn from the model itself has a rank spread evenly over 0-1 (the probability integral
    transform, Dawid 1984)."""
    if not len(sim):
        return float("nan")
    return float(np.mean(sim < hist) + 0.5 * np.mean(sim == hist))


def tally_stats(share: NDArray[np.float64], value: float | None) -> dict[str, Any]:
    q = _quantiles(share)
    out: dict[str, Any] = {"median": q[1], "p10": q[0], "p90": q[2],
                           "leadership_won": float((share > 0.5).mean()),
                           "large_majority": float((share >= TALLY_FLOOR).mean())}
    said = np.array([value if value is not None else 1.0])
    out["inside"] = bool(_tally_checks(q, said, value is not None)[0])
    out["pass"] = out["inside"]
    return out


def alignment_stats(match: NDArray[np.float64]) -> dict[str, float]:
    """``months``: share of the alignment's months matched, over all histories; ``mostly``:
    share of histories matching in at least half of them; ``never``: matching in none."""
    return {"months": float(match.mean()) if len(match) else 0.0,
            "mostly": float((match >= 0.5).mean()) if len(match) else 0.0,
            "never": float((match == 0).mean()) if len(match) else 0.0}


def _ensemble(model: Compiled, seed: int, runs: int, theta: NDArray[np.float64] | None,
              workers: int, progress: Progress | None,
              executor: Executor | None = None) -> Histories:
    idx = np.arange(runs, dtype=np.int64)
    params = draw_params(model, seed, idx) if theta is None else theta
    return run(model, seed, runs, params=params, workers=workers, progress=progress,
               executor=executor)


def fit_report(scenario: Scenario, *, runs: int, seed: int, posterior: Posterior | None,
               workers: int = 1, progress: Progress | None = None,
               executor: Executor | None = None) -> FitReport:
    """Simulate ``runs`` histories under the priors (and the posterior) and compare; the
    histories run here, on ``workers`` processes or on ``executor`` (``runner.run``)."""
    model = compile_scenario(scenario)
    targets: Targets = build_targets(scenario, model)
    until = (posterior.meta.get("until") or None) if posterior is not None else None
    hs = {"prior": _ensemble(model, seed, runs, None, workers, progress, executor)}
    if posterior is not None:
        theta = draw_posterior_params(model, posterior, seed, np.arange(runs, dtype=np.int64))
        hs["posterior"] = _ensemble(model, seed, runs, theta, workers, progress, executor)
    rows = []
    for m in targets.milestones:
        row: dict[str, Any] = {"id": m.id, "actor": m.actor, "step": m.step,
                               "direction": m.direction,
                               "historical": m.month, "weight": m.weight,
                               "main": m.id in scenario.fit.main,
                               "held_out": until is not None
                               and parse_month(m.month) > parse_month(until)}
        for e, h in hs.items():
            row[e] = month_stats(milestone_months(h.falls, (m,), h.rises)[:, 0], m.t,
                                 model.start)
        rows.append(row)
    tallies = []
    for t in targets.tallies:
        row = {"assembly": t.name, "month": t.month, "historical": t.value,
               "verified": t.verified, "note": t.note, "main": t.name in scenario.fit.main_tallies,
               "held_out": until is not None and parse_month(t.month) > parse_month(until)}
        for e, h in hs.items():
            row[e] = tally_stats(h.tallies[:, t.column], t.value)
        tallies.append(row)
    alignments = []
    for a in scenario.fit.alignments:
        arow: dict[str, Any] = {"name": a.name, "start": a.start, "end": a.end,
                                "together": list(a.together), "against": list(a.against),
                                "source": a.source}
        matches = {e: alignment_match(h.coalition, model, a) for e, h in hs.items()}
        if any(m is None for m in matches.values()):
            continue  # the scenario lacks a leader of this alignment, or its months
        arow.update({e: alignment_stats(m) for e, m in matches.items() if m is not None})
        alignments.append(arow)
    winners = {}
    for e, h in hs.items():
        s = summarise(model, h)
        winners[e] = {a: {"p": s.winners[a], "ci": list(s.winner_ci[a])} for a in s.winners}
    every = np.ones(len(targets.milestones), dtype=bool)
    held = np.array([r["held_out"] for r in rows], dtype=bool)
    off: dict[str, dict[str, list[float]]] = {}
    for e, h in hs.items():
        parts = {"all": months_off(h, targets, every), "held_out": months_off(h, targets, held)}
        off[e] = {k: v for k, v in parts.items() if v is not None}
    main = tuple(m for m in targets.milestones if m.id in scenario.fit.main)
    main_tallies = tuple(t for t in targets.tallies if t.name in scenario.fit.main_tallies)
    unseen = tuple(m for m, r in zip(targets.milestones, rows, strict=True) if r["held_out"])
    selves = {e: c for e, h in hs.items()
              if (c := self_check(h, targets, main, main_tallies, unseen)) is not None}
    return FitReport(scenario.id, seed, runs, until, tuple(hs), rows, tallies, winners,
                     dict(posterior.meta) if posterior is not None else {}, alignments, off,
                     selves)
