"""Historical targets as predicates over simulated histories, and the ABC distance.

A scenario milestone ``(actor, step, month, weight)`` becomes a predicate over a history: the
history's month for it is the first step at which ``actor`` reached rung ``step`` of the removal
ladder (``falls[:, actor, rung]``; ``exile`` is internal exile and ``deportation`` the
deportation rung), or "never". A milestone with ``direction: rise`` is read from
``Histories.rises`` instead: the first step at which he held an office he did not hold at the
start (that office, when the milestone names one), or was back in the leadership, the committee
or the party after a fall from it. The fit score of a history (the distance ABC keeps small;
Pritchard et al. 1999, Beaumont et al. 2009) adds four parts, each in units of the month
tolerance ``tau`` (default 6 months) or of a share:

``D = months + order_weight * order + survival_weight * survival + tally_weight * tallies``

with weights 1, 0.5 and 0.25 by default (``Weights``; recorded in every posterior's metadata):

- **months**: the weighted mean over milestones of ``|t_sim - t_hist| / tau``; a milestone that
  never happens costs ``(last step - t_hist + 12) / tau``, more than any month inside the horizon.
- **order**: over the pairs of principals whose falls history orders strictly (removal from the
  leadership body and expulsion from the party, each judged at the record's end), the share of
  pairs the history orders the other way (a tie counts half). Kendall's discordance, so it is
  blind to months and sees only who fell first.
- **survival**: for each principal and step that history says had not happened by the end of
  the record (the scenario's ``fit.record_end``, default its end, clipped to ``--until``), how
  many months before that end the simulated fall came, ``max(0, end - t + 1) / tau``, averaged.
  In the built-in scenario this is what penalises the early purges of Rykov and Tomsky.
- **tallies**: congresses and conferences up to the record's end are taken to have been won by
  the leadership with a large majority, coded as a hinge ``max(0, floor - share) / 0.1`` with
  ``floor`` 0.8, unless the scenario's ``fit.tallies`` gives an exact figure: then it enters as
  ``|share - figure| / 0.1``, at a quarter of the weight where the figure is not verified.

Rise milestones enter the months part only (order and survival are about falls).

``until`` restricts everything to what was known by that month: milestones after it are held
out, the order and survival checks are judged at ``until``, and only assemblies up to it count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from politburo.dates import format_month, parse_month
from politburo.engine.state import LADDER
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import RISE_STEPS, FitAlignment, Scenario

ORDER_STEPS = ("politburo", "party")
TALLY_FLOOR = 0.8
TALLY_SCALE = 0.1
def alignment_match(coalition: NDArray[np.integer], model: Compiled,
                    alignment: FitAlignment) -> NDArray[np.float64] | None:
    """Per history, the share of the alignment's months whose ruling coalition matches it.

    ``coalition`` is ``Histories.coalition`` (H, T). None when the scenario lacks one of the
    alignment's leaders or its months fall outside the run.
    """
    names = set(model.principals)
    if not names.issuperset(alignment.together + alignment.against):
        return None
    a = max(parse_month(alignment.start) - model.start, 0)
    b = min(parse_month(alignment.end) - model.start, coalition.shape[1] - 1)
    if b < a:
        return None
    window = coalition[:, a:b + 1].astype(np.int64)
    need = sum(1 << model.index(x) for x in alignment.together)
    bar = sum(1 << model.index(x) for x in alignment.against)
    ok = ((window & need) == need) & ((window & bar) == 0)
    return ok.mean(axis=1)


@dataclass(frozen=True)
class Weights:
    """Relative weights of the parts of the distance, and the month tolerance."""

    tau: float = 6.0
    order: float = 1.0
    survival: float = 0.5
    tallies: float = 0.25
    unverified: float = 0.25  # multiplier for a target the sources do not confirm


@dataclass(frozen=True)
class MilestoneTarget:
    id: str
    actor: str
    step: str
    month: str
    weight: float
    source: str
    p: int  # principal index
    rung: int  # index into LADDER (a fall), or column of Histories.rises (a rise)
    t: int  # historical step index
    direction: str = "fall"


@dataclass(frozen=True)
class TallyTarget:
    name: str
    month: str
    column: int  # column of Histories.tallies
    t: int
    value: float | None  # the known share, when the sources give one
    verified: bool
    note: str


@dataclass(frozen=True)
class Targets:
    """Everything the distance compares, as step indices of one compiled scenario."""

    milestones: tuple[MilestoneTarget, ...]
    held_out: tuple[MilestoneTarget, ...]
    order_pairs: tuple[tuple[int, int, int], ...]  # (rung, earlier principal, later principal)
    survival: tuple[tuple[int, int], ...]  # (principal, rung) not reached by ``end``
    tallies: tuple[TallyTarget, ...]
    end: int  # step at which order and survival are judged
    last_step: int
    until: str | None
    weights: Weights = field(default_factory=Weights)


def scenario_record_end(scenario: Scenario) -> str:
    """The last month of the scenario's record: ``fit.record_end``, else its end."""
    return scenario.fit.record_end or scenario.end


def build_targets(scenario: Scenario, model: Compiled, *, until: str | None = None,
                  record_end: str | None = None, weights: Weights | None = None) -> Targets:
    """The targets of ``scenario``'s milestones known by ``until`` (all when None).

    ``record_end`` overrides the scenario's own (``fit.record_end``, else its end)."""
    w = weights or Weights()
    cut = parse_month(until) if until else None
    last = model.steps - 1
    end_abs = min(parse_month(record_end or scenario_record_end(scenario)), model.start + last)
    if cut is not None:
        end_abs = min(end_abs, cut)
    end = end_abs - model.start
    known: list[MilestoneTarget] = []
    held: list[MilestoneTarget] = []
    for m in scenario.milestones:
        if m.direction == "rise":
            col = (len(RISE_STEPS) + model.offices.index(m.office) if m.office is not None
                   else RISE_STEPS.index(m.step))
        else:
            col = LADDER.index(m.step)
        tgt = MilestoneTarget(
            id=m.id, actor=m.actor, step=m.step, month=m.month, weight=m.weight,
            source=m.source, p=model.index(m.actor), rung=col,
            t=parse_month(m.month) - model.start, direction=m.direction)
        (known if cut is None or parse_month(m.month) <= cut else held).append(tgt)
    pairs: list[tuple[int, int, int]] = []
    survival: list[tuple[int, int]] = []
    for step in ORDER_STEPS:
        r = LADDER.index(step)
        status = [_status(p, r, end, (*known, *held)) for p in range(model.P)]
        survival += [(p, r) for p in range(model.P) if status[p] == np.inf]
        pairs += [(r, a, b) for a in range(model.P) for b in range(model.P)
                  if (sa := status[a]) is not None and (sb := status[b]) is not None and sa < sb]
    tallies = []
    assemblies = [mt for mt in model.meetings if mt.kind >= 2]
    known_tallies = {t.assembly: t for t in scenario.fit.tallies}
    for col, mt in enumerate(assemblies):
        if mt.month > end:
            continue
        month = format_month(model.start + mt.month)
        said = known_tallies.get(mt.name)
        if said is not None and said.exact:
            tallies.append(TallyTarget(mt.name, month, col, mt.month, said.value(),
                                       said.verified,
                                       f"{said.what}: {said.source or said.assumption}"))
        else:
            tallies.append(TallyTarget(mt.name, month, col, mt.month, None, True,
                                       "won by the leadership with a large majority"))
    return Targets(tuple(known), tuple(held), tuple(pairs), tuple(survival), tuple(tallies),
                   end, last, until, w)


def _status(p: int, r: int, end: int, record: tuple[MilestoneTarget, ...]) -> float | None:
    """When principal ``p`` reached rung ``r`` as far as the record tells at step ``end``: the
    step if by ``end``, inf if he had not by then, None if the record cannot say (he reached a
    later rung but the record gives no month for this one)."""
    falls = [m for m in record if m.direction == "fall"]
    own = [m.t for m in falls if m.p == p and m.rung == r]
    if own:
        return float(min(own)) if min(own) <= end else np.inf
    if any(m.p == p and m.rung > r for m in falls):
        return None
    return np.inf


def milestone_months(falls: NDArray[np.int64], targets: tuple[MilestoneTarget, ...],
                     rises: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """(H, M) simulated step of each milestone, -1 when it never happened (a rise milestone
    reads ``rises``, ``Histories.rises``; without it a rise never happens)."""
    out = np.full((falls.shape[0], len(targets)), -1, dtype=np.int64)
    for j, m in enumerate(targets):
        if m.direction == "fall":
            out[:, j] = falls[:, m.p, m.rung]
        elif rises is not None:
            out[:, j] = rises[:, m.p, m.rung]
    return out


def months_or_never(falls: NDArray[np.int64], targets: Targets,
                    milestones: tuple[MilestoneTarget, ...],
                    rises: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """(H, M) each history's month for ``milestones``, a milestone that never happens counting
    as twelve months after the horizon: the months the distance and the fit's months off
    compare."""
    sim = milestone_months(falls, milestones, rises).astype(np.float64)
    return np.where(sim >= 0, sim, targets.last_step + 12.0)


def months_apart(falls: NDArray[np.int64], targets: Targets,
                 milestones: tuple[MilestoneTarget, ...],
                 rises: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """(H, M) months between each history's month for ``milestones`` (``months_or_never``) and
    the record's (the months part of the distance before it is put in units of ``tau`` and
    weighted). Whole months in floats: the differences are exact."""
    hist = np.array([m.t for m in milestones], dtype=np.float64)
    return np.abs(months_or_never(falls, targets, milestones, rises) - hist)


def components(falls: NDArray[np.int64], tallies: NDArray[np.float64], targets: Targets,
               rises: NDArray[np.int64] | None = None) -> dict[str, NDArray[np.float64]]:
    """The four parts of the distance, each (H,), before weighting."""
    H, w = falls.shape[0], targets.weights
    out: dict[str, NDArray[np.float64]] = {}
    ms = targets.milestones
    if ms:
        wt = np.array([m.weight for m in ms])
        err = months_apart(falls, targets, ms, rises) / w.tau
        out["months"] = err @ wt / max(wt.sum(), 1e-12)
    else:
        out["months"] = np.zeros(H)
    if targets.order_pairs:
        r, a, b = (np.array(x) for x in zip(*targets.order_pairs, strict=True))
        ta, tb = _by_end(falls[:, a, r], targets.end), _by_end(falls[:, b, r], targets.end)
        out["order"] = (np.where(ta > tb, 1.0, np.where(ta == tb, 0.5, 0.0))).mean(axis=1)
    else:
        out["order"] = np.zeros(H)
    if targets.survival:
        p, r = (np.array(x) for x in zip(*targets.survival, strict=True))
        t = falls[:, p, r]
        early = np.where((t >= 0) & (t <= targets.end), targets.end - t + 1, 0)
        out["survival"] = early.mean(axis=1) / w.tau
    else:
        out["survival"] = np.zeros(H)
    if targets.tallies and tallies.shape[1]:
        parts, wts = [], []
        for tt in targets.tallies:
            share = tallies[:, tt.column]
            if tt.value is None:
                parts.append(np.maximum(TALLY_FLOOR - share, 0.0) / TALLY_SCALE)
            else:
                parts.append(np.abs(share - tt.value) / TALLY_SCALE)
            wts.append(1.0 if tt.verified else w.unverified)
        out["tallies"] = np.column_stack(parts) @ np.array(wts) / sum(wts)
    else:
        out["tallies"] = np.zeros(H)
    return out


def _by_end(t: NDArray[np.int64], end: int) -> NDArray[np.float64]:
    """Fall steps with 'not by the end of the record' as +inf, so it sorts last."""
    return np.where((t >= 0) & (t <= end), t.astype(np.float64), np.inf)


def distance(falls: NDArray[np.int64], tallies: NDArray[np.float64], targets: Targets,
             rises: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """The fit score of each history (H,), >= 0; 0 is a perfect match (see module docstring)."""
    c, w = components(falls, tallies, targets, rises), targets.weights
    return (c["months"] + w.order * c["order"] + w.survival * c["survival"]
            + w.tallies * c["tallies"])
