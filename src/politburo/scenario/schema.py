"""The scenario format: validated, frozen, typed values.

A scenario file is YAML. It is parsed once at the edge (``loader.py``) into these pydantic
models, which are frozen: the engine never sees raw dictionaries. Every number in a scenario
must say where it comes from: a ``Quantity`` carries either ``source`` (a fact-base tag such as
``S18`` or a milestone id) or ``assumption`` (a reason), never neither.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from politburo.priors import FAMILIES

_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=_MONTH, description="a month as YYYY-MM")]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="a lower-case identifier")]

LADDER = ("censure", "office", "politburo", "central_committee", "party", "exile", "deportation")
"""The removal ladder, in order. ``office`` is loss of a state or party office."""

BODY_KINDS = ("plenum", "conference", "congress")

PRINCIPALS = (2, 12)
"""How many principals a scenario may have (the coalition kernels enumerate their subsets)."""

ENGINE_PARAMETERS = (
    "attribute_noise", "position_noise", "prestige_weight", "patronage_rate", "network_rate",
    "delegate_apparatus_weight", "cc_retention", "winning_threshold", "coalition_span",
    "apparatus_blindness", "perception_learning", "motion_rate", "threat_focus", "ladder_gap",
    "vote_noise", "standing_sensitivity", "faction_ban_penalty", "recant_cost", "exile_rate",
    "deport_rate", "capitulation_rate", "readmission_rate", "funeral_absence_penalty",
    "absence_given_ill", "disciple_bonus", "testament_weight", "testament_removal_support",
    "polemic_backlash", "polemic_enmity", "enmity_decay", "illness_activity", "prejudice_penalty",
    "outsider_penalty", "aloofness_cost", "opposition_formation", "policy_cost", "policy_drift",
    "line_adjustment", "lenin_restraint", "enrolment_apparatus_loyalty", "standing_noise",
    "base_pull", "salience_before", "response_noise", "client_drift", "tie_pull", "wedge_weight",
)
"""Every parameter the engine reads: a scenario must give each a prior (``tests`` check this
list against the engine's source)."""

ENGINE_CONSTANTS = (
    "membership_start", "secretaries_unaligned", "cc_unaligned", "cc_size_start",
    "politburo_size_start", "power_weight_cc", "power_weight_politburo", "power_weight_offices",
    "line_economy_start", "line_revolution_start", "client_loyalty", "faction_ban",
)
"""Every constant the engine reads: a scenario must give each a value."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cited(Frozen):
    """Anything that must say where it comes from."""

    source: str | None = Field(None, description="fact-base tag (S18), or a milestone id")
    assumption: str | None = Field(None, description="why this value was assumed")
    note: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> Self:
        if not (self.source or self.assumption):
            raise ValueError("needs 'source:' (a fact-base tag or milestone id) or 'assumption:'")
        return self


class Quantity(Cited):
    """A fixed number with its provenance."""

    value: float


class Prior(Cited):
    """An uncertain parameter: a distribution family with its parameters, and its provenance."""

    family: Literal["normal", "lognormal", "beta", "uniform", "truncnormal"]
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    median: float | None = Field(None, gt=0)
    sigma: float | None = Field(None, gt=0)
    a: float | None = Field(None, gt=0)
    b: float | None = Field(None, gt=0)
    low: float | None = None
    high: float | None = None
    description: str = ""

    _NEEDS = {
        "normal": ("mean", "sd"),
        "lognormal": ("median", "sigma"),
        "beta": ("a", "b"),
        "uniform": ("low", "high"),
        "truncnormal": ("mean", "sd", "low", "high"),
    }

    @model_validator(mode="after")
    def _complete(self) -> Self:
        assert self.family in FAMILIES
        missing = [k for k in self._NEEDS[self.family] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.family} prior needs {', '.join(missing)}")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError("low must be below high")
        return self

    def dist_params(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self._NEEDS[self.family]}


class Source(Frozen):
    id: str
    title: str
    url: str


class Attributes(Frozen):
    """What a principal brings to the struggle. Each is a number in [0, 1] with provenance."""

    organisation: Quantity = Field(description="skill and appetite for apparatus work")
    standing: Quantity = Field(description="initial prestige with the party, relative")
    public_profile: Quantity = Field(description="how visible the leader's power is to rivals")
    aloofness: Quantity = Field(description="distance from colleagues; cost to alliances")
    defiance: Quantity = Field(description="reluctance to recant when a vote is lost")
    opportunism: Quantity = Field(description="readiness to move policy toward the winning line")
    outsider: Quantity = Field(description="late entry into the Bolshevik party (1 = joined 1917)")
    prejudice_target: Quantity = Field(
        description="1 where sources record prejudice against the leader as a Jewish Bolshevik"
    )

    @model_validator(mode="after")
    def _unit(self) -> Self:
        for name in type(self).model_fields:
            q = getattr(self, name)
            if not 0.0 <= q.value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {q.value}")
        return self


class Position(Cited):
    """A point on the two policy axes of facts.md section 9, each in [-1, 1].

    ``economy``: -1 NEP and market gradualism, +1 forced industrialisation and coercion.
    ``revolution``: -1 socialism in one country, +1 permanent or world revolution.
    """

    economy: float = Field(ge=-1, le=1)
    revolution: float = Field(ge=-1, le=1)


class Principal(Frozen):
    id: Ident
    name: str
    attributes: Attributes
    position: Position
    opposition: bool = Field(
        True, description="whether he may turn to opposition: hedge toward his base when "
        "threatened and organise outside the ruling coalition (false only in a lever's world)")
    note: str = ""


class Client(Frozen):
    """A named client: not a contender, but he can be raised to the Politburo and votes there
    with his patron as far as his loyalty goes."""

    id: Ident
    name: str
    patron: Ident
    loyalty: Quantity | None = Field(
        None, description="chance he votes with his patron, in [0, 1]; the constant "
        "client_loyalty when absent")
    source: str | None = None
    assumption: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _unit(self) -> Self:
        if self.loyalty is not None and not 0.0 <= self.loyalty.value <= 1.0:
            raise ValueError(f"client {self.id}: loyalty must lie in [0, 1], got "
                             f"{self.loyalty.value}")
        return self


class Tie(Frozen):
    """A standing political partnership between two principals, formed before the scenario
    opens: each pulls the other's line toward his own, by ``strength`` (in [0, 1]) times the
    ``tie_pull`` parameter. It sets no position and forms no bloc."""

    between: tuple[Ident, Ident]
    strength: Quantity
    source: str | None = None
    assumption: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _sane(self) -> Self:
        if self.between[0] == self.between[1]:
            raise ValueError(f"tie: a leader cannot be tied to himself ({self.between[0]})")
        if not 0.0 <= self.strength.value <= 1.0:
            raise ValueError(f"tie {self.between[0]}-{self.between[1]}: strength must lie in "
                             f"[0, 1], got {self.strength.value}")
        if not (self.source or self.assumption):
            raise ValueError("tie: needs 'source:' or 'assumption:'")
        return self


class Interest(Cited):
    """Where an institutional base pulls its leader on each policy axis, in [-1, 1]; an axis
    left out is one the base has no stake in."""

    economy: float | None = Field(None, ge=-1, le=1)
    revolution: float | None = Field(None, ge=-1, le=1)


class Office(Frozen):
    id: Ident
    name: str
    holder: Ident | None = Field(description="principal id at the start, or null if vacant")
    weight: Quantity = Field(description="contribution to its holder's power")
    patronage: bool = Field(False, description="whether the holder appoints provincial secretaries")
    fiefdom: Quantity | None = Field(
        None, description="share of congress delegates the holder's organisation controls"
    )
    interest: Interest | None = Field(
        None, description="the policy interests of the institutional base the office leads")


class Meeting(Cited):
    month: Month
    kind: Literal["plenum", "conference", "congress"]
    name: str
    voting_delegates: Quantity | None = None
    cc_size: Quantity | None = Field(None, description="full CC members elected (congress only)")
    politburo_size: Quantity | None = Field(None, description="full Politburo seats after it")


EVENT_KINDS = (
    "lenin_incapacitated",
    "lenin_death",
    "illness",
    "funeral",
    "testament",
    "polemic",
    "enrolment",
    "crisis",
    "salience",
    "alliance",
)


class Response(Cited):
    """One answer the rulers may give to a crisis, and how far it moves the party line."""

    id: Ident
    economy: float = Field(0.0, ge=-2, le=2)
    revolution: float = Field(0.0, ge=-2, le=2)
    description: str = ""


class Event(Cited):
    """A dated exogenous event. Its *effects* are parameters with priors, never outcomes."""

    id: Ident
    kind: Literal[*EVENT_KINDS]  # type: ignore[valid-type]
    month: Month
    until: Month | None = None
    enabled: bool = True
    actor: Ident | None = Field(None, description="the actor the event is about or by")
    targets: tuple[Ident, ...] = ()
    size: float | None = Field(None, description="kind-specific magnitude (e.g. recruits)")
    responses: tuple[Response, ...] = Field(
        (), description="a crisis: the answers the ruling coalition chooses among")
    axis: Literal["economy", "revolution"] | None = Field(
        None, description="a salience event: the policy axis that becomes contested")
    handling: Literal["suppressed", "delegations", "published"] | None = None
    present: tuple[Ident, ...] = Field((), description="principals sure to attend (a funeral)")
    description: str = ""

    @model_validator(mode="after")
    def _kind_fields(self) -> Self:
        """A crisis needs two answers to choose between; a salience event names its axis."""
        if self.kind == "crisis" and len(self.responses) < 2:
            raise ValueError(f"event {self.id}: a crisis needs at least two responses to "
                             f"choose between")
        if self.kind == "salience" and self.axis is None:
            raise ValueError(f"event {self.id}: a salience event needs 'axis' (economy or "
                             f"revolution)")
        return self


class Milestone(Frozen):
    """A historical fact the model can express, for the fit (issue 3) and the tables."""

    id: Ident
    month: Month
    actor: Ident
    step: Literal["office", "politburo", "central_committee", "party", "exile", "deportation"]
    weight: float = Field(1.0, ge=0)
    source: str
    note: str = ""


class LeverValue(Frozen):
    kind: Literal["month", "number"]
    default: str | float
    description: str = ""


class Lever(Frozen):
    """A named counterfactual: a set of overrides applied to the scenario before compiling.

    ``set`` maps a dotted path (``parameters.patronage_rate``, ``principals.trotsky.attributes.
    aloofness``, ``events.lenin_funeral.enabled``) to a value; the string ``$value`` stands for
    the lever's value when it takes one.
    """

    id: Ident
    title: str
    description: str
    set: dict[str, float | int | bool | str | list[str] | None]
    value: LeverValue | None = None
    sources: tuple[str, ...] = ()
    essay_claims: tuple[int, ...] = ()


class Scenario(Frozen):
    id: Ident | Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    title: str
    description: str = ""
    start: Month
    end: Month
    principals: tuple[Principal, ...]
    clients: tuple[Client, ...] = ()
    ties: tuple[Tie, ...] = ()
    offices: tuple[Office, ...]
    calendar: tuple[Meeting, ...]
    events: tuple[Event, ...] = ()
    constants: dict[str, Quantity] = Field(default_factory=dict)
    parameters: dict[str, Prior]
    milestones: tuple[Milestone, ...] = ()
    levers: tuple[Lever, ...] = ()
    bibliography: tuple[Source, ...] = ()

    @field_validator("principals")
    @classmethod
    def _enough(cls, v: tuple[Principal, ...]) -> tuple[Principal, ...]:
        if not PRINCIPALS[0] <= len(v) <= PRINCIPALS[1]:
            raise ValueError(f"expected {PRINCIPALS[0]} to {PRINCIPALS[1]} principals, "
                             f"got {len(v)}")
        return v

    @field_validator("parameters", "constants")
    @classmethod
    def _engine_needs(cls, v: dict[str, object], info: ValidationInfo) -> dict[str, object]:
        need, what = ((ENGINE_PARAMETERS, "a prior") if info.field_name == "parameters"
                      else (ENGINE_CONSTANTS, "a value"))
        missing = [n for n in need if n not in v]
        if missing:
            raise ValueError(f"the engine needs {what} for each of {', '.join(missing)}")
        return v

    @model_validator(mode="after")
    def _references(self) -> Self:
        ids = [p.id for p in self.principals]
        if len(set(ids)) != len(ids):
            raise ValueError("principal ids must be unique")
        known = set(ids) | {"lenin"}
        everyone = known | {c.id for c in self.clients}
        for c in self.clients:
            if c.patron not in known:
                raise ValueError(f"client {c.id}: patron {c.patron!r} is not a principal")
        for tie in self.ties:
            for who in tie.between:
                if who not in ids:
                    raise ValueError(f"tie {'-'.join(tie.between)}: {who!r} is not a principal "
                                     f"(expected one of {', '.join(sorted(ids))})")
        pairs = [frozenset(tie.between) for tie in self.ties]
        if len(set(pairs)) != len(pairs):
            raise ValueError("each pair of principals may have one tie at most")
        for o in self.offices:
            if o.holder is not None and o.holder not in known:
                raise ValueError(f"office {o.id}: holder {o.holder!r} is not a principal")
        for e in self.events:
            for who in (e.actor, *e.targets, *e.present):
                if who is not None and who not in everyone:
                    raise ValueError(f"event {e.id}: actor {who!r} is not in the scenario")
        for m in self.milestones:
            if m.actor not in known:
                raise ValueError(f"milestone {m.id}: actor {m.actor!r} is not a principal")
        if not self.start < self.end:
            raise ValueError("start must come before end")
        months = [m.month for m in self.calendar]
        if months != sorted(months):
            raise ValueError("calendar must be in date order")
        tags = {s.id for s in self.bibliography}
        if tags:
            for tag in _cited_tags(self):
                if tag not in tags and not re.match(r"^[a-z][a-z0-9_]*$", tag):
                    raise ValueError(f"source {tag!r} is not in the scenario's bibliography")
        return self


def _cited_tags(s: Scenario) -> set[str]:
    """Every fact-base tag the scenario cites (milestone ids are lower-case and pass through)."""
    found: set[str] = set()

    def walk(obj: object) -> None:
        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if name in ("source", "sources") and value:
                    for part in [value] if isinstance(value, str) else value:
                        found.update(t.strip() for t in re.split(r"[,;]", part) if t.strip())
                else:
                    walk(value)
        elif isinstance(obj, (tuple, list)):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item)

    walk(s.principals)
    walk(s.clients)
    walk(s.ties)
    walk(s.offices)
    walk(s.calendar)
    walk(s.events)
    walk(s.constants)
    walk(s.parameters)
    walk(s.milestones)
    walk(s.levers)
    return found
