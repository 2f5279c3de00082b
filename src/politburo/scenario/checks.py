"""Checks across fields, run on a scenario after pydantic has validated each field.

Pydantic checks each value against its own type; what the engine also relies on is how values
fit together: ids that are unique within their list, references that name something, months
inside the scenario's span, numbers that are finite and of a sensible size, lists the engine
indexes that are not empty, lever paths that resolve. These rules are written generically, by
walking the validated model and reading each field's declared type, so that lists and fields
added to the schema later are covered without being named here:

* every list of items that have an ``id`` has unique ids;
* every field typed as a month (``schema.Month``) lies inside ``start .. end``, and an ``until``
  does not come before its item's ``month``;
* every field typed as an identifier (``schema.Ident``), other than an item's own ``id``, names
  an id declared somewhere in the scenario (or the founder's, who is not a principal);
* every number is finite and no larger in size than ``ABSURD``; numbers named in ``RANGES``
  lie in their declared range (and are whole where the range says so);
* every required list (a field with no default) is non-empty;
* every lever's paths name something and its default value is acceptable;
* the scenario gives a prior for every parameter the engine reads for the features it has
  (``schema.CORE_PARAMETERS``, ``schema.FEATURE_PARAMETERS``) and a starting line per axis;
* positions, interests and crisis responses are keyed by the scenario's own axes, and a
  salience event names one of them.

Each problem is a location (a pydantic-style path of field names and list positions, which the
loader turns into a line of the file) and a message saying what was expected. Nothing here
prints or reads files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel

from politburo.scenario.schema import (
    _MONTH,
    CORE_PARAMETERS,
    FEATURE_PARAMETERS,
    OnAxes,
    Position,
    Scenario,
)

Loc = tuple[str | int, ...]

ABSURD = 1e9
"""No number in a scenario is larger in size than this (the largest real one, the party's
membership, is under a million); a larger one is a typo or an attack, never data."""

_IDENT = "^[a-z][a-z0-9_]*$"
_PEOPLE = ("actor", "targets", "present", "holder", "patron")
"""Fields that name a principal, a client or the founder (rather than any item of the scenario)."""
_PRINCIPALS = ("together", "against", "between", "leader", "members")
"""Fields that name a principal (and the milestones' ``actor``)."""


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    whole: bool = False
    why: str = ""


RANGES: dict[str, Range] = {
    "offices.*.weight.value": Range(0, 1, why="an office's share of institutional power"),
    "offices.*.fiefdom.value": Range(0, 1, why="a share of congress delegates"),
    "constants.power_weight_*.value": Range(0, 1, why="a share of institutional power"),
    "constants.*_unaligned.value": Range(0, 1, why="a share"),
    "constants.*_share.value": Range(0, 1, why="a share"),
    "constants.*_loyalty.value": Range(0, 1, why="a probability"),
    "constants.faction_ban.value": Range(0, 1, whole=True, why="0 (no ban) or 1 (ban)"),
    "constants.line_*_start.value": Range(-1, 1, why="a point on a policy axis"),
    "constants.*_size_start.value": Range(1, 10_000, whole=True, why="a number of seats"),
    "constants.membership_start.value": Range(1, 1e8, whole=True, why="a number of members"),
    "calendar.*.voting_delegates.value": Range(1, 1e6, whole=True, why="a number of delegates"),
    "calendar.*.cc_size.value": Range(1, 10_000, whole=True, why="a number of committee members"),
    "calendar.*.politburo_size.value": Range(1, 1000, whole=True,
                                             why="a number of seats in the leadership"),
    "calendar.*.co_opted.value": Range(1, 10_000, whole=True,
                                       why="a number of members co-opted to the committee"),
    "calendar.*.inner_size.value": Range(1, 1000, whole=True,
                                         why="a number of seats in the inner body"),
    "events.*.size": Range(0, 1e8, why="a size such as a number of recruits"),
    # Moves along the axes (a crisis response's) are checked by schema.OnAxes, whose keys are
    # the scenario's own axis ids: no path here can name them.
    "milestones.*.weight": Range(0, 100, why="a milestone's weight in the distance"),
}
"""Declared ranges, by dotted path with ``*`` for any list position or name."""


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str
    at: Loc | None = None
    """Where the file should be read for it, when that is not ``loc``: the item that needs a
    missing value (the event that needs a parameter's prior, the axis that needs a starting
    line), since a missing value has no line of its own."""


def _declared(field: Any, pattern: str) -> bool:
    """Whether a field's declared type (or any type inside it) carries ``pattern``."""

    def carries(meta: Any) -> bool:
        if getattr(meta, "pattern", None) == pattern:
            return True
        return any(carries(m) for m in getattr(meta, "metadata", ()) or ())

    def inside(tp: Any) -> bool:
        return carries(tp) or any(inside(a) for a in get_args(tp))

    return any(carries(m) for m in field.metadata) or inside(field.annotation)


@cache
def _typed(cls: type[BaseModel]) -> dict[str, tuple[bool, bool]]:
    """For each field of a model class: (declared a month, declared an identifier)."""
    return {name: (_declared(f, _MONTH), _declared(f, _IDENT))
            for name, f in cls.model_fields.items()}


def _walk(obj: Any, loc: Loc) -> Iterator[tuple[Loc, str, Any, tuple[bool, bool], Any]]:
    """Every field of every model inside ``obj``: (location, field name, field info, (month?,
    identifier?), value)."""
    if isinstance(obj, BaseModel):
        typed = _typed(type(obj))
        for name, field in type(obj).model_fields.items():
            value = getattr(obj, name)
            yield (*loc, name), name, field, typed[name], value
            yield from _walk(value, (*loc, name))
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from _walk(item, (*loc, i))
    elif isinstance(obj, dict):
        for k, item in obj.items():
            yield from _walk(item, (*loc, str(k)))


def _nodes(obj: Any, loc: Loc) -> Iterator[tuple[Loc, Any]]:
    """Every value inside ``obj`` (models, their fields, list items, dict values), with its
    location; the one traversal the checks below filter."""
    yield loc, obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _nodes(getattr(obj, name), (*loc, name))
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from _nodes(item, (*loc, i))
    elif isinstance(obj, dict):
        for k, item in obj.items():
            yield from _nodes(item, (*loc, str(k)))


def _numbers(obj: Any, loc: Loc) -> Iterator[tuple[Loc, float]]:
    """Every number inside ``obj`` (booleans are not numbers here)."""
    for where, value in _nodes(obj, loc):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield where, value


def _pattern(loc: Loc) -> str:
    return ".".join(str(x) for x in loc)


def _in_range(loc: Loc, x: float) -> str | None:
    if not math.isfinite(x):
        return f"expected a finite number, got {x}"
    if abs(x) > ABSURD:
        return f"expected a number no larger in size than {ABSURD:g}, got {x:g}"
    dotted = _pattern(loc)
    for pat, r in RANGES.items():
        if fnmatchcase(dotted, pat):
            if not r.low <= x <= r.high:
                return f"expected {r.why} in [{r.low:g}, {r.high:g}], got {x:g}"
            if r.whole and x != int(x):
                return f"expected a whole number ({r.why}), got {x:g}"
    return None


def _ids(s: Scenario) -> tuple[set[str], set[str]]:
    """Every id declared in the scenario, and the ids of people (principals, clients, the
    founder)."""
    founder = {s.founder.id} if s.founder is not None else set()
    every: set[str] = set(founder)
    for _loc, name, _field, _typ, value in _walk(s, ()):
        if isinstance(value, (tuple, list)):
            every.update(getattr(x, "id") for x in value  # noqa: B009
                         if isinstance(x, BaseModel) and isinstance(getattr(x, "id", None), str))
        if name in ("parameters", "constants") and isinstance(value, dict):
            every.update(value)
    people = {*founder, *(p.id for p in s.principals), *(c.id for c in s.clients)}
    return every, people


def problems(s: Scenario) -> list[Problem]:
    """Everything wrong with how ``s``'s values fit together (see the module docstring)."""
    found: list[Problem] = []
    every, people = _ids(s)
    for loc, name, field, (is_month, is_ident), value in _walk(s, ()):
        if isinstance(value, tuple) and field.is_required() and not value:
            found.append(Problem(loc, f"expected at least one item in {name}; the engine "
                                      "needs one"))
        if isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            seen: dict[str, int] = {}
            for i, item in enumerate(value):
                ident = getattr(item, "id", None)
                if not isinstance(ident, str):
                    continue
                if ident in seen:
                    found.append(Problem((*loc, i, "id"), f"duplicate id {ident!r} in {name} "
                                                          f"(first at item {seen[ident]}); "
                                                          "expected each id once"))
                else:
                    seen[ident] = i
        if name not in ("start", "end") and is_month:
            months = value if isinstance(value, tuple) else (value,)
            for k, m in enumerate(months):
                if isinstance(m, str) and not s.start <= m <= s.end:
                    at = (*loc, k) if isinstance(value, tuple) else loc
                    found.append(Problem(at, f"expected a month between {s.start} and {s.end} "
                                             f"(the scenario's span), got {m}"))
        if name != "id" and is_ident:
            refs = value if isinstance(value, tuple) else (value,)
            pool, what = _pool(s, loc, name, every, people)
            for k, r in enumerate(refs):
                if isinstance(r, str) and r not in pool:
                    at = (*loc, k) if isinstance(value, tuple) else loc  # the item, not the list
                    found.append(Problem(at, f"{r!r} names nothing: expected {what} "
                                             f"({_allowed(pool)}){_near(r, pool)}"))
    for model_loc, model in _models(s, ()):
        until, month = getattr(model, "until", None), getattr(model, "month", None)
        if isinstance(until, str) and isinstance(month, str) and until < month:
            found.append(Problem((*model_loc, "until"), f"expected a month no earlier than "
                                                        f"its month {month}, got {until}"))
    for loc, x in _numbers(s, ()):
        msg = _in_range(loc, float(x))
        if msg:
            found.append(Problem(loc, msg))
    principals = {x.id for x in s.principals}
    for i, m in enumerate(s.milestones):
        if m.actor not in principals:
            found.append(Problem(("milestones", i, "actor"), f"{m.actor!r}: expected a "
                                 "principal (the fit follows a principal's removal ladder: "
                                 f"{_allowed(principals)}){_near(m.actor, principals)}"))
    found += _sizes(s)
    found += _inner(s)
    found += _axes(s)
    found += _deaths(s)
    found += _needs(s)
    found += _levers(s)
    return found


def _pool(s: Scenario, loc: Loc, name: str, every: set[str], people: set[str]
          ) -> tuple[set[str], str]:
    """The ids a reference field may name, and those ids in words: the narrowest the field's
    meaning allows, so that a message lists the names that would do, not every id of the file."""
    if name in _PEOPLE and loc[:1] != ("milestones",):
        return people, "a principal, a client or the founder"
    if name in _PRINCIPALS or loc[:1] == ("milestones",) and name == "actor":
        return {p.id for p in s.principals}, "a principal"
    if loc[:2] == ("fit", "main"):
        return {m.id for m in s.milestones}, "a milestone's id"
    if name == "office":
        return {o.id for o in s.offices}, "an office"
    if name == "axis":
        return {a.id for a in s.axes}, "an axis"
    return every, "an id declared in the scenario"


def _near(name: str, pool: set[str] | tuple[str, ...]) -> str:
    """'; did you mean 'zinoviev'?' when one allowed name is close to a misspelt one."""
    import difflib

    close = difflib.get_close_matches(name, sorted(pool), n=1, cutoff=0.75)
    return f"; did you mean {close[0]!r}?" if close else ""


def _allowed(names: set[str] | list[str] | tuple[str, ...], most: int = 40) -> str:
    """'one of a, b, c' for a message that names the values allowed."""
    ordered = sorted(names)
    shown = ", ".join(ordered[:most]) + (f", ... ({len(ordered)} in all)"
                                         if len(ordered) > most else "")
    return f"one of {shown}" if ordered else "none is declared"


def _axes(s: Scenario) -> list[Problem]:
    """Positions, interests and responses are keyed by the scenario's axes; each axis has a
    starting line; a salience event names an axis."""
    axes = tuple(a.id for a in s.axes)
    found = []
    for loc, model in _models(s, ()):
        if not isinstance(model, OnAxes):
            continue
        keys = model.axes()
        for k in keys:
            if k not in axes:
                found.append(Problem((*loc, k), f"{k!r} is not an axis of the scenario: "
                                                f"expected {_allowed(axes)}"))
        if isinstance(model, Position):
            for a in axes:
                if a not in keys:
                    found.append(Problem(loc, f"expected a position on the axis {a!r} (every "
                                              f"principal stands somewhere on each axis)"))
    for i, e in enumerate(s.events):
        if e.axis is not None and e.axis not in axes:
            found.append(Problem(("events", i, "axis"), f"{e.axis!r} is not an axis of the "
                                                        f"scenario: expected {_allowed(axes)}"))
    for i, e in enumerate(s.events):
        if e.kind in ("founder_incapacitated", "founder_death") and s.founder is None:
            found.append(Problem(("events", i, "kind"), f"a {e.kind} event needs the founder "
                                                        "declared: expected a 'founder:' section "
                                                        "(id, name)"))
    for i, a in enumerate(axes):
        if f"line_{a}_start" not in s.constants:
            found.append(Problem(("constants",), f"expected line_{a}_start, where the party "
                                                 f"line stands at the start on the axis {a!r}",
                                     at=("axes", i)))
    return found


def _deaths(s: Scenario) -> list[Problem]:
    """A ``death`` event names a client, each client at most once: the engine removes a dead
    client from his seat, his offices and every later choice (``clients.die``); it cannot
    remove a principal, whose death it does not model, nor the founder, who has his own
    event kind."""
    clients = {c.id for c in s.clients}
    found = []
    died: dict[str, str] = {}
    for i, e in enumerate(s.events):
        if e.kind != "death" or e.actor is None:
            continue
        allowed = (f"expected a named client ({_allowed(clients)})" if clients
                   else "expected a named client, and the scenario declares none")
        if e.actor in clients:
            if e.actor in died:
                found.append(Problem(("events", i, "actor"), f"{e.actor!r} already dies in "
                                     f"event {died[e.actor]}; expected one death per client"))
            died.setdefault(e.actor, e.id)
        elif s.founder is not None and e.actor == s.founder.id:
            found.append(Problem(("events", i, "actor"), f"{e.actor!r} is the founder, whose "
                                 f"death is an event of kind founder_death; {allowed}"))
        else:
            found.append(Problem(("events", i, "actor"), f"{e.actor!r} is a principal, and a "
                                 f"principal's death is not supported (the engine keeps every "
                                 f"principal in play to the end); {allowed}"))
    return found


def features(s: Scenario) -> dict[str, str]:
    """The scenario's features that have parameters of their own, each with why it has it."""
    return {k: why for k, (why, _loc) in _features(s).items()}


def _features(s: Scenario) -> dict[str, tuple[str, Loc]]:
    """:func:`features`, each with the location of the first item that brings it in."""
    out: dict[str, tuple[str, Loc]] = {}
    for i, e in enumerate(s.events):
        if e.kind in ("founder_incapacitated", "founder_death"):
            out.setdefault("founder", (f"the founder acts until event {e.id}", ("events", i)))
            if s.founder is not None and s.founder.position is not None:
                out.setdefault("founder_plays", (f"the founder has a position and plays until "
                                                 f"event {e.id}", ("founder", "position")))
        if e.kind == "speech":
            # A speech against colleagues is a polemic as far as it reached; one with no target
            # is a programme speech; a closed one reaches a drawn fraction of a printed one.
            feature = "polemic" if e.targets else "speech"
            aim = "against targets" if e.targets else "without targets (a programme)"
            out.setdefault(feature, (f"event {e.id} is a speech {aim}", ("events", i)))
            if e.handling == "closed":
                out.setdefault("closed_speech", (f"event {e.id} is a closed speech",
                                                 ("events", i)))
        elif e.kind == "testament":
            if e.endorses:
                out.setdefault("endorsement", (f"event {e.id} endorses "
                                               f"{', '.join(e.endorses)}", ("events", i)))
            if e.targets or not e.endorses:
                out.setdefault("testament", (f"event {e.id} is of kind testament",
                                             ("events", i)))
        elif e.kind in FEATURE_PARAMETERS:
            out.setdefault(e.kind, (f"event {e.id} is of kind {e.kind}", ("events", i)))
    if s.ties:
        out["tie"] = (f"the ties section pairs {' and '.join(s.ties[0].between)}", ("ties", 0))
    security = [i for i, o in enumerate(s.offices) if o.security]
    if security:
        out["security"] = (f"office {s.offices[security[0]].id} commands the security forces",
                           ("offices", security[0]))
    outside = [i for i, p in enumerate(s.principals) if p.outside]
    if outside:
        out["outside"] = (f"{s.principals[outside[0]].id} starts outside a body he may return to",
                          ("principals", outside[0]))
    if s.rules.appeal != "none":
        out["appeal"] = (f"rules.appeal is {s.rules.appeal!r}", ("rules", "appeal"))
    if s.bodies.inner is not None:
        out["inner"] = (f"bodies.inner declares the {s.bodies.inner.name}",
                        ("bodies", "inner"))
    for attr in ("outsider", "prejudice_target"):
        who = [i for i, p in enumerate(s.principals) if getattr(p.attributes, attr).value > 0]
        if who:
            out[attr] = (f"{s.principals[who[0]].id}'s attribute {attr} is above zero",
                         ("principals", who[0], "attributes", attr))
    return out


def _needs(s: Scenario) -> list[Problem]:
    """A prior for every parameter the engine reads for what the scenario contains."""
    found = []
    for name in CORE_PARAMETERS:
        if name not in s.parameters:
            found.append(Problem(("parameters",), f"the engine needs a prior for {name}, "
                                                  f"which every scenario needs"))
    for feature, (why, where) in _features(s).items():
        for name in FEATURE_PARAMETERS[feature]:
            if name not in s.parameters:
                found.append(Problem(("parameters",), f"the engine needs a prior for {name}, "
                                                      f"because {why}",
                                     at=where))
    return found


def _models(obj: Any, loc: Loc) -> Iterator[tuple[Loc, BaseModel]]:
    """Every model inside ``obj``, itself included."""
    for where, value in _nodes(obj, loc):
        if isinstance(value, BaseModel):
            yield where, value


def _sizes(s: Scenario) -> list[Problem]:
    """The leadership is elected from the committee: no committee smaller than it."""
    found = []
    start_pb = s.constants.get("politburo_size_start")
    start_cc = s.constants.get("cc_size_start")
    pb = start_pb.value if start_pb is not None else 1.0
    if start_cc is not None and start_cc.value < pb:
        found.append(Problem(("constants", "cc_size_start", "value"),
                             f"expected at least the {s.bodies.leadership}'s {pb:g} seats, got "
                             f"{start_cc.value:g}"))
    for i, m in enumerate(s.calendar):
        if m.politburo_size is not None:
            pb = m.politburo_size.value
        if m.cc_size is not None and m.cc_size.value < pb:
            found.append(Problem(("calendar", i, "cc_size", "value"),
                                 f"expected at least the {s.bodies.leadership}'s {pb:g} "
                                 f"seats, got {m.cc_size.value:g}"))
    return found


def _inner(s: Scenario) -> list[Problem]:
    """An inner body's starting members sit in the leadership body at the start, each once, no
    more of them than it has seats; a meeting elects one only where the file declares it, on a
    kind that elects the leadership body (rules.powers gives it the 'politburo' step), and no
    larger than the leadership body."""
    found = []
    inner = s.bodies.inner
    outside = {p.id for p in s.principals if p.outside}
    if inner is not None:
        seen: set[str] = set()
        for k, who in enumerate(inner.members):
            if who in seen:
                found.append(Problem(("bodies", "inner", "members", k),
                                     f"{who!r} is listed twice: expected each member once"))
            seen.add(who)
            if who in outside:
                found.append(Problem(("bodies", "inner", "members", k),
                                     f"{who!r} starts outside the {s.bodies.leadership} "
                                     f"(principals.{who}.outside): expected a member of the "
                                     f"{inner.name} to sit in the {s.bodies.leadership} at the "
                                     f"start"))
        start_pb = s.constants.get("politburo_size_start")
        if start_pb is not None and len(inner.members) > start_pb.value:
            found.append(Problem(("bodies", "inner", "members"),
                                 f"{len(inner.members)} members: expected no more than the "
                                 f"{s.bodies.leadership}'s {start_pb.value:g} seats"))
    start = s.constants.get("politburo_size_start")
    pb = start.value if start is not None else float("inf")
    for i, m in enumerate(s.calendar):
        if m.politburo_size is not None:
            pb = m.politburo_size.value
        if m.inner_size is None:
            continue
        where = ("calendar", i, "inner_size")
        if inner is None:
            found.append(Problem(where, f"meeting {m.name!r} elects an inner body, but the file "
                                        "declares none: expected bodies.inner (its name and "
                                        "members at the start), or no inner_size"))
        elif "politburo" not in s.rules.powers.of(m.kind):
            found.append(Problem(where, f"a {m.kind} does not elect the "
                                        f"{s.bodies.leadership} (rules.powers.{m.kind} has no "
                                        f"'politburo' step), so it cannot elect its "
                                        f"{inner.name}: expected inner_size on a meeting whose "
                                        f"kind has that step (by default a plenum)"))
        if m.inner_size.value > pb:
            found.append(Problem((*where, "value"),
                                 f"expected no more than the {s.bodies.leadership}'s {pb:g} "
                                 f"seats, got {m.inner_size.value:g}"))
    return found


def _levers(s: Scenario) -> list[Problem]:
    """Every lever's paths name something, and its default value is one it accepts."""
    try:
        from politburo.scenario.levers import LeverError, overrides
    except ImportError:  # a build without levers: nothing applies them
        return []

    found = []
    data = s.model_dump()
    seen = set()
    for i, lv in enumerate(s.levers):
        if lv.id in seen:
            continue  # a duplicate id is reported above; the lookup would find the first
        seen.add(lv.id)
        try:
            overrides(s, {lv.id: None}, data)
        except LeverError as exc:
            found.append(Problem(("levers", i, "set"), str(exc)))
    seen_bundles: set[str] = set()
    for i, b in enumerate(s.bundles):
        if b.id in seen or b.id in seen_bundles:
            found.append(Problem(("bundles", i, "id"), f"{b.id!r} is already the id of a "
                                 "lever or a bundle; a bundle needs a name of its own"))
            continue
        seen_bundles.add(b.id)
        try:
            overrides(s, {b.id: None}, data)
        except LeverError as exc:
            found.append(Problem(("bundles", i, "levers"), str(exc)))
    return found


def lever_problems(s: Scenario) -> list[Problem]:
    """Problems of each lever's world, each lever applied alone at its default (slower: every
    lever's world is validated and checked; ``politburo validate`` runs it)."""
    try:
        from politburo.scenario.levers import LeverError, apply_levers
    except ImportError:  # a build without levers: nothing applies them
        return []

    found = []
    for i, lv in enumerate(s.levers):
        try:
            apply_levers(s, {lv.id: None})
        except LeverError as exc:
            found.append(Problem(("levers", i), str(exc)))
    for i, b in enumerate(s.bundles):
        try:
            apply_levers(s, {b.id: None})
        except LeverError as exc:
            found.append(Problem(("bundles", i), str(exc)))
    return found


_LIST_HEADS = ("principals", "clients", "offices", "events", "calendar", "milestones")


def set_value_problem(start: str, end: str, path: str, value: Any, quantity: bool
                      ) -> str | None:
    """What is wrong with a lever setting ``path`` (``events.ID.month``, ``offices.ID.weight``)
    to ``value``: a month outside the span, a number that is not finite or outside its
    declared range; None when nothing is. Cheap, for every world an experiment makes."""
    if isinstance(value, str) and re.fullmatch(_MONTH, value) and not start <= value <= end:
        return f"expected a month between {start} and {end}, got {value}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = path.split(".")
        if parts[0] in _LIST_HEADS and len(parts) > 1:
            parts[1] = "*"
        return _in_range(tuple(parts) + (("value",) if quantity else ()), float(value))
    return None


def describe(found: list[Problem]) -> str:
    """Problems as one line each, ``field: message``, without file or line (for levers)."""
    return "; ".join(f"{_pattern(p.loc)}: {p.message}" for p in found)

