"""Historical targets as predicates over simulated histories, and the ABC distance.

A scenario milestone ``(actor, step, month, weight)`` becomes a predicate over a history: the
history's month for it is the first step at which ``actor`` reached rung ``step`` of the removal
ladder (``falls[:, actor, rung]``; ``exile`` is internal exile and ``deportation`` the
deportation rung), or "never". The fit score of a history (the distance ABC keeps small;
Pritchard et al. 1999, Beaumont et al. 2009) adds four parts, each in units of the month
tolerance ``tau`` (default 6 months) or of a share:

``D = months + order_weight * order + survival_weight * survival + tally_weight * tallies``

with weights 1, 0.5 and 0.25 by default (``Weights``; recorded in every posterior's metadata):

- **months**: the weighted mean over milestones of ``|t_sim - t_hist| / tau``; a milestone that
  never happens costs ``(last step - t_hist + 12) / tau``, more than any month inside the horizon.
- **order**: over the pairs of principals whose falls history orders strictly (removal from the
  Politburo and expulsion from the party, each judged at the record's end: the Right and Stalin
  had not fallen by June 1928), the share of pairs the history orders the other way (a tie counts
  half). Kendall's discordance, so it is blind to months and sees only who fell first.
- **survival**: for each principal and step that history says had not happened by the end of
  the record (``record_end``, June 1928 for the built-in scenario, clipped to ``--until``), how
  many months before that end the simulated fall came, ``max(0, end - t + 1) / tau``, averaged.
  This is what penalises the early purges of Rykov and Tomsky.
- **tallies**: congresses and conferences up to the record's end were won by the leadership
  with large majorities (facts.md 8.2 and 4), coded as a hinge ``max(0, floor - share) / 0.1``
  with ``floor`` 0.8; the 14th Congress's "559 to 65" (share 0.896) is UNVERIFIED in every
  consulted source, so it enters as ``|share - 0.896| / 0.1`` at a quarter of the weight of a
  verified one.

``until`` restricts everything to what was known by that month: milestones after it are held
out, the order and survival checks are judged at ``until``, and only assemblies up to it count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from politburo.dates import format_month, parse_month
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import Scenario
from politburo.state import LADDER

RECORD_END = "1928-06"
"""The fact base deliberately stops in June 1928 (milestones.yaml header): after it, no fall of
the Right or of Stalin is known to the model, so the order and survival checks stop there."""

ORDER_STEPS = ("politburo", "party")
TALLY_FLOOR = 0.8
TALLY_SCALE = 0.1
@dataclass(frozen=True)
class HistoricalTally:
    """What the sources say of a vote at an assembly (the scenario format has no field for it).

    ``exact``: the share is the share of the floor backing the leadership, and the fit compares
    it; otherwise it is shown beside the simulation but the fit only asks for a large majority.
    """

    share: float
    what: str
    source: str
    verified: bool
    exact: bool


HISTORICAL_TALLIES: dict[str, HistoricalTally] = {
    # A unanimous condemnation of a platform says the leadership won big, not by how much.
    "13th Party Congress": HistoricalTally(
        1.0, "the opposition's platform condemned unanimously", "S18", True, exact=False),
    "14th Party Congress": HistoricalTally(
        559 / (559 + 65), "559 to 65 on the CC report",
        "commonly cited but UNVERIFIED in every source of the fact base (facts.md section 4)",
        False, exact=True),
}


@dataclass(frozen=True)
class HistoricalAlignment:
    """Who ruled together against whom over a span of months (facts.md sections 3, 4 and 9).

    A simulated month matches when the ruling coalition holds every leader of ``together`` and
    none of ``against``. This is a check of the coalition mechanism, shown beside the milestones
    by ``politburo fit``; it is not part of the ABC distance.
    """

    name: str
    start: str
    end: str
    together: tuple[str, ...]
    against: tuple[str, ...]
    source: str


HISTORICAL_ALIGNMENTS: tuple[HistoricalAlignment, ...] = (
    # The triumvirs emerged as the ruling group at the 12th Congress (Hallas, S25; Cliff, S22b)
    # and held until Trotsky lost the War Commissariat (S27).
    HistoricalAlignment("the troika against Trotsky", "1923-04", "1925-01",
                        ("stalin", "zinoviev", "kamenev"), ("trotsky",),
                        "troika_formed; S25, S22b, S42"),
    # After the 14th Congress: Stalin with Bukharin, Rykov and Tomsky against the New, then the
    # United, Opposition, until its expulsion (facts.md section 9, alignment sequence).
    HistoricalAlignment("Stalin and the Right against the Left", "1926-01", "1927-11",
                        ("stalin", "bukharin", "rykov", "tomsky"),
                        ("zinoviev", "kamenev", "trotsky"), "troika_split; S52, S82, S100"),
)


def alignment_match(coalition: NDArray[np.integer], model: Compiled,
                    alignment: HistoricalAlignment) -> NDArray[np.float64] | None:
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
    rung: int  # index into LADDER
    t: int  # historical step index


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


def build_targets(scenario: Scenario, model: Compiled, *, until: str | None = None,
                  record_end: str = RECORD_END, weights: Weights | None = None) -> Targets:
    """The targets of ``scenario``'s milestones known by ``until`` (all when None)."""
    w = weights or Weights()
    cut = parse_month(until) if until else None
    last = model.steps - 1
    end_abs = min(parse_month(record_end), model.start + last)
    if cut is not None:
        end_abs = min(end_abs, cut)
    end = end_abs - model.start
    known: list[MilestoneTarget] = []
    held: list[MilestoneTarget] = []
    for m in scenario.milestones:
        tgt = MilestoneTarget(
            id=m.id, actor=m.actor, step=m.step, month=m.month, weight=m.weight,
            source=m.source, p=model.index(m.actor), rung=LADDER.index(m.step),
            t=parse_month(m.month) - model.start)
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
    for col, mt in enumerate(assemblies):
        if mt.month > end:
            continue
        month = format_month(model.start + mt.month)
        said = HISTORICAL_TALLIES.get(mt.name)
        if said is not None and said.exact:
            tallies.append(TallyTarget(mt.name, month, col, mt.month, said.share,
                                       said.verified, f"{said.what}: {said.source}"))
        else:
            tallies.append(TallyTarget(mt.name, month, col, mt.month, None, True,
                                       "won by the leadership with a large majority"))
    return Targets(tuple(known), tuple(held), tuple(pairs), tuple(survival), tuple(tallies),
                   end, last, until, w)


def _status(p: int, r: int, end: int, record: tuple[MilestoneTarget, ...]) -> float | None:
    """When principal ``p`` reached rung ``r`` as far as the record tells at step ``end``: the
    step if by ``end``, inf if he had not by then, None if the record cannot say (he reached a
    later rung but the record gives no month for this one)."""
    own = [m.t for m in record if m.p == p and m.rung == r]
    if own:
        return float(min(own)) if min(own) <= end else np.inf
    if any(m.p == p and m.rung > r for m in record):
        return None
    return np.inf


def milestone_months(falls: NDArray[np.int64], targets: tuple[MilestoneTarget, ...]
                     ) -> NDArray[np.int64]:
    """(H, M) simulated step of each milestone, -1 when it never happened."""
    if not targets:
        return np.zeros((falls.shape[0], 0), dtype=np.int64)
    p = np.array([m.p for m in targets])
    r = np.array([m.rung for m in targets])
    return falls[:, p, r]


def components(falls: NDArray[np.int64], tallies: NDArray[np.float64], targets: Targets
               ) -> dict[str, NDArray[np.float64]]:
    """The four parts of the distance, each (H,), before weighting."""
    H, w = falls.shape[0], targets.weights
    out: dict[str, NDArray[np.float64]] = {}
    ms = targets.milestones
    if ms:
        sim = milestone_months(falls, ms).astype(np.float64)
        hist = np.array([m.t for m in ms], dtype=np.float64)
        wt = np.array([m.weight for m in ms])
        err = np.where(sim >= 0, np.abs(sim - hist), targets.last_step - hist + 12.0) / w.tau
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


def distance(falls: NDArray[np.int64], tallies: NDArray[np.float64], targets: Targets
             ) -> NDArray[np.float64]:
    """The fit score of each history (H,), >= 0; 0 is a perfect match (see module docstring)."""
    c, w = components(falls, tallies, targets), targets.weights
    return (c["months"] + w.order * c["order"] + w.survival * c["survival"]
            + w.tallies * c["tallies"])
