"""The scenario format: validated, frozen, typed values.

A scenario file is YAML. It is parsed once at the edge (``loader.py``) into these pydantic
models, which are frozen: the engine never sees raw dictionaries. Every number in a scenario
must say where it comes from: a ``Quantity`` carries either ``source`` (a fact-base tag such as
``S18`` or a milestone id) or ``assumption`` (a reason), never neither.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from politburo.scenario.priors import FAMILIES

_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Field(pattern=_MONTH, description="a month as YYYY-MM")]
Ident = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", description="a lower-case identifier")]

LADDER = ("censure", "office", "politburo", "central_committee", "party", "exile", "deportation")
"""The removal ladder, in order. ``office`` is loss of a state or party office."""

BODY_KINDS = ("plenum", "conference", "congress", "session", "leadership")

Step = Literal["censure", "office", "politburo", "central_committee", "party"]
STEPS: tuple[Step, ...] = ("censure", "office", "politburo", "central_committee", "party")
"""The steps of the ladder that a meeting's votes take, in order (``LADDER`` less exile and
deportation, which are the police's, by administrative decision, not a vote)."""

PRINCIPALS = (2, 12)
"""How many principals a scenario may have (the coalition kernels enumerate their subsets)."""

CORE_PARAMETERS = (
    "attribute_noise", "position_noise", "prestige_weight", "patronage_rate", "network_rate",
    "delegate_apparatus_weight", "cc_retention", "winning_threshold", "coalition_span",
    "apparatus_blindness", "perception_learning", "motion_rate", "threat_focus", "ladder_gap",
    "vote_noise", "standing_sensitivity", "faction_ban_penalty", "recant_cost", "exile_rate",
    "deport_rate", "capitulation_rate", "readmission_rate", "enmity_decay", "aloofness_cost",
    "opposition_formation", "policy_cost", "policy_drift", "line_adjustment", "standing_noise",
    "base_pull", "client_drift",
)
"""The parameters every scenario needs: the mechanisms that read them run in every month."""

FEATURE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "founder": ("founder_restraint",),
    "founder_plays": ("founder_weight",),
    "founder_death": ("funeral_absence_penalty", "absence_given_ill", "disciple_bonus"),
    "testament": ("testament_weight", "testament_removal_support"),
    "endorsement": ("endorsement_weight",),
    "polemic": ("polemic_backlash", "polemic_enmity"),
    "speech": ("speech_weight",),
    "closed_speech": ("speech_closed_reach",),
    "illness": ("illness_activity",),
    "enrolment": ("enrolment_apparatus_loyalty",),
    "crisis": ("response_noise", "wedge_weight"),
    "tie": ("tie_pull",),
    "salience": ("salience_before",),
    "outsider": ("outsider_penalty",),
    "prejudice_target": ("prejudice_penalty",),
    "security": ("arrest_rate", "arrest_window"),
    "outside": ("return_rate",),
    "appeal": ("appeal_rate", "appeal_backlash"),
    "inner": ("inner_weight",),
}
"""Parameters that only a feature of the scenario uses, by feature: an event kind (a scenario
with an ``illness`` event needs ``illness_activity``; a ``testament`` that only ``endorses``
needs ``endorsement_weight`` and not the Testament's own; a ``speech`` against targets needs the
polemic's parameters, a programme speech without targets ``speech_weight``, and a closed speech
``speech_closed_reach``), ``founder`` (a founder who acts: the file
has a ``founder_incapacitated`` or ``founder_death`` event), ``founder_plays`` (that founder has
a ``position``: he plays in the coalition game while he acts) or a principal attribute that is
above zero for someone (``outsider``, ``prejudice_target``), an office that commands the
security forces (``security``: arrests) or a principal who starts outside the leadership
(``outside``: his return, and any fallen leader's), the rule ``rules.appeal`` (``appeal``: a
leader removed by the leadership body appeals to the committee), or an inner body of the
leadership (``inner``: ``bodies.inner``, whose seats carry the share ``inner_weight`` of the
leadership's weight in power). A scenario without the feature may
leave its parameters out; it may also give them (they are then drawn but read by nothing)."""

ENGINE_PARAMETERS = CORE_PARAMETERS + tuple(
    n for names in FEATURE_PARAMETERS.values() for n in names)
"""Every parameter the engine reads (``tests`` check this list against the engine's source)."""

ENGINE_CONSTANTS = (
    "membership_start", "secretaries_unaligned", "cc_unaligned", "cc_size_start",
    "politburo_size_start", "power_weight_cc", "power_weight_politburo", "power_weight_offices",
    "client_loyalty", "faction_ban",
)
"""Every constant the engine reads: a scenario must give each a value, and also
``line_<axis>_start`` for each of its two policy axes (where the party line starts)."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


SHORT = ("the name running text calls him by; the last word of name when absent (right for "
         "'Joseph Stalin', wrong for a name written surname first: 'Hua Guofeng' needs 'Hua')")


PRONOUN = ("how the texts speak of the person: 'he' (his, him) or 'she' (her); words only, "
           "no mechanism reads it")


class Named(Frozen):
    """A person the texts name: in full (``name``) or in running text (``short``), and speak of
    as ``pronoun``."""

    if TYPE_CHECKING:
        id: str
        name: str
        short: str | None
        pronoun: Literal["he", "she"]

    @property
    def called(self) -> str:
        """The name used in running text: ``short``, or else the last word of ``name``."""
        return self.short or self.name.split()[-1]

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A file that gives no ``short`` and no ``pronoun`` dumps (and hashes) as it did before
        # the fields were added, so posteriors made for it stay valid.
        out = handler(self)
        if isinstance(out, dict) and out.get("short") is None:
            out.pop("short", None)
        if isinstance(out, dict) and out.get("pronoun") == "he":
            out.pop("pronoun", None)
        return out


class Cited(Frozen):
    """Anything that must say where it comes from."""

    source: str | None = Field(default=None, description="fact-base tag (S18), or a milestone id")
    assumption: str | None = Field(default=None, description="why this value was assumed")
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
    sd: float | None = Field(default=None, gt=0)
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0)
    a: float | None = Field(default=None, gt=0)
    b: float | None = Field(default=None, gt=0)
    low: float | None = None
    high: float | None = None
    description: str = ""
    stream: str | None = Field(
        None, description="the name under which the parameter's random numbers are drawn "
        "(default: its own name); set it only to keep the histories of a renamed parameter")

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
    outsider: Quantity = Field(description="how far the leader is a late joiner, an outsider to "
                               "the party's old guard (1 = a newcomer; 0 = of the old guard)")
    prejudice_target: Quantity = Field(
        description="1 where sources record prejudice against the leader for his origin "
                    "(ethnic, religious or social)"
    )

    @model_validator(mode="after")
    def _unit(self) -> Self:
        for name in type(self).model_fields:
            q = getattr(self, name)
            if not 0.0 <= q.value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {q.value}")
        return self


class OnAxes(Cited):
    """Numbers keyed by the scenario's policy axes (``axes:``), besides the provenance fields.

    The axis ids are the scenario's own, so they are extra keys here; ``Scenario`` checks that
    they name its axes (all of them for a position, some for an interest or a response)."""

    model_config = ConfigDict(frozen=True, extra="allow")
    LIMIT: ClassVar[float] = 1.0

    @model_validator(mode="after")
    def _numbers(self) -> Self:
        for k, v in (self.model_extra or {}).items():
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{k}: expected a number on the axis {k!r}, got {v!r}")
            if not -self.LIMIT <= v <= self.LIMIT:
                raise ValueError(f"{k}: expected a number in [{-self.LIMIT:g}, "
                                 f"{self.LIMIT:g}], got {v}")
        return self

    def on(self, axis: str) -> float | None:
        """The value on ``axis``, None where this item leaves the axis out."""
        v = (self.model_extra or {}).get(axis)
        return None if v is None else float(v)

    def axes(self) -> tuple[str, ...]:
        return tuple(k for k, v in (self.model_extra or {}).items() if v is not None)


class Position(OnAxes):
    """A point on the scenario's two policy axes, each in [-1, 1] (``economy: -0.4``)."""


class Axis(Cited):
    """A policy axis: its id (used as the key of positions, interests and responses), its name,
    what its two poles mean, and how the chronicle words a leader's leaning on it.

    ``low_at`` and ``high_at`` are where the chronicle starts to say a leader leans toward a
    pole; they are words, not mechanism (cite them as the modeller's assumption)."""

    id: Ident
    name: str = Field(description="what the axis is about, as in 'on the economy'")
    low: str = Field(description="what -1 stands for")
    high: str = Field(description="what +1 stands for")
    leans_low: str = Field(description="'he leans toward ...' for a position at or below low_at")
    leans_high: str = Field(description="the same for a position at or above high_at")
    leans_middle: str = Field(description="the same for a position in between")
    low_at: float = Field(default=-0.3, ge=-1, le=1)
    high_at: float = Field(default=0.3, ge=-1, le=1)


class Founder(Named):
    """The leader whose incapacity or death opens the succession. He is no principal: he
    cannot win, but he may hold offices (``holder:`` his id), be an event's actor, restrain
    motions while he acts (``founder_incapacitated``) and have a funeral (``founder_death``)."""

    id: Ident
    name: str = Field(description="full name, as the opening introduces him")
    short: str | None = Field(default=None, description=SHORT)
    pronoun: Literal["he", "she"] = Field(default="he", description=PRONOUN)
    funeral_place: str = Field(default="",
        description="where the funeral is held, as the chronicle "
                               "names it (on a square, in a hall)")
    capital: str = Field(default="", description="the city a leader is away from when ill")
    incapacity: str = Field(default="has been struck down", description="how the opening words his "
                            "incapacity after his name, when it comes in the first month")
    position: Position | None = Field(
        default=None, description="where his last writings place him on the policy axes; with "
        "it he plays in the coalition game while he acts (the parameter founder_weight gives "
        "his power), without it he only restrains and proposes")


class InnerBody(Cited):
    """An inner body of the leadership (a Standing Committee of the Politburo): a few of the
    leadership body's principals, elected by the meetings that elect the leadership body (those
    that give it ``inner_size``), which meets in its place at meetings of kind ``leadership``
    and whose seats add to its members' visible power (docs/model.md §7.13). Who sits in it
    after the start is the model's; ``members`` is only who sat in it when the scenario opens,
    with its source."""

    name: str = Field(description="what the texts call it, e.g. 'Standing Committee of the "
                      "Politburo'")
    members: tuple[Ident, ...] = Field(
        default=(), description="the principals who sit in it at the start (each in the "
        "leadership body then; ids of principals); empty when the first meeting that elects it "
        "fills it")


class Bodies(Frozen):
    """How the scenario's bodies are named in every text the program prints. The engine's
    institutions are fixed (a leadership body elected by a committee elected by congresses, a
    secretariat that appoints, a control commission that readmits, a police that exiles); their
    names are the scenario's, and which steps of the ladder each kind of meeting may take is
    ``rules.powers``. One institution is optional: an inner body of the leadership
    (``inner``), absent unless the file declares it."""

    leadership: str = Field(default="leadership", description="the small ruling body: Politburo, "
                            "Presidium, Standing Committee")
    committee: str = Field(default="Central Committee", description="the body that elects it")
    secretariat: str = Field(default="Secretariat", description="the apparatus that appoints "
                             "provincial secretaries")
    control: str = Field(default="control commission", description="the body that readmits the "
                         "expelled")
    police: str = Field(default="political police", description="the organ that exiles and deports")
    press: str = Field(default="the party press", description="where recantations are printed")
    inner: InnerBody | None = Field(
        default=None, description="an inner body of the leadership body (a Standing Committee), "
        "with its name and its members at the start; none when absent")

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A file with no inner body dumps (and hashes) as before the field was added, so
        # posteriors made for it stay valid.
        out = handler(self)
        if isinstance(out, dict) and out.get("inner") is None:
            out.pop("inner", None)
        return out


class Powers(Frozen):
    """Which steps of the removal ladder the votes at each kind of meeting may take
    (``rules.powers``). The statutes' rule is that the body that elects a seat is the one that
    can take it away: the congress elects the committee, so it may leave a man out of it; the
    committee's plenum elects the leadership body and the officers (the Politburo, the
    Secretariat), so offices and leadership seats are its to give and take. The defaults are
    that rule as the engine had it fixed: a plenum may take every step; a congress may censure,
    remove from the committee and expel; a conference may censure and expel; a session of the
    state's organs may only take offices (those flagged ``state``); the leadership body, at
    its own meetings, may censure and take offices (those flagged ``leadership``). A kind left
    out keeps its default; an empty list lets that kind take no step at all."""

    plenum: tuple[Step, ...] = Field(
        default=STEPS, description="steps a plenum of the committee may take")
    congress: tuple[Step, ...] = Field(
        default=("censure", "central_committee", "party"),
        description="steps a congress may take (it elects the committee, not the leadership "
        "body or the officers)")
    conference: tuple[Step, ...] = Field(
        default=("censure", "party"), description="steps a conference may take")
    session: tuple[Step, ...] = Field(
        default=("office",), description="steps a session of the state's organs may take (the "
        "offices it can change are those flagged 'state')")
    leadership: tuple[Step, ...] = Field(
        default=("censure", "office"), description="steps a meeting of the leadership body "
        "may take (the offices it can change are those flagged 'leadership')")

    @model_validator(mode="before")
    @classmethod
    def _kinds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in BODY_KINDS]
            if unknown:
                raise ValueError(f"unknown meeting kind {unknown[0]!r}: expected one of "
                                 f"{', '.join(BODY_KINDS)} (each maps to a list of steps "
                                 f"among {', '.join(STEPS)})")
        return data

    def of(self, kind: str) -> tuple[str, ...]:
        """The steps a meeting of ``kind`` may take."""
        return tuple(getattr(self, kind))


class Rules(Frozen):
    """The party rules in force, in words (the mechanism's switch is ``constants.faction_ban``),
    how offices are lost, and what each kind of meeting may do (``powers``)."""

    faction_ban: str = Field(default="", description="how the chronicle names the ban on factions, "
                             "e.g. 'the ban on factions of 1921'; empty where none is in force")
    offices_lost: Literal["all", "one"] = Field(
        default="all", description="what a passed motion for the loss of office takes: 'all' the "
        "offices the meeting can change that he holds, or 'one', the weightiest of them (he "
        "keeps the rest, and may be moved against for each in turn before his seat)")
    committee_majority: Quantity | None = Field(
        default=None, description="the share of the votes needed, at any meeting but a "
        "congress, to remove a member of the committee from it or to expel him from the party "
        "(a value in (0.5, 1), e.g. two thirds under the Bolsheviks' rule of 1921); absent, a "
        "simple majority, as for every other motion")
    appeal: Literal["none", "at_once"] = Field(
        default="none", description="whether a leader whom the leadership body removes from an "
        "office at a meeting of kind 'leadership' may appeal to the committee that elects it: "
        "'none' (the removal stands), or 'at_once' (the committee is convened the same month "
        "and votes again with its own loyalties; if it overturns the removal he gets his "
        "offices back, and the movers lose standing and each faces a vote for his seat in the "
        "leadership body). Needs the parameters appeal_rate and appeal_backlash")
    powers: Powers = Field(
        default_factory=Powers, description="for each kind of meeting (plenum, congress, "
        "conference, session, leadership), the list of ladder steps its votes may take "
        "(censure, office, politburo, central_committee, party); a kind left out keeps its "
        "default (see Powers)")


    @field_validator("committee_majority")
    @classmethod
    def _majority(cls, q: Quantity | None) -> Quantity | None:
        if q is not None and not 0.5 <= q.value < 1.0:
            raise ValueError(f"{q.value} is not a share of the votes from 0.5 up to (not "
                             f"including) 1; expected e.g. 0.667 for two thirds")
        return q


class Traits(Frozen):
    """How the chronicle words two attributes of a leader when they are at least one half."""

    outsider: str = Field(default="a latecomer to the party", description="for outsider")
    prejudice_target: str = Field(default="the target of prejudice in the party",
                                  description="for prejudice_target")


class Question(Frozen):
    """The question the scenario asks, for headings, and whose chance ``explain`` explains by
    default (no leader is assumed where none is declared)."""

    headline: str = Field(default="", description="a heading such as 'Who rules after Lenin?'")
    essay: str = Field(default="", description="the question of the essay the levers speak to")
    leader: Ident | None = Field(default=None,
        description="a principal: explain's default --target")


class Claim(Frozen):
    """A numbered claim of the essay the levers speak to (``levers.*.essay_claims``)."""

    number: int = Field(ge=0)
    text: str


class Principal(Named):
    id: Ident
    name: str
    short: str | None = Field(default=None, description=SHORT)
    pronoun: Literal["he", "she"] = Field(default="he", description=PRONOUN)
    attributes: Attributes
    position: Position
    opposition: bool = Field(
        True, description="whether he may turn to opposition: hedge toward his base when "
        "threatened and organise outside the ruling coalition (false only in a lever's world)")
    outside: Literal["politburo", "central_committee"] | None = Field(
        None, description="a body he sits outside at the start: 'politburo' (a committee "
        "member without a seat in the leadership) or 'central_committee' (a party member "
        "without a committee seat, and so without a following in it); cite why in the note")
    note: str = ""


class Client(Named):
    """A named client: not a contender, but he can be raised to the leadership body and votes
    there with his patron as far as his loyalty goes."""

    id: Ident
    name: str
    short: str | None = Field(default=None, description=SHORT)
    pronoun: Literal["he", "she"] = Field(default="he", description=PRONOUN)
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


class _Pair(Frozen):
    """A relation between two principals that predates the scenario, with its level in [0, 1]
    (the subclass names the level's field and how the messages speak of the pair)."""

    between: tuple[Ident, Ident]
    source: str | None = None
    assumption: str | None = None
    note: str = ""

    _what: ClassVar[str]
    _level: ClassVar[str]
    _self: ClassVar[str]

    @model_validator(mode="after")
    def _sane(self) -> Self:
        a, b = self.between
        if a == b:
            raise ValueError(f"{self._what}: a leader cannot {self._self} ({a})")
        level = getattr(self, self._level).value
        if not 0.0 <= level <= 1.0:
            raise ValueError(f"{self._what} {a}-{b}: {self._level} must lie in [0, 1], got "
                             f"{level}")
        if not (self.source or self.assumption):
            raise ValueError(f"{self._what}: needs 'source:' or 'assumption:'")
        return self


class Tie(_Pair):
    """A standing political partnership between two principals, formed before the scenario
    opens: when one, outside the ruling coalition, moves to organise, the other may follow him out
    (chance ``tie_pull`` times ``strength``, in [0, 1]). It sets no position and forms no bloc."""

    strength: Quantity
    _what, _level, _self = "tie", "strength", "be tied to himself"


class Rivalry(_Pair):
    """An enmity between two principals that predates the scenario: it starts ``State.enmity``
    for the pair at ``enmity`` (in [0, 1]), both ways, and fades like any enmity."""

    enmity: Quantity
    _what, _level, _self = "rivalry", "enmity", "be his own rival"


class Interest(OnAxes):
    """Where an institutional base pulls its leader on each policy axis, in [-1, 1]; an axis
    left out is one the base has no stake in."""


class Office(Frozen):
    id: Ident
    name: str
    holder: Ident | None = Field(
        description="who holds it at the start: a principal, the founder, a named client (his "
        "office counts for his patron's power as far as his loyalty goes, and he loses it when "
        "his patron leaves the leadership body), or null if vacant")
    weight: Quantity = Field(description="contribution to its holder's power")
    patronage: bool = Field(False, description="whether the holder appoints provincial secretaries")
    state: bool = Field(False, description="whether it is an office of the state, which "
                        "changes hands at a 'session' of the state's organs and not at a party "
                        "meeting (only where the file has such offices)")
    leadership: bool = Field(False, description="whether the leadership body may move it at "
                             "its own meetings (kind 'leadership') as well as the committee at "
                             "a plenum; no office is the leadership body's unless flagged so. "
                             "An office of the state cannot be flagged")
    security: bool = Field(False, description="whether the office commands forces that can "
                           "detain leaders (a guard, the police): a ruling coalition holding "
                           "it may arrest an outsider at once")
    client_office: bool = Field(
        False, description="whether a named client may take the office: when it changes hands "
        "at a meeting that may change it and goes to the ruling coalition, the coalition's "
        "strongest member places it with his most loyal client who holds no office (the "
        "nomenklatura: posts are the leadership's to fill with its men). Not for an office with "
        "patronage or security, whose appointments and arrests are a principal's")
    fiefdom: Quantity | None = Field(
        None, description="share of congress delegates the holder's organisation controls"
    )
    interest: Interest | None = Field(
        None, description="the policy interests of the institutional base the office leads")
    enabled: bool = Field(True, description="whether the office exists in this world; a "
                          "disabled office is left out of the compiled model altogether (an "
                          "office that only a lever's world has)")

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        # An office no client may take dumps (and hashes) as before the flag was added, so
        # posteriors made for its file stay valid.
        out = handler(self)
        if isinstance(out, dict) and not out.get("client_office", True):
            out.pop("client_office", None)
        return out

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if self.state and self.leadership:
            raise ValueError(f"office {self.id}: 'state' and 'leadership' are both true; an "
                             f"office of the state changes hands only at a session (expected at "
                             f"most one of them)")
        if self.client_office and (self.patronage or self.security):
            flag = "patronage" if self.patronage else "security"
            raise ValueError(f"office {self.id}: client_office is true and so is {flag}; an "
                             f"office with {flag} is a principal's (its appointments and "
                             f"arrests), so a client cannot take it (expected client_office: "
                             f"false, or {flag}: false)")
        return self


class Meeting(Cited):
    month: Month
    kind: Literal[*BODY_KINDS] = Field(  # type: ignore[valid-type]
        description="plenum: the committee, which may change party offices and leadership "
        "seats; conference: may condemn or expel; congress: elects the committee, may condemn "
        "or expel; session: of the state's organs (a parliament), where only the state's "
        "offices change hands; leadership: of the leadership body itself (Politburo, "
        "Presidium, Standing Committee), where its seated members and their clients vote "
        "(where the file has an inner body, bodies.inner, its members alone, one vote each), "
        "not the committee's loyalties, and which may censure and move only the offices "
        "flagged 'leadership'. What each kind may take is rules.powers; these are its "
        "defaults")
    name: str
    voting_delegates: Quantity | None = None
    cc_size: Quantity | None = Field(default=None,
        description="full CC members elected (congress only)")
    politburo_size: Quantity | None = Field(default=None,
        description="full Politburo seats after it")
    co_opted: Quantity | None = Field(
        default=None, description="full members the committee adds to itself at this plenum "
        "between congresses (plenum only); they follow the loyalties a congress's newly "
        "elected would")
    inner_size: Quantity | None = Field(
        default=None, description="full members of the inner body (bodies.inner) this meeting "
        "elects, from the leadership body's principals; only where the file has an inner body, "
        "on a kind of meeting that may take the 'politburo' step (rules.powers: the body that "
        "elects the leadership elects its inner body)")

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A meeting that elects no inner body dumps (and hashes) as before the field was added.
        out = handler(self)
        if isinstance(out, dict) and out.get("inner_size") is None:
            out.pop("inner_size", None)
        return out

    @model_validator(mode="after")
    def _leadership_sizes(self) -> Self:
        if self.co_opted is not None and self.kind != "plenum":
            raise ValueError(f"meeting {self.name!r} ({self.month}): only a plenum co-opts "
                             f"members to the committee; remove 'co_opted' from this "
                             f"{self.kind} (expected on a meeting of kind 'plenum')")
        if self.kind == "leadership":
            given = [f for f in ("voting_delegates", "cc_size", "politburo_size", "inner_size")
                     if getattr(self, f) is not None]
            if given:
                raise ValueError(f"meeting {self.name!r} ({self.month}): a meeting of kind "
                                 f"'leadership' elects no one and has no delegates; remove "
                                 f"{', '.join(given)} (expected only on a plenum, conference "
                                 f"or congress)")
        return self


EVENT_KINDS = (
    "founder_incapacitated",
    "founder_death",
    "illness",
    "testament",
    "polemic",
    "enrolment",
    "crisis",
    "salience",
    "alliance",
    "resignation",
    "platform",
    "charge",
    "speech",
    "death",
)


SPEECH_HANDLING = ("closed", "published")
"""How far a speech reached: the body that heard it, or the whole party through the press."""


class Response(OnAxes):
    """One answer the rulers may give to a crisis, and how far it moves the party line on each
    axis (in [-2, 2]; an axis left out is not moved)."""

    LIMIT: ClassVar[float] = 2.0
    id: Ident
    description: str = ""


class Event(Cited):
    """A dated exogenous event. Its *effects* are parameters with priors, never outcomes."""

    id: Ident
    kind: Literal[*EVENT_KINDS]  # type: ignore[valid-type]
    month: Month
    until: Month | None = None
    enabled: bool = True
    actor: Ident | None = Field(default=None, description="the actor the event is about or by")
    targets: tuple[Ident, ...] = ()
    size: float | None = Field(default=None, description="kind-specific magnitude (e.g. recruits)")
    responses: tuple[Response, ...] = Field(
        (), description="a crisis: the answers the ruling coalition chooses among")
    axis: Ident | None = Field(
        None, description="a salience event: the policy axis (an id of axes) that becomes "
        "contested")
    handling: Literal["suppressed", "delegations", "published", "closed"] | None = Field(
        None, description="how far it reached. A testament: 'suppressed' (kept from the "
        "delegates), 'delegations' (read to each delegation, not printed) or 'published'. A "
        "speech: 'closed' (heard only by the body it was given to) or 'published' (printed "
        "for the whole party)")
    present: tuple[Ident, ...] = Field(default=(),
        description="principals sure to attend (a funeral)")
    endorses: tuple[Ident, ...] = Field(
        (), description="a testament: the principals the founder's document names as his "
        "successors; each gains standing (endorsement_weight) as far as the document was made "
        "known (its handling, on the Testament's scale)")
    office: Ident | None = Field(
        None, description="a resignation: the office offered up (an id of offices); without "
        "it, the patronage office")
    against: str | None = Field(
        None, description="a platform: the crisis answer it fights, as CRISIS.RESPONSE (ids "
        "of a crisis event and one of its responses); the actor is ready only in histories "
        "where the ruling coalition adopted that answer")
    description: str = ""

    @model_serializer(mode="wrap")
    def _without_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        # An event that endorses nobody dumps (and hashes) as before the field was added, so
        # posteriors made for its file stay valid.
        out = handler(self)
        if isinstance(out, dict) and not out.get("endorses", True):
            out.pop("endorses", None)
        return out

    @model_validator(mode="after")
    def _kind_fields(self) -> Self:
        """A crisis needs two answers to choose between; a salience event names its axis."""
        if self.kind == "crisis" and len(self.responses) < 2:
            raise ValueError(f"event {self.id}: a crisis needs at least two responses to "
                             f"choose between")
        if self.kind == "salience" and self.axis is None:
            raise ValueError(f"event {self.id}: a salience event needs 'axis' (the id of "
                             f"one of the scenario's axes)")
        if self.kind in ("resignation", "platform", "charge") and self.actor is None:
            does = {"resignation": "offers to resign", "platform": "organises",
                    "charge": "raises the charge"}[self.kind]
            raise ValueError(f"event {self.id}: a {self.kind} needs 'actor' (the principal "
                             f"who {does})")
        if self.kind == "resignation" and not (self.size or 0) > 0:
            raise ValueError(f"event {self.id}: a resignation needs 'size' > 0 (the support the "
                             "offer brings to the motion, on the Testament's scale)")
        if self.kind == "charge" and not (self.targets and (self.size or 0) > 0):
            raise ValueError(f"event {self.id}: a charge needs 'targets' (whom it accuses) and "
                             "'size' > 0 (its exposure on the Testament's scale)")
        if self.kind == "speech" and (self.actor is None
                                      or self.handling not in SPEECH_HANDLING):
            raise ValueError(f"event {self.id}: a speech needs 'actor' (the leader who gives "
                             f"it) and 'handling': one of {', '.join(SPEECH_HANDLING)} (got "
                             f"{self.handling!r})")
        if self.endorses and self.kind != "testament":
            raise ValueError(f"event {self.id}: only a testament (a founder's document) takes "
                             f"'endorses'; got kind {self.kind!r}")
        if self.kind == "testament" and self.handling == "closed":
            raise ValueError(f"event {self.id}: a testament's handling is one of suppressed, "
                             "delegations, published (got 'closed', a speech's)")
        if self.office is not None and self.kind != "resignation":
            raise ValueError(f"event {self.id}: only a resignation takes 'office' (the office "
                             "its actor offers up)")
        if self.against is not None and self.kind != "platform":
            raise ValueError(f"event {self.id}: only a platform takes 'against'")
        if self.kind == "death" and (self.actor is None or self.targets or self.present
                                     or self.size is not None
                                     or self.until not in (None, self.month)):
            raise ValueError(f"event {self.id}: a death needs 'actor' (the named client who "
                             f"dies, an id of clients) and takes nothing else: no targets, "
                             f"present, size or until (a death is a fact, dated by its month)")
        if self.kind in ("polemic", "speech", "charge") and self.actor in self.targets:
            raise ValueError(f"event {self.id}: a {self.kind} cannot target its own actor "
                             f"({self.actor}): it would make him his own enemy, and enmity is "
                             f"kept between two leaders only")
        if self.kind == "alliance" and not self.targets:
            raise ValueError(f"event {self.id}: an alliance needs 'targets' (the principals "
                             f"the actor joins forces with)")
        return self


RISE_STEPS = ("office", "politburo", "central_committee", "party")
"""The steps a leader can rise to: an office he did not hold at the start (or the office a
milestone names), and a seat in the leadership, the committee or the party regained."""


class Milestone(Frozen):
    """A historical fact the model can express, for the fit and the tables: the first month a
    principal fell to a step of the removal ladder (``direction: fall``, the default), or rose
    to one (``direction: rise``: gained an office, regained a seat or his membership)."""

    id: Ident
    month: Month
    actor: Ident
    step: Literal["office", "politburo", "central_committee", "party", "exile", "deportation"]
    direction: Literal["fall", "rise"] = "fall"
    office: Ident | None = Field(default=None, description="a rise to an office: which office (any "
                                 "office he did not hold at the start when left out)")
    weight: float = Field(default=1.0, ge=0)
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _rise(self) -> Self:
        if self.direction == "rise" and self.step not in RISE_STEPS:
            raise ValueError(f"milestone {self.id}: a rise is to one of {', '.join(RISE_STEPS)}"
                             f"; got step {self.step!r}")
        if self.office is not None and (self.direction, self.step) != ("rise", "office"):
            raise ValueError(f"milestone {self.id}: 'office' names the office of a rise "
                             f"(direction: rise, step: office)")
        return self


class FitTally(Cited):
    """What the sources say of the vote at one congress or conference of the calendar.

    ``exact``: the fit compares the simulated share backing the leadership with ``share`` (or
    ``votes_for / (votes_for + votes_against)``); otherwise it only asks for a large majority
    and shows the figure."""

    assembly: str = Field(description="the name of a congress or conference of the calendar")
    share: float | None = Field(default=None, ge=0, le=1)
    votes_for: int | None = Field(default=None, ge=0)
    votes_against: int | None = Field(default=None, ge=0)
    what: str = Field(description="the vote in words, e.g. '559 to 65 on the CC report'")
    verified: bool = True
    exact: bool = False

    @model_validator(mode="after")
    def _a_share(self) -> Self:
        a, b = self.votes_for, self.votes_against
        if self.share is None and (a is None or b is None or a + b == 0):
            raise ValueError(f"tally {self.assembly!r}: needs 'share', or 'votes_for' and "
                             f"'votes_against'")
        return self

    def value(self) -> float:
        if self.share is not None:
            return float(self.share)
        assert self.votes_for is not None and self.votes_against is not None
        return self.votes_for / (self.votes_for + self.votes_against)


class FitAlignment(Frozen):
    """Who ruled together against whom over a span of months: a simulated month matches when
    the ruling coalition holds every leader of ``together`` and none of ``against``."""

    name: str
    start: Month
    end: Month
    together: tuple[Ident, ...] = Field(min_length=1)
    against: tuple[Ident, ...] = ()
    source: str


class Fit(Frozen):
    """What ``fit`` and ``calibrate`` compare besides the milestones."""

    record_end: Month | None = Field(default=None,
        description="the last month the fact base covers: "
                                     "order and survival are judged there (default: the end)")
    main: tuple[Ident, ...] = Field(default=(),
        description="ids of the milestones the fit's verdict "
                                    "rests on")
    main_tallies: tuple[str, ...] = Field(default=(), description="assemblies whose tally is main")
    tallies: tuple[FitTally, ...] = ()
    alignments: tuple[FitAlignment, ...] = ()


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


class Bundle(Frozen):
    """A named combination of levers that tells one story (a historian's alternative).

    ``levers`` maps lever ids to their values (``None`` for a switch or the lever's default).
    A bundle is used wherever a lever is and means exactly its levers set one by one; the
    levers, not the bundle, carry the overrides (``politburo.scenario.levers.expand_bundles``).
    """

    id: Ident
    title: str
    description: str
    levers: dict[str, str | float | int | None]
    sources: tuple[str, ...] = ()
    essay_claims: tuple[int, ...] = ()


class Scenario(Frozen):
    id: Ident | Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
    title: str
    description: str = ""
    start: Month
    end: Month
    founder: Founder | None = Field(default=None,
        description="the leader whose incapacity or death "
                                    "opens the succession; none where the file has no "
                                    "founder_incapacitated or founder_death event")
    question: Question = Question()
    axes: tuple[Axis, ...] = Field(description="the two policy axes")
    bodies: Bodies = Bodies()
    rules: Rules = Rules()
    traits: Traits = Traits()
    abbreviations: tuple[str, ...] = Field(("CC",), description="words that titles made from "
                                           "ids (nep_shortfall) print as written here: "
                                           "abbreviations in capitals (NEP), proper names "
                                           "capitalised (Tiananmen)")
    principals: tuple[Principal, ...]
    clients: tuple[Client, ...] = ()
    ties: tuple[Tie, ...] = ()
    rivalries: tuple[Rivalry, ...] = ()
    offices: tuple[Office, ...]
    calendar: tuple[Meeting, ...]
    events: tuple[Event, ...] = ()
    constants: dict[str, Quantity] = Field(default_factory=dict)
    parameters: dict[str, Prior]
    milestones: tuple[Milestone, ...] = ()
    fit: Fit = Fit()
    levers: tuple[Lever, ...] = ()
    bundles: tuple[Bundle, ...] = ()
    claims: tuple[Claim, ...] = ()
    bibliography: tuple[Source, ...] = ()

    @field_validator("principals")
    @classmethod
    def _enough(cls, v: tuple[Principal, ...]) -> tuple[Principal, ...]:
        if not PRINCIPALS[0] <= len(v) <= PRINCIPALS[1]:
            raise ValueError(f"expected {PRINCIPALS[0]} to {PRINCIPALS[1]} principals, "
                             f"got {len(v)}")
        return v

    @field_validator("axes")
    @classmethod
    def _two_axes(cls, v: tuple[Axis, ...]) -> tuple[Axis, ...]:
        if len(v) != 2:
            raise ValueError(f"expected two policy axes (the engine's policy space is a "
                             f"plane), got {len(v)}")
        return v

    @field_validator("constants")
    @classmethod
    def _engine_needs(cls, v: dict[str, object], info: ValidationInfo) -> dict[str, object]:
        missing = [n for n in ENGINE_CONSTANTS if n not in v]
        if missing:
            raise ValueError(f"the engine needs a value for each of {', '.join(missing)}")
        return v

    @model_validator(mode="after")
    def _references(self) -> Self:
        ids = [p.id for p in self.principals]
        if len(set(ids)) != len(ids):
            raise ValueError("principal ids must be unique")
        known = set(ids) | ({self.founder.id} if self.founder is not None else set())
        everyone = known | {c.id for c in self.clients}
        allowed = f"expected one of {', '.join(sorted(known))}"
        for c in self.clients:
            if c.patron not in known:
                raise ValueError(f"client {c.id}: patron {c.patron!r} is not a principal or "
                                 f"the founder ({allowed})")
        for what, items in (("tie", self.ties), ("rivalry", self.rivalries)):
            for item in items:
                for name in item.between:
                    if name not in ids:
                        raise ValueError(f"{what} {'-'.join(item.between)}: {name!r} is not a "
                                         f"principal (expected one of {', '.join(sorted(ids))})")
            pairs = [frozenset(item.between) for item in items]
            if len(set(pairs)) != len(pairs):
                raise ValueError(f"each pair of principals may have one {what} at most")
        clients = {c.id for c in self.clients}
        for o in self.offices:
            if o.holder is not None and o.holder not in everyone:
                raise ValueError(f"office {o.id}: holder {o.holder!r} is not a principal, a "
                                 f"client or the founder (expected one of "
                                 f"{', '.join(sorted(everyone))}, or null for a vacant office)")
            if o.holder in clients and (o.patronage or o.security):
                flag = "patronage" if o.patronage else "security"
                raise ValueError(f"office {o.id}: a client ({o.holder}) cannot hold an office "
                                 f"with {flag}: true (its appointments and arrests are a "
                                 f"principal's); expected a principal or the founder")
        for e in self.events:
            for role, named in (("actor", e.actor), *(("target", t) for t in e.targets),
                                *(("present", t) for t in e.present)):
                if named is not None and named not in everyone:
                    raise ValueError(f"event {e.id}: {role} {named!r} is not in the scenario "
                                     f"(expected a principal, a client or the founder: "
                                     f"{', '.join(sorted(everyone))})")
            for named in e.endorses:
                if named not in ids:
                    raise ValueError(f"event {e.id}: endorses {named!r}, which is not a "
                                     f"principal (a successor named must be one of "
                                     f"{', '.join(sorted(ids))})")
            if e.against is not None:
                crisis, _, answer = e.against.partition(".")
                fought = next((x for x in self.events if x.id == crisis and x.kind == "crisis"),
                              None)
                answers = [r.id for r in fought.responses] if fought is not None else []
                if fought is None or answer not in answers or fought.month > e.month:
                    crises = ", ".join(f"{x.id}.{r.id}" for x in self.events
                                       if x.kind == "crisis" and x.month <= e.month
                                       for r in x.responses) or "none"
                    raise ValueError(f"event {e.id}: against {e.against!r} must name a crisis "
                                     f"of the platform's month or earlier and one of its "
                                     f"responses (expected one of: {crises})")
        for m in self.milestones:
            if m.actor not in ids:
                raise ValueError(f"milestone {m.id}: actor {m.actor!r}: expected a principal "
                                 f"(one of {', '.join(sorted(ids))})")
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
    walk(s.rivalries)
    walk(s.offices)
    walk(s.calendar)
    walk(s.events)
    walk(s.constants)
    walk(s.parameters)
    walk(s.milestones)
    walk(s.fit)
    walk(s.levers)
    walk(s.bundles)
    return found
