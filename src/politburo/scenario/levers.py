"""Counterfactual levers: named overrides of a scenario, applied before it is compiled.

A counterfactual world is the baseline scenario plus named overrides and nothing else, the way
EMA Workbench treats policy levers and scikit-learn treats ``set_params``: the scenario file
declares each lever (``levers:``), with its sources and the essay claims it speaks to, and
:func:`apply_levers` turns a choice of levers into a new, re-validated ``Scenario`` and a
dictionary of pinned parameters for ``compile_scenario(scenario, fixed=...)``.

A lever's ``set`` maps dotted paths to values:

``parameters.NAME``
    pins the uncertain parameter ``NAME`` to the value in every history. The pin is applied
    after the parameters are drawn (``engine.month.draw_params``), so every other parameter keeps
    its draw and the world shares its random numbers with the baseline.
``parameters.NAME.FIELD``
    changes a field of ``NAME``'s prior (``mean``, ``sd``, ``a``, ...).
``principals.ID.attributes.ATTR``, ``offices.ID.weight``, ``constants.NAME``
    set the ``value`` of a quantity; ``principals.ID.position.economy`` sets a plain field.
``events.ID.FIELD``
    sets a field of an event (``enabled``, ``month``, ``handling``, ``present``, ...).

Items of a list (principals, clients, offices, events) are addressed by their ``id``. The string
``"$value"`` stands for the lever's value; a lever with ``value: {kind: month}`` takes a month
inside the scenario's span, one with ``kind: number`` a finite number. Any mistake (an unknown
lever, a bad value, a path that names nothing) raises :class:`LeverError` naming the lever and
what was expected. Nothing here prints or reads files.

A *bundle* (``bundles:`` in the scenario) is a named combination of levers that tells one story,
such as Lewin's reading of Lenin's last struggle. It is a switch, accepted wherever a lever is,
and it means exactly its levers set one by one: :func:`expand_bundles` replaces it by them
before anything is applied, so a bundle adds no override of its own. A bundle and a lever (or
two bundles) that give one lever different values are an error.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from politburo.dates import parse_month
from politburo.scenario.checks import set_value_problem
from politburo.scenario.priors import frozen
from politburo.scenario.schema import Bundle, Lever, Scenario

LeverValueArg = str | float | int | None
LeverSettings = Mapping[str, LeverValueArg]

PLACEHOLDER = "$value"
_PATH_HEADS = ("parameters", "principals", "clients", "offices", "events", "constants")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

class LeverError(ValueError):
    """A lever that cannot be applied, with a message fit to show a user."""


def parse_lever_args(args: Sequence[str]) -> dict[str, str | None]:
    """Parse command-line lever syntax, ``name`` or ``name=value``, into settings.

    >>> parse_lever_args(["no_faction_ban", "lenin_lives=1925-06"])
    {'no_faction_ban': None, 'lenin_lives': '1925-06'}
    """
    out: dict[str, str | None] = {}
    for raw in args:
        name, sep, value = raw.strip().partition("=")
        name = name.strip()
        if not _ID_RE.match(name):
            raise LeverError(f"{raw!r}: expected a lever as NAME or NAME=VALUE "
                             "(NAME in lower case, VALUE a number or a month YYYY-MM)")
        if name in out:
            raise LeverError(f"lever {name!r} is given twice")
        if sep and not value.strip():
            raise LeverError(f"lever {name!r}: '=' must be followed by a value")
        out[name] = value.strip() if sep else None
    return out


def _known(scenario: Scenario) -> str:
    known = ", ".join(lv.id for lv in scenario.levers) or "none"
    if scenario.bundles:
        known += f"; known bundles: {', '.join(b.id for b in scenario.bundles)}"
    return known


def bundle(scenario: Scenario, bundle_id: str) -> Bundle | None:
    """The scenario's bundle ``bundle_id``, or ``None`` when it has none of that name."""
    return next((b for b in scenario.bundles if b.id == bundle_id), None)


def lever(scenario: Scenario, lever_id: str) -> Lever:
    """The scenario's lever ``lever_id``, or a :class:`LeverError` listing the known ones.

    A bundle's id gives a lever with the bundle's title, description, sources and claims and no
    overrides of its own (a bundle's overrides are its levers'), so that results can name it.
    """
    for lv in scenario.levers:
        if lv.id == lever_id:
            return lv
    b = bundle(scenario, lever_id)
    if b is not None:
        return Lever(id=b.id, title=b.title, description=b.description, set={},
                     sources=b.sources, essay_claims=b.essay_claims)
    raise LeverError(f"unknown lever {lever_id!r} in scenario {scenario.id}; "
                     f"known levers: {_known(scenario)}")


def _real_lever(scenario: Scenario, lever_id: str, where: str = "") -> Lever:
    for lv in scenario.levers:
        if lv.id == lever_id:
            return lv
    known = ", ".join(lv.id for lv in scenario.levers) or "none"
    raise LeverError(f"{where}unknown lever {lever_id!r} in scenario {scenario.id}; "
                     f"expected one of: {known}")


def bundle_levers(scenario: Scenario, b: Bundle) -> dict[str, str | float | None]:
    """A bundle's levers with every value resolved, in the scenario's order of levers.

    A bundle that names an unknown lever, a bundle, or a bad value raises :class:`LeverError`
    naming the bundle and what is allowed.
    """
    where = f"bundle {b.id!r}: "
    if not b.levers:
        raise LeverError(f"{where}names no levers")
    for name in b.levers:
        if bundle(scenario, name) is not None:
            raise LeverError(f"{where}{name!r} is a bundle; a bundle lists levers only")
        _real_lever(scenario, name, where)
    out: dict[str, str | float | None] = {}
    for lv in scenario.levers:
        if lv.id in b.levers:
            try:
                out[lv.id] = resolve_value(scenario, lv, b.levers[lv.id])
            except LeverError as exc:
                raise LeverError(f"{where}{exc}") from None
    return out


def expand_bundles(scenario: Scenario, resolved: Mapping[str, str | float | None]
                   ) -> dict[str, str | float | None]:
    """Resolved settings with each bundle replaced by its levers, in the scenario's order.

    A lever set twice (by a bundle and by hand, or by two bundles) must take one value.
    """
    chosen: dict[str, tuple[str, str | float | None]] = {}
    for name, value in resolved.items():
        b = bundle(scenario, name)
        if b is None:
            items: dict[str, str | float | None] = {name: value}
            who = f"lever {name!r}"
        else:
            items = bundle_levers(scenario, b)
            who = f"bundle {name!r}"
        for lever_id, v in items.items():
            if lever_id in chosen and chosen[lever_id][1] != v:
                raise LeverError(f"{chosen[lever_id][0]} and {who} give lever {lever_id!r} "
                                 f"different values ({chosen[lever_id][1]!r} and {v!r}); "
                                 "choose one")
            chosen.setdefault(lever_id, (who, v))
    return {lv.id: chosen[lv.id][1] for lv in scenario.levers if lv.id in chosen}


def resolve_value(scenario: Scenario, lv: Lever, raw: LeverValueArg) -> str | float | None:
    """The value a lever takes: ``raw`` checked against the lever's kind, or its default.

    Switch levers (no ``value:``) take none. Month levers take ``YYYY-MM`` within the
    scenario's span; number levers take a finite number (a string is parsed).
    """
    if lv.value is None:
        if raw is not None:
            raise LeverError(f"lever {lv.id!r} is a switch and takes no value (got {raw!r}); "
                             f"write just {lv.id}")
        return None
    if raw is None:
        raw = lv.value.default
    if lv.value.kind == "month":
        text = str(raw).strip()
        if not re.match(r"^\d{4}-\d{2}$", text):
            raise LeverError(f"lever {lv.id!r} expects a month as YYYY-MM, got {raw!r}")
        try:
            month = parse_month(text)
        except ValueError:
            raise LeverError(f"lever {lv.id!r} expects a month as YYYY-MM, got {raw!r}") from None
        if not parse_month(scenario.start) <= month <= parse_month(scenario.end):
            raise LeverError(f"lever {lv.id!r} expects a month between {scenario.start} and "
                             f"{scenario.end}, got {text}")
        return text
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise LeverError(f"lever {lv.id!r} expects a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise LeverError(f"lever {lv.id!r} expects a finite number, got {raw!r}")
    return number


def resolve_settings(scenario: Scenario, settings: LeverSettings | Sequence[str]
                     ) -> dict[str, str | float | None]:
    """Settings with every lever checked and every value resolved, in the scenario's order.

    ``settings`` is a mapping of lever id to value (``None`` for a switch or the default), or a
    sequence of command-line strings (``name`` / ``name=value``). Bundles stay whole (a
    switch, value ``None``) after the levers, in the scenario's order of bundles, and each is
    checked; :func:`expand_bundles` turns them into their levers.
    """
    if not isinstance(settings, Mapping):
        settings = parse_lever_args(list(settings))
    for name in settings:
        lever(scenario, name)
    out = {lv.id: resolve_value(scenario, lv, settings[lv.id])
           for lv in scenario.levers if lv.id in settings}
    for b in scenario.bundles:
        if b.id in settings:
            if settings[b.id] is not None:
                raise LeverError(f"bundle {b.id!r} is a switch and takes no value (got "
                                 f"{settings[b.id]!r}); write just {b.id}")
            bundle_levers(scenario, b)
            out[b.id] = None
    expand_bundles(scenario, out)  # a conflict between bundles and levers is an error here
    return out


def _substitute(template: Any, value: str | float | None, lv: Lever, path: str) -> Any:
    if isinstance(template, str) and template == PLACEHOLDER:
        if value is None:
            raise LeverError(f"lever {lv.id!r}: {path} uses {PLACEHOLDER!r} but the lever "
                             "declares no value (add value: {kind: ..., default: ...})")
        return value
    if isinstance(template, (list, tuple)):
        return [_substitute(t, value, lv, path) for t in template]
    return copy.deepcopy(template)


def _step(node: Any, part: str, lv: Lever, path: str, done: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            known = ", ".join(map(str, node)) or "nothing"
            raise LeverError(f"lever {lv.id!r}: path {path!r} names nothing: {done} has no "
                             f"{part!r} (expected one of: {known})")
        return node[part]
    if isinstance(node, (list, tuple)):
        for item in node:
            if isinstance(item, dict) and item.get("id") == part:
                return item
        ids = ", ".join(str(i.get("id")) for i in node if isinstance(i, dict))
        raise LeverError(f"lever {lv.id!r}: path {path!r} names nothing: {done} has no item "
                         f"with id {part!r} (expected one of: {ids})")
    raise LeverError(f"lever {lv.id!r}: path {path!r} goes below a plain value at {done}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _set_path(data: dict[str, Any], path: str, value: Any, lv: Lever,
              fixed: dict[str, float]) -> None:
    parts = path.split(".")
    head = parts[0]
    if head not in _PATH_HEADS or len(parts) < 2 or not all(parts):
        raise LeverError(f"lever {lv.id!r}: bad path {path!r}; expected "
                         f"{' | '.join(h + '.…' for h in _PATH_HEADS)}")
    if head == "parameters" and len(parts) == 2:
        name = parts[1]
        prior = _step(data["parameters"], name, lv, path, "parameters")
        if not _is_number(value) or not math.isfinite(float(value)):
            raise LeverError(f"lever {lv.id!r}: {path} pins a parameter and needs a finite "
                             f"number, got {value!r}")
        dist = frozen(prior["family"], {k: float(prior[k]) for k in
                                        ("mean", "sd", "median", "sigma", "a", "b", "low",
                                         "high") if prior.get(k) is not None})
        lo, hi = dist.support()
        if not lo <= float(value) <= hi:
            raise LeverError(f"lever {lv.id!r}: {path} = {value} lies outside the support "
                             f"[{lo:g}, {hi:g}] of its {prior['family']} prior")
        fixed[name] = float(value)
        return
    node: Any = data[head]
    done = head
    for part in parts[1:-1]:
        node = _step(node, part, lv, path, done)
        done = f"{done}.{part}"
    last = parts[-1]
    current = _step(node, last, lv, path, done)
    quantity = isinstance(current, dict) and "value" in current
    bad = set_value_problem(data["start"], data["end"], path, value, quantity)
    if bad:
        raise LeverError(f"lever {lv.id!r}: {path}: {bad}")
    if quantity:  # a Quantity: set its value
        if not _is_number(value):
            raise LeverError(f"lever {lv.id!r}: {path} is a quantity and needs a number, "
                             f"got {value!r}")
        current["value"] = value
    elif isinstance(current, dict):
        raise LeverError(f"lever {lv.id!r}: path {path!r} names a group, not a value; name "
                         f"one of its fields: {', '.join(current)}")
    elif isinstance(node, dict):
        node[last] = value
    else:  # pragma: no cover - _step only returns dict items from lists
        raise LeverError(f"lever {lv.id!r}: path {path!r} cannot be set")


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        parts.append(f"{loc}: {e['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _apply_one(data: dict[str, Any], lv: Lever, value: str | float | None,
               fixed: dict[str, float]) -> None:
    for path, template in lv.set.items():
        _set_path(data, path, _substitute(template, value, lv, path), lv, fixed)


def apply_levers(scenario: Scenario, settings: LeverSettings | Sequence[str]
                 ) -> tuple[Scenario, dict[str, float]]:
    """The scenario with the chosen levers set, and the parameters they pin.

    Returns ``(scenario', fixed)`` for ``compile_scenario(scenario', fixed=fixed)``. With no
    levers the scenario itself comes back, unchanged, with no pins. Levers are applied in the
    scenario's order; two levers that set one path to different values are an error. The result
    is validated again, so an override that breaks the scenario's rules (an attribute outside
    [0, 1], an unknown principal in ``present``) is reported here, naming the lever.
    """
    resolved = expand_bundles(scenario, resolve_settings(scenario, settings))
    if not resolved:
        return scenario, {}
    data = scenario.model_dump()
    fixed: dict[str, float] = {}
    owner: dict[str, tuple[str, Any]] = {}
    for lever_id, value in resolved.items():
        lv = lever(scenario, lever_id)
        for path, template in lv.set.items():
            target = _substitute(template, value, lv, path)
            if path in owner and owner[path][1] != target:
                raise LeverError(f"levers {owner[path][0]!r} and {lever_id!r} both set {path} "
                                 f"({owner[path][1]!r} and {target!r}); choose one")
            owner[path] = (lever_id, target)
        _apply_one(data, lv, value, fixed)
    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        # Find the lever to blame by applying each alone (only on this error path).
        for lever_id, value in resolved.items():
            alone = scenario.model_dump()
            _apply_one(alone, lever(scenario, lever_id), value, {})
            try:
                Scenario.model_validate(alone)
            except ValidationError as one:
                raise LeverError(f"lever {lever_id!r} makes the scenario invalid: "
                                 f"{_validation_message(one)}") from None
        names = ", ".join(repr(n) for n in resolved)
        raise LeverError(f"levers {names} together make the scenario invalid: "
                         f"{_validation_message(exc)}") from None
    _check_present(out, resolved)
    return out, fixed


def _check_present(s: Scenario, resolved: Mapping[str, Any]) -> None:
    """Who a lever sends to an event must be a principal.

    The schema checks an event's ``actor`` and ``targets`` but not ``present``, and the compiler
    drops unknown ids, so a misspelt name would make a lever that silently does nothing.
    """
    ids = {p.id for p in s.principals}
    for e in s.events:
        unknown = [x for x in e.present if x not in ids]
        if unknown:
            who = ", ".join(repr(n) for n in resolved)
            who = f"lever {who} makes" if len(resolved) == 1 else f"levers {who} make"
            raise LeverError(f"{who} the scenario invalid: event {e.id}: present "
                             f"{unknown} are not principals (expected some of "
                             f"{', '.join(sorted(ids))})")


def _canonical(value: Any) -> str:
    """JSON text of a value with numbers as floats, so 0 and 0.0 compare equal."""

    def norm(v: Any) -> Any:
        if _is_number(v):
            return float(v)
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        return v

    return json.dumps(norm(value), sort_keys=True)


def overrides(scenario: Scenario, settings: LeverSettings | Sequence[str],
              data: dict[str, Any] | None = None) -> tuple[tuple[str, str], ...]:
    """The effective overrides of a choice of levers: sorted ``(path, value as JSON)`` pairs.

    An override that sets a value the scenario already has is left out, and so two choices with
    equal overrides make the same world; an experiment runs such a world once. ``data`` is
    ``scenario.model_dump()``, passed in to save dumping it on every call. Paths are checked
    (unknown ones raise :class:`LeverError`); the result is not validated.
    """
    resolved = expand_bundles(scenario, resolve_settings(scenario, settings))
    data = scenario.model_dump() if data is None else data
    out: dict[str, str] = {}
    for lever_id, value in resolved.items():
        lv = lever(scenario, lever_id)
        for path, template in lv.set.items():
            target = _substitute(template, value, lv, path)
            parts = path.split(".")
            if parts[0] not in _PATH_HEADS or len(parts) < 2 or not all(parts):
                raise LeverError(f"lever {lv.id!r}: bad path {path!r}")
            node: Any = data[parts[0]]
            for k, part in enumerate(parts[1:], start=1):
                node = _step(node, part, lv, path, ".".join(parts[:k]))
            if isinstance(node, dict) and "value" in node:
                node = node["value"]
            pinned = parts[0] == "parameters" and len(parts) == 2
            if pinned or _canonical(node) != _canonical(target):
                out[path] = _canonical(target)
    return tuple(sorted(out.items()))


def check_levers(scenario: Scenario) -> None:
    """Apply every lever and bundle of the scenario alone, at its default, or raise
    :class:`LeverError`."""
    for lv in scenario.levers:
        apply_levers(scenario, {lv.id: None})
    for b in scenario.bundles:
        apply_levers(scenario, {b.id: None})


def bundle_table(scenario: Scenario) -> list[dict[str, Any]]:
    """One plain row per bundle: id, title, description, its levers, sources, essay claims."""
    return [
        {
            "id": b.id,
            "title": b.title,
            "description": b.description,
            "levers": dict(b.levers),
            "sources": list(b.sources),
            "essay_claims": list(b.essay_claims),
        }
        for b in scenario.bundles
    ]


def lever_table(scenario: Scenario) -> list[dict[str, Any]]:
    """One plain row per lever: id, title, value kind and default, sources, essay claims."""
    return [
        {
            "id": lv.id,
            "title": lv.title,
            "description": lv.description,
            "value": None if lv.value is None else {"kind": lv.value.kind,
                                                    "default": lv.value.default},
            "sources": list(lv.sources),
            "essay_claims": list(lv.essay_claims),
        }
        for lv in scenario.levers
    ]
