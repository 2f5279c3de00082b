"""Turn a validated scenario (and lever settings) into the arrays the engine works on.

The engine never looks at pydantic models: it gets a ``Compiled`` of plain tuples and NumPy
arrays, indexed by principal and office number. Levers are applied here, before compiling, as
overrides of the scenario's own values (see ``levers.apply_levers``), so a counterfactual world
is the baseline scenario plus named overrides and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from politburo.dates import parse_month
from politburo.scenario.priors import PriorSet
from politburo.scenario.schema import (
    BODY_KINDS,
    FEATURE_PARAMETERS,
    LADDER,
    STEPS,
    Bodies,
    Meeting,
    OnAxes,
    Powers,
    Scenario,
)

ATTRIBUTES = (
    "organisation",
    "standing",
    "public_profile",
    "aloofness",
    "defiance",
    "opportunism",
    "outsider",
    "prejudice_target",
)
LEADERSHIP = -1
"""The code of a meeting of the leadership body. It sorts below every party assembly's code, so
the engine's tests for the committee's meetings (code 1 or more: seats, the Testament's motion,
a resignation) and for the delegates' assemblies (2 or more) leave it out, as they should."""
KIND_CODE = {"session": 0, "plenum": 1, "conference": 2, "congress": 3, "leadership": LEADERSHIP}
_OUTSIDE = {"politburo": 3, "central_committee": 4}  # the rung of one who starts outside


def powers_table(powers: Powers) -> NDArray[np.bool_]:
    """``rules.powers`` as a table: row ``KIND_CODE[kind] - LEADERSHIP`` (the leadership body
    0, a session 1, a plenum 2, a conference 3, a congress 4), column the rung a step leads to
    (1 censure ... 5 party; column 0, good standing, is no step); True where that kind of
    meeting may take that step."""
    table = np.zeros((len(BODY_KINDS), len(STEPS) + 1), dtype=bool)
    for kind in BODY_KINDS:
        for step in powers.of(kind):
            table[KIND_CODE[kind] - LEADERSHIP, LADDER.index(step) + 1] = True
    return table
FOUNDER = -2  # holder code for an office the founder holds
VACANT = -1
CLIENT = -3  # holder code for an office client 0 holds; client c's is CLIENT - c


@dataclass(frozen=True)
class MeetingC:
    month: int  # step index
    kind: int  # 0 session of the state's organs, 1 plenum, 2 conference, 3 congress,
    # LEADERSHIP (-1) a meeting of the leadership body
    name: str
    delegates: int
    cc_size: int  # 0 when the meeting elects no CC
    politburo_size: int  # 0 when unchanged
    order: int = 0  # earlier meetings of the same kind in the same month
    co_opted: int = 0  # full members a plenum co-opts to the committee (0: none)
    inner_size: int = 0  # seats of the inner body this meeting elects (0: it elects none)


@dataclass(frozen=True)
class EventC:
    id: str
    kind: str
    start: int  # step index
    until: int  # step index, inclusive
    actor: int  # principal index, or -1 (the founder or none)
    targets: tuple[int, ...]
    present: tuple[int, ...]
    size: float
    handling: str
    responses: tuple[tuple[str, float, float], ...] = ()  # a crisis: (id, move on axis 0, 1)
    axis: int = -1  # a salience event: the index of its axis
    against: tuple[str, int] = ("", -1)  # a platform: (crisis id, index of the answer it fights)
    endorses: tuple[int, ...] = ()  # a testament: the principals it names as successors
    office: int = -1  # a resignation: the index of the office offered up (-1: the patronage one)
    client: int = -1  # a death: the index of the named client who dies


@dataclass(frozen=True)
class Compiled:
    """The arrays of one scenario world. Steps count months from the scenario's start."""

    scenario_id: str
    start: int  # absolute month of step 0
    steps: int
    principals: tuple[str, ...]
    names: tuple[str, ...]
    attrs: dict[str, NDArray[np.float64]]
    position0: NDArray[np.float64]  # (P, 2)
    offices: tuple[str, ...]
    office_names: tuple[str, ...]
    holder0: NDArray[np.int64]  # (O,)
    office_weight: NDArray[np.float64]
    fiefdom: NDArray[np.float64]  # (O,) delegate share an office's holder controls
    interest: NDArray[np.float64]  # (O, 2) where each office's base pulls its holder
    has_interest: NDArray[np.bool_]  # (O, 2) whether the base has a stake on each axis
    gensec: int  # index of the patronage office, -1 if none
    clients: tuple[str, ...]
    client_names: tuple[str, ...]
    client_patron: NDArray[np.int64]
    client_loyalty: NDArray[np.float64]  # (C,) each client's loyalty to his first patron
    opposition: NDArray[np.bool_]  # (P,) whether each principal may turn to opposition
    tie: NDArray[np.float64]  # (P, P) symmetric strength of standing partnerships, zero diagonal
    # (P, P) symmetric enmity of rivalries older than the scenario, zero diagonal (the engine
    # keeps its upper triangle: ``State.enmity``)
    enmity0: NDArray[np.float64]
    meetings: tuple[MeetingC, ...]
    events: tuple[EventC, ...]
    constants: dict[str, float]
    priors: PriorSet
    fixed: dict[str, float] = field(default_factory=dict)
    axes: tuple[str, ...] = ("economy", "revolution")  # the policy axes' ids, in order
    founder: str = ""  # the founder's id, "" when the scenario has none
    founder_called: str = ""  # the founder's name in running text ("Lenin")
    # (2,) where the founder stands on the axes when he plays in the coalition game, else None
    founder_position: NDArray[np.float64] | None = None
    funeral_place: str = ""
    capital: str = ""
    bodies: Bodies = field(default_factory=lambda: Bodies())
    streams: tuple[str, ...] = ()  # the random stream of each parameter (default: its name)
    absent: tuple[str, ...] = ()  # feature parameters the scenario leaves out (read as 0)
    # (P,) the rung each principal starts on (0 in good standing; 3 outside the leadership,
    # 4 outside the committee); empty means all 0
    rung0: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # (O,) offices that command the security forces; empty means none
    security: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # (O,) offices of the state, changed only at sessions; empty means none
    state_office: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    offices_lost: str = "all"  # "all" or "one": what a passed office motion takes
    committee_majority: float = 0.5  # share needed to unseat a committee member or expel him
    # (O,) offices the leadership body may move at its own meetings; empty means none
    leadership_office: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    appeal: str = "none"  # "none" or "at_once": may a leader removed by it appeal to the committee
    # (kinds, rungs) which steps each kind of meeting may take (``powers_table``, rules.powers)
    powers: NDArray[np.bool_] = field(default_factory=lambda: powers_table(Powers()))
    # (O,) offices a named client may take when they go to the ruling coalition; empty: none
    client_office: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # (P,) who sits in the inner body of the leadership at the start; empty: no inner body
    inner0: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def has_inner(self) -> bool:
        """Whether the scenario has an inner body of the leadership (``bodies.inner``)."""
        return bool(self.inner0.size)

    def inner_name(self) -> str:
        """The inner body's name, or the leadership body's where there is none."""
        return self.bodies.inner.name if self.bodies.inner is not None else self.bodies.leadership

    def founder_until(self) -> int:
        """The step until which the founder acts: his incapacity, or without it his death; 0
        (no founder at all) with neither."""
        ends = {e.kind: e.start for e in self.events
                if e.kind in ("founder_incapacitated", "founder_death")}
        return ends.get("founder_incapacitated", ends.get("founder_death", 0))

    def start_rungs(self) -> NDArray[np.int64]:
        """(P,) each principal's starting rung."""
        return self.rung0 if self.rung0.size else np.zeros(self.P, dtype=np.int64)

    def changeable(self, kind: int) -> NDArray[np.bool_] | None:
        """(O,) the offices a meeting of this kind can change, or None for all of them (a
        scenario with no state offices: every office is the plenum's). A meeting of the
        leadership body can change only the offices flagged ``leadership`` (none by default)."""
        if kind == LEADERSHIP:
            return (self.leadership_office.copy() if self.leadership_office.size
                    else np.zeros(len(self.offices), dtype=bool))
        if not self.state_office.size or not self.state_office.any():
            return None
        return self.state_office.copy() if kind == 0 else ~self.state_office

    def may_take(self, kind: int) -> NDArray[np.bool_]:
        """(6,) by rung: the steps a meeting of this kind may take (column 0 is no step)."""
        return self.powers[kind - LEADERSHIP]

    def client_offices(self) -> bool:
        """Whether a named client holds an office at the start or may take one (only then can
        one hold it)."""
        return bool((self.holder0 <= CLIENT).any()) or bool(self.clients_may_take().any())

    def clients_may_take(self) -> NDArray[np.bool_]:
        """(O,) the offices flagged ``client_office``: a client may take them."""
        return (self.client_office if self.client_office.size and len(self.clients)
                else np.zeros(len(self.offices), dtype=bool))

    def security_offices(self) -> NDArray[np.bool_]:
        """(O,) whether each office commands the security forces."""
        return self.security if self.security.size else np.zeros(len(self.offices), bool)

    @property
    def P(self) -> int:
        return len(self.principals)

    def index(self, actor: str) -> int:
        return self.principals.index(actor)


def _axis(interest: OnAxes | None, axis: str) -> float:
    """An office base's interest on one axis, NaN where it has no stake."""
    value = interest.on(axis) if interest is not None else None
    return float("nan") if value is None else float(value)


def _against(s: Scenario, against: str | None) -> tuple[str, int]:
    """``CRISIS.RESPONSE`` as (crisis id, response index); ("", -1) for none (validated)."""
    if not against:
        return ("", -1)
    crisis, _, answer = against.partition(".")
    e = next(x for x in s.events if x.id == crisis)
    return (crisis, [r.id for r in e.responses].index(answer))


def compile_scenario(s: Scenario, fixed: dict[str, float] | None = None) -> Compiled:
    # Principals are put in id order, so the order in which a file lists them cannot change
    # any history: every per-principal array and random draw is then keyed by id.
    # A disabled office (one only a lever's world has) is left out altogether, so the
    # baseline's arrays, and every draw keyed by office number, are as if it were not written.
    s = s.model_copy(update={"principals": tuple(sorted(s.principals, key=lambda p: p.id)),
                             "offices": tuple(o for o in s.offices if o.enabled)})
    ids = tuple(p.id for p in s.principals)
    start = parse_month(s.start)
    steps = parse_month(s.end) - start + 1

    def who(actor: str | None) -> int:
        if actor is None or actor not in ids:
            return -1
        return ids.index(actor)

    def step(month: str) -> int:
        return parse_month(month) - start

    attrs = {
        a: np.array([getattr(p.attributes, a).value for p in s.principals]) for a in ATTRIBUTES
    }
    founder = s.founder.id if s.founder is not None else ""
    axes = tuple(a.id for a in s.axes)
    client_ids = [c.id for c in s.clients]
    holder0 = np.array(
        [FOUNDER if founder and o.holder == founder
         else (CLIENT - client_ids.index(o.holder) if o.holder in client_ids
               else (VACANT if o.holder is None else who(o.holder)))
         for o in s.offices],
        dtype=np.int64,
    )
    gensec = next((i for i, o in enumerate(s.offices) if o.patronage), -1)
    office_ids = [o.id for o in s.offices]
    tie = np.zeros((len(ids), len(ids)))
    for t in s.ties:
        i, j = who(t.between[0]), who(t.between[1])
        tie[i, j] = tie[j, i] = t.strength.value
    enmity0 = np.zeros((len(ids), len(ids)))
    for r in s.rivalries:
        i, j = who(r.between[0]), who(r.between[1])
        enmity0[i, j] = enmity0[j, i] = r.enmity.value
    seen: dict[tuple[int, int], int] = {}

    def order(m: Meeting) -> int:
        key = (step(m.month), KIND_CODE[m.kind])
        seen[key] = seen.get(key, -1) + 1
        return seen[key]

    meetings = tuple(
        MeetingC(
            month=step(m.month),
            kind=KIND_CODE[m.kind],
            name=m.name,
            delegates=int(m.voting_delegates.value) if m.voting_delegates else 0,
            cc_size=int(m.cc_size.value) if m.cc_size else 0,
            politburo_size=int(m.politburo_size.value) if m.politburo_size else 0,
            order=order(m),
            co_opted=int(m.co_opted.value) if m.co_opted else 0,
            inner_size=int(m.inner_size.value) if m.inner_size else 0,
        )
        for m in s.calendar
        if 0 <= step(m.month) < steps
    )
    events = tuple(
        EventC(
            id=e.id,
            kind=e.kind,
            start=step(e.month),
            until=step(e.until) if e.until else step(e.month),
            actor=who(e.actor),
            targets=tuple(who(t) for t in e.targets if who(t) >= 0),
            present=tuple(who(t) for t in e.present if who(t) >= 0),
            size=float(e.size or 0.0),
            handling=e.handling or "",
            responses=tuple((r.id, r.on(axes[0]) or 0.0, r.on(axes[1]) or 0.0)
                            for r in e.responses),
            axis=axes.index(e.axis) if e.axis in axes else -1,
            against=_against(s, e.against),
            endorses=tuple(who(t) for t in e.endorses if who(t) >= 0),
            office=office_ids.index(e.office) if e.office in office_ids else -1,
            client=(client_ids.index(e.actor) if e.kind == "death" and e.actor in client_ids
                    else -1),
        )
        for e in s.events
        if e.enabled
    )
    interest = np.array([[_axis(o.interest, a) for a in axes]
                         for o in s.offices]).reshape(len(s.offices), 2)
    names = tuple(s.parameters)
    priors = PriorSet(
        names=names,
        families=tuple(s.parameters[n].family for n in names),
        params=tuple(s.parameters[n].dist_params() for n in names),
    )
    fixed = dict(fixed or {})
    unknown = set(fixed) - set(names)
    if unknown:
        raise ValueError(f"fixed values for unknown parameters: {sorted(unknown)}")
    absent = tuple(n for ns in FEATURE_PARAMETERS.values() for n in ns if n not in names)
    return Compiled(
        scenario_id=s.id,
        start=start,
        steps=steps,
        principals=ids,
        names=tuple(p.name for p in s.principals),
        attrs=attrs,
        position0=np.array([[p.position.on(a) or 0.0 for a in axes] for p in s.principals]),
        offices=tuple(o.id for o in s.offices),
        office_names=tuple(o.name for o in s.offices),
        holder0=holder0,
        office_weight=np.array([o.weight.value for o in s.offices]),
        fiefdom=np.array([o.fiefdom.value if o.fiefdom else 0.0 for o in s.offices]),
        interest=np.nan_to_num(interest),
        has_interest=~np.isnan(interest),
        gensec=gensec,
        clients=tuple(c.id for c in s.clients),
        client_names=tuple(c.name for c in s.clients),
        client_patron=np.array([who(c.patron) for c in s.clients], dtype=np.int64),
        client_loyalty=np.array([c.loyalty.value if c.loyalty else
                                 s.constants["client_loyalty"].value for c in s.clients],
                                dtype=np.float64),
        opposition=np.array([p.opposition for p in s.principals], dtype=bool),
        tie=tie,
        enmity0=enmity0,
        meetings=meetings,
        events=events,
        constants={k: q.value for k, q in s.constants.items()},
        priors=priors,
        fixed=fixed,
        axes=axes,
        founder=founder,
        founder_called=s.founder.called if s.founder is not None else "",
        founder_position=(np.array([s.founder.position.on(a) or 0.0 for a in axes])
                          if s.founder is not None and s.founder.position is not None else None),
        funeral_place=s.founder.funeral_place if s.founder is not None else "",
        capital=s.founder.capital if s.founder is not None else "",
        bodies=s.bodies,
        streams=tuple(s.parameters[n].stream or n for n in names),
        absent=absent,
        rung0=np.array([_OUTSIDE.get(p.outside or "", 0) for p in s.principals],
                       dtype=np.int64),
        security=np.array([o.security for o in s.offices], dtype=bool),
        client_office=np.array([o.client_office for o in s.offices], dtype=bool),
        state_office=np.array([o.state for o in s.offices], dtype=bool),
        offices_lost=s.rules.offices_lost,
        committee_majority=(s.rules.committee_majority.value
                            if s.rules.committee_majority is not None else 0.5),
        leadership_office=np.array([o.leadership for o in s.offices], dtype=bool),
        appeal=s.rules.appeal,
        powers=powers_table(s.rules.powers),
        inner0=(np.array([p.id in s.bodies.inner.members for p in s.principals], dtype=bool)
                if s.bodies.inner is not None else np.zeros(0, dtype=bool)),
    )
