"""Tests for politburo.scenario.levers: parsing, applying by path, errors, identity."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import with_levers

from politburo.scenario.compile import compile_scenario
from politburo.scenario.levers import (
    LeverError,
    apply_levers,
    check_levers,
    parse_lever_args,
    resolve_settings,
)
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import Scenario

BRIEF_LEVERS = (
    "lenin_lives", "trotsky_attends_funeral", "testament_published", "no_secretariat_patronage",
    "no_lenin_enrolment", "no_faction_ban", "no_lessons_of_october", "trotsky_conciliatory",
    "no_prejudice", "early_left_alliance", "no_new_opposition", "stalin_not_underestimated",
    "trotsky_healthy",
    # issue 13
    "stalin_resignation_accepted", "opposition_of_1923",
    # issue 13, part 2
    "trotsky_deputy_chairman", "georgian_affair_raised", "right_organises_1928",
)
CLAIMS_FILE = Path(__file__).resolve().parents[2] / "shared" / "history" / "essay-claims.md"


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario()


def event(s: Scenario, eid: str) -> Any:
    return next(e for e in s.events if e.id == eid)


def principal(s: Scenario, pid: str) -> Any:
    return next(p for p in s.principals if p.id == pid)


# -- parsing -------------------------------------------------------------------------------


def test_parse_lever_args() -> None:
    assert parse_lever_args(["no_faction_ban", "lenin_lives=1925-06", " x = 2 "]) == {
        "no_faction_ban": None, "lenin_lives": "1925-06", "x": "2"}
    assert parse_lever_args([]) == {}


@pytest.mark.parametrize("bad, message", [
    (["Lenin"], "NAME or NAME=VALUE"),
    (["=3"], "NAME or NAME=VALUE"),
    (["a", "a=2"], "given twice"),
    (["a="], "followed by a value"),
])
def test_parse_lever_args_errors(bad: list[str], message: str) -> None:
    with pytest.raises(LeverError, match=message):
        parse_lever_args(bad)


# -- applying by path ----------------------------------------------------------------------


def test_identity_returns_the_scenario_and_an_identical_model(base: Scenario) -> None:
    s, fixed = apply_levers(base, {})
    assert s is base and fixed == {}
    a, b = compile_scenario(base), compile_scenario(s)
    roundtrip = compile_scenario(Scenario.model_validate(base.model_dump()))
    for other in (b, roundtrip):
        for name in a.__dataclass_fields__:
            x, y = getattr(a, name), getattr(other, name)
            if isinstance(x, dict) and x and isinstance(next(iter(x.values())), np.ndarray):
                assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)
            elif isinstance(x, np.ndarray):
                assert np.array_equal(x, y), name
            else:
                assert x == y, name


def test_parameter_path_pins_without_touching_the_scenario(base: Scenario) -> None:
    s, fixed = apply_levers(base, ["no_secretariat_patronage"])
    assert fixed == {"patronage_rate": 0.0}
    assert s.parameters == base.parameters
    model = compile_scenario(s, fixed=fixed)
    assert model.fixed == {"patronage_rate": 0.0}


def test_parameter_field_path_changes_the_prior(base: Scenario) -> None:
    s = with_levers(base, {"id": "faster", "set": {"parameters.patronage_rate.a": 9.0}})
    out, fixed = apply_levers(s, ["faster"])
    assert fixed == {} and out.parameters["patronage_rate"].a == 9.0
    assert out.parameters["patronage_rate"].b == base.parameters["patronage_rate"].b


def test_principal_attribute_path_sets_the_quantity_value(base: Scenario) -> None:
    s, fixed = apply_levers(base, {"trotsky_conciliatory": None})
    q = principal(s, "trotsky").attributes.aloofness
    assert q.value == 0.3 and q.source == principal(base, "trotsky").attributes.aloofness.source
    s2, _ = apply_levers(base, {"trotsky_conciliatory": "0.1"})
    assert principal(s2, "trotsky").attributes.aloofness.value == 0.1
    assert principal(s2, "stalin") == principal(base, "stalin")


def test_event_paths(base: Scenario) -> None:
    s, _ = apply_levers(base, ["lenin_lives=1924-09", "trotsky_attends_funeral",
                               "testament_published", "no_lenin_enrolment",
                               "early_left_alliance"])
    assert event(s, "lenin_incapacitated").month == "1924-09"
    assert event(s, "lenin_death").month == "1924-09"
    assert event(s, "lenin_death").present == ("trotsky",)
    assert event(s, "testament").handling == "published"
    assert event(s, "lenin_enrolment").enabled is False
    assert event(s, "left_alliance_1924").enabled is True
    assert event(base, "left_alliance_1924").enabled is False  # the baseline is untouched
    s2, _ = apply_levers(base, ["lenin_lives"])  # the default month
    assert event(s2, "lenin_death").month == "1925-06"


def test_constant_and_office_paths(base: Scenario) -> None:
    s = with_levers(base,
                    {"id": "bigger_cc", "set": {"constants.cc_unaligned": 0.5}},
                    {"id": "weak_secretary", "set": {"offices.general_secretary.weight": 0.1}})
    out, _ = apply_levers(s, ["bigger_cc", "weak_secretary"])
    assert out.constants["cc_unaligned"].value == 0.5
    assert next(o for o in out.offices if o.id == "general_secretary").weight.value == 0.1
    assert compile_scenario(out).constants["cc_unaligned"] == 0.5


def test_settings_resolve_in_scenario_order(base: Scenario) -> None:
    got = resolve_settings(base, {"trotsky_healthy": None, "lenin_lives": "1924-03"})
    assert list(got) == ["lenin_lives", "trotsky_healthy"]
    assert got == {"lenin_lives": "1924-03", "trotsky_healthy": None}


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("settings, message", [
    ({"nope": None}, r"unknown lever 'nope'.*known levers: lenin_lives"),
    ({"trotsky_healthy": "3"}, r"'trotsky_healthy' is a switch and takes no value"),
    ({"lenin_lives": "June 1925"}, r"'lenin_lives' expects a month as YYYY-MM"),
    ({"lenin_lives": "1925-13"}, r"'lenin_lives' expects a month as YYYY-MM"),
    ({"lenin_lives": "1921-01"}, r"'lenin_lives' expects a month between 1922-12 and 1930-12"),
    ({"trotsky_conciliatory": "high"}, r"'trotsky_conciliatory' expects a number"),
    ({"trotsky_conciliatory": "nan"}, r"'trotsky_conciliatory' expects a finite number"),
    ({"trotsky_conciliatory": 1.5}, r"lever 'trotsky_conciliatory' makes the scenario invalid"
                                    r".*aloofness must lie in \[0, 1\]"),
])
def test_bad_settings(base: Scenario, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(LeverError, match=message):
        apply_levers(base, settings)


@pytest.mark.parametrize("set_, message", [
    ({"bodies.x": 1}, r"lever 'bad': bad path 'bodies.x'; expected parameters"),
    ({"events": 1}, r"bad path 'events'"),
    ({"events.lenin_funeral.enabled": False},
     r"lever 'bad': path 'events.lenin_funeral.enabled' names nothing: events has no item "
     r"with id 'lenin_funeral'"),
    ({"events.testament.colour": "red"}, r"events.testament has no 'colour'"),
    ({"principals.trotsky.attributes": 0.3}, r"names a group, not a value"),
    ({"principals.trotsky.attributes.aloofness": "low"}, r"is a quantity and needs a number"),
    ({"parameters.no_such": 0}, r"parameters has no 'no_such'"),
    ({"parameters.patronage_rate": 2.0}, r"outside the support \[0, 1\] of its beta prior"),
    ({"parameters.patronage_rate": "zero"}, r"pins a parameter and needs a finite number"),
    ({"events.testament.handling": "$value"}, r"uses '\$value' but the lever declares no value"),
    ({"events.testament.handling": "shouted"}, r"lever 'bad' makes the scenario invalid: "
                                               r"events\.\d+\.handling"),
    ({"events.lenin_death.present": ["lenin_ghost"]}, r"makes the scenario invalid"),
])
def test_bad_paths(base: Scenario, set_: dict[str, Any], message: str) -> None:
    s = with_levers(base, {"id": "bad", "set": set_})
    with pytest.raises(LeverError, match=message):
        apply_levers(s, ["bad"])


def test_conflicting_levers(base: Scenario) -> None:
    s = with_levers(base, {"id": "suppressed", "set": {"events.testament.handling": "suppressed"}})
    with pytest.raises(LeverError, match=r"'testament_published' and 'suppressed' both set "
                                         r"events.testament.handling"):
        apply_levers(s, ["testament_published", "suppressed"])


def test_lever_error_is_a_value_error() -> None:
    assert issubclass(LeverError, ValueError)


# -- the built-in levers --------------------------------------------------------------------


def test_builtin_levers_cover_the_brief_and_apply(base: Scenario) -> None:
    assert tuple(lv.id for lv in base.levers) == BRIEF_LEVERS
    check_levers(base)
    tags = {b.id for b in base.bibliography}
    for lv in base.levers:
        assert lv.title and len(lv.description) > 60, lv.id
        assert lv.sources and lv.essay_claims, lv.id
        for tag in lv.sources:
            assert tag in tags or re.match(r"^[a-z][a-z0-9_]*$", tag), (lv.id, tag)
        for claim in lv.essay_claims:
            assert claim in {c.number for c in base.claims}, (lv.id, claim)


def test_essay_claim_numbers_exist(base: Scenario) -> None:
    # The project's checkouts and CI keep the shared fact base beside the repository.
    assert CLAIMS_FILE.exists(), f"{CLAIMS_FILE} is missing: shared/ must sit beside the checkout"
    rows = set(map(int, re.findall(r"^\| (\d+) \|", CLAIMS_FILE.read_text("utf-8"), re.M)))
    assert {c.number for c in base.claims} <= rows
