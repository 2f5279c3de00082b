"""The inner body of the leadership (``bodies.inner``, ``mechanisms/inner.py``): who is elected,
who leaves it, whom a leadership meeting's votes are then, what its seat adds to power, how the
chronicle tells it, and what validate refuses.

Each test checks a rule against its code on small worlds built from the built-in files' arrays;
none asserts who wins or when.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from _scenarios import assert_refused, mech_ctx

from politburo.chronicle.prose import Words, sentence
from politburo.engine import month as engine
from politburo.engine.mechanisms import inner, power
from politburo.engine.mechanisms.clients import leadership_body
from politburo.engine.month import initial_state, simulate
from politburo.engine.state import RUNG, Context, State, to_mask
from politburo.engine.switch import SPEC
from politburo.scenario.compile import KIND_CODE, Compiled, MeetingC, compile_scenario
from politburo.scenario.loader import builtin_text, load_scenario
from politburo.scenario.schema import Scenario
from politburo.web.narrative import Names, tell


@pytest.fixture(scope="module")
def china() -> Scenario:
    return load_scenario("china-1976")


@pytest.fixture(scope="module")
def cmodel(china: Scenario) -> Compiled:
    return compile_scenario(china)


def _world(model: Compiled, H: int, **params: float) -> tuple[State, Context]:
    ctx = mech_ctx(model, H, **params)
    ctx.params.update({n: np.zeros(H) for n in model.absent})
    return initial_state(model, H, record_log=True), ctx


def _edited(tmp_path: Path, edit: Any, name: str = "inner.yaml") -> Path:
    data = yaml.safe_load(builtin_text("china-1976"))
    edit(data)
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_the_file_s_members_sit_in_it_at_the_start(china: Scenario, cmodel: Compiled) -> None:
    assert cmodel.has_inner() and cmodel.inner_name() == china.bodies.inner.name  # type: ignore[union-attr]
    s = initial_state(cmodel, 3, record_log=False)
    want = [p in china.bodies.inner.members for p in cmodel.principals]  # type: ignore[union-attr]
    assert (s.inner == np.array(want)).all()
    sizes = [mt.inner_size for mt in cmodel.meetings if mt.inner_size]
    assert sizes and all(mt.kind == KIND_CODE["plenum"] for mt in cmodel.meetings
                         if mt.inner_size)


def test_without_an_inner_body_nothing_is_read(model: Compiled) -> None:
    """The Soviet file declares none: no inner seats, no parameter for them, and its dump (and
    so its hash and its posterior) has no trace of the fields."""
    assert not model.has_inner() and "inner_weight" not in model.priors.names
    assert not initial_state(model, 2, record_log=False).inner.any()
    dumped = load_scenario("soviet-1922").model_dump(mode="json")
    assert "inner" not in dumped["bodies"]
    assert all("inner_size" not in m for m in dumped["calendar"])


def test_election_puts_the_ruling_coalition_first_then_the_others_by_power(
        cmodel: Compiled) -> None:
    """Five seats: the coalition's three (the weakest of them included) come before a stronger
    outsider; the two remaining seats go to the strongest others; a man outside the leadership
    body is never elected however strong."""
    P = cmodel.P
    s, ctx = _world(cmodel, 1)
    s.power[0] = np.linspace(0.01, 0.19, P)[::-1]  # principal 0 the strongest
    s.rung[0] = 0
    s.rung[0, 0] = RUNG["politburo"]  # the strongest is out of the leadership body
    coal = [P - 1, P - 2, 4]  # the three weakest but one, and a middling one
    s.coalition[:] = to_mask(np.isin(np.arange(P), coal)[None, :])
    inner.elect(s, ctx, 5, 5, "plenum")
    others = [j for j in range(1, P) if j not in coal][:2]  # strongest seated outsiders
    assert set(np.flatnonzero(s.inner[0])) == {*coal, *others}
    kinds = {e["kind"] for e in s.log[0]}  # type: ignore[index]
    assert "inner_in" in kinds


def test_election_when_fewer_sit_than_the_seats_and_without_a_coalition(
        cmodel: Compiled) -> None:
    s, ctx = _world(cmodel, 2)
    s.rung[:] = RUNG["central_committee"]
    s.rung[:, [2, 5]] = 0
    s.coalition[:] = [0, 1 << 2]
    s.power[:] = 0.1
    inner.elect(s, ctx, 5, 7, "plenum")
    assert (s.inner.sum(axis=1) == 2).all() and s.inner[:, [2, 5]].all()


def test_election_does_not_depend_on_how_the_principals_are_numbered(
        cmodel: Compiled) -> None:
    """Relabelling: permute the principals and the same men are elected."""
    P, H = cmodel.P, 50
    g = np.random.default_rng(4)
    s, ctx = _world(cmodel, H)
    s.power = g.dirichlet(np.ones(P), H)
    s.rung = np.where(g.random((H, P)) < 0.7, 0, RUNG["politburo"])
    members = g.random((H, P)) < 0.4
    s.coalition = to_mask(members)
    perm = g.permutation(P)
    t, _ = _world(cmodel, H)
    t.power, t.rung = s.power[:, perm], s.rung[:, perm]
    t.coalition = to_mask(members[:, perm])
    inner.elect(s, ctx, 3, 5, "")
    inner.elect(t, ctx, 3, 5, "")
    assert (s.inner[:, perm] == t.inner).all()
    assert s.inner.any()


def test_a_member_who_leaves_the_leadership_body_leaves_the_inner_body(
        cmodel: Compiled) -> None:
    s, ctx = _world(cmodel, 2)
    s.rung[:] = 0
    s.inner[:] = False
    s.inner[:, [1, 3]] = True
    s.rung[0, 3] = RUNG["politburo"]
    s.rung[1, 1] = RUNG["censure"]  # censured, still seated
    inner.leave(s, ctx, 4, "plenum")
    assert s.inner[0].tolist() == [j == 1 for j in range(cmodel.P)]
    assert s.inner[1, [1, 3]].all()
    out = [e for e in s.log[0] if e["kind"] == "inner_out"]  # type: ignore[index]
    assert out and out[0]["actors"] == [cmodel.principals[3]] and out[0]["elected"] is False
    # a man brought back to the leadership body is not back in the inner body
    s.rung[0, 3] = 0
    inner.leave(s, ctx, 5)
    assert not s.inner[0, 3]


def test_an_arrest_takes_the_inner_seat_in_the_same_month(cmodel: Compiled) -> None:
    """In recorded histories, every arrested member leaves the inner body the month he is
    arrested (the arrest takes his leadership seat)."""
    h = simulate(cmodel, 1, np.arange(60), record_log=True, engine="numpy")
    seen = 0
    for log in h.log:  # type: ignore[union-attr]
        for e in log:
            if e["kind"] != "arrest":
                continue
            who = e["actors"][0]
            member = [x for x in log if x["kind"] in ("inner_in", "inner_out")
                      and who in x["actors"] and x["step"] < e["step"]]
            was_in = (who in (cmodel.principals[j] for j in np.flatnonzero(cmodel.inner0))
                      if not member else member[-1]["kind"] == "inner_in")
            if was_in:
                seen += 1
                assert any(x["kind"] == "inner_out" and x["step"] == e["step"]
                           and who in x["actors"] for x in log)
    assert seen > 0


def test_a_leadership_meeting_is_the_inner_body_s(cmodel: Compiled) -> None:
    """Its members vote, one vote each; a history whose inner body is empty keeps the
    leadership body's votes."""
    H, P = 3, cmodel.P
    s, ctx = _world(cmodel, H)
    s.inner[:] = False
    s.inner[0, [0, 2, 5]] = True
    s.inner[1, 4] = True
    whole = leadership_body(s, ctx)
    body = inner.electorate(s, ctx, whole)
    assert np.allclose(body[0, :P], np.isin(np.arange(P), [0, 2, 5]) / 3) and body[0, P] == 0
    assert body[1, 4] == 1.0 and body[1].sum() == 1.0
    assert np.array_equal(body[2], whole[2])

    seen: list[np.ndarray] = []

    def motions(state: State, ctx: Context, t: int, mt: MeetingC, b: np.ndarray,
                *args: Any) -> None:
        seen.append(b.copy())

    mx = dataclasses.replace(SPEC, motions=motions)
    engine._meeting(s, ctx, 2, MeetingC(2, KIND_CODE["leadership"], "meeting", 0, 0, 0),
                    np.ones((H, P)), False, None, [], mx=mx)
    assert np.array_equal(seen[0], body)
    # a plenum votes with the committee's loyalties, whatever the inner body
    engine._meeting(s, ctx, 3, MeetingC(3, KIND_CODE["plenum"], "plenum", 0, 0, 0),
                    np.ones((H, P)), False, None, [], mx=mx)
    assert np.array_equal(seen[1], s.cc)


def test_a_meeting_with_a_size_elects_and_one_without_does_not(cmodel: Compiled) -> None:
    H, P = 4, cmodel.P
    s, ctx = _world(cmodel, H, motion_rate=0.0)
    before = s.inner.copy()
    act = np.ones((H, P))
    engine._meeting(s, ctx, 2, MeetingC(2, KIND_CODE["plenum"], "p", 0, 0, 0), act, False,
                    None, [])
    assert np.array_equal(s.inner, before)
    engine._meeting(s, ctx, 3, MeetingC(3, KIND_CODE["plenum"], "p", 0, 0, 0, inner_size=2),
                    act, False, None, [])
    assert (s.inner.sum(axis=1) == 2).all()


def test_an_inner_seat_adds_visible_power_by_inner_weight(cmodel: Compiled) -> None:
    """Two worlds that differ only in one man's inner seat: his visible power differs by
    ``inner_weight`` times the change in his share of the inner body's seats, scaled as the
    leadership's votes are; nothing of the apparatus moves."""
    H, P = 3, cmodel.P
    s, ctx = _world(cmodel, H)
    ctx.params["inner_weight"][:] = [0.0, 0.5, 1.0]
    s.inner[:] = False
    s.inner[:, [1, 2]] = True
    t = dataclasses.replace(s, inner=s.inner.copy())
    t.inner[:, 2] = False
    eff, act = SPEC.effective(s, ctx), np.ones((H, P))
    a, b = power.power_parts(s, ctx, eff, act), power.power_parts(t, ctx, eff, act)
    assert np.array_equal(a["apparatus"], b["apparatus"])
    c = ctx.const
    inst = c["power_weight_cc"] + c["power_weight_politburo"] + c["power_weight_offices"]
    scale = (1 - ctx.params["prestige_weight"]) / inst * c["power_weight_politburo"]
    k = ctx.params["inner_weight"]
    assert np.allclose(a["visible"][:, 2] - b["visible"][:, 2], scale * k * 0.5)
    assert np.allclose(a["visible"][:, 1] - b["visible"][:, 1], scale * k * (0.5 - 1.0))
    assert np.array_equal(a["visible"][0], b["visible"][0])  # weight 0: no effect


def test_an_inner_body_that_weighs_nothing_changes_no_history(tmp_path: Path) -> None:
    """China codes no leadership meeting, so with ``inner_weight`` fixed at 0 its inner body
    reaches nothing: the histories are those of the file without it (both engines)."""
    def drop(d: dict[str, Any]) -> None:
        d["bodies"].pop("inner")
        for m in d["calendar"]:
            m.pop("inner_size", None)
        d["parameters"].pop("inner_weight")

    with_it = compile_scenario(load_scenario("china-1976"), fixed={"inner_weight": 0.0})
    without = compile_scenario(load_scenario(_edited(tmp_path, drop)))
    assert not without.has_inner()
    idx = np.arange(120)
    for name in ("numpy", "compiled"):
        a, b = simulate(with_it, 1, idx, engine=name), simulate(without, 1, idx, engine=name)
        for f in ("winner", "falls", "coalition", "first_rule", "rises"):
            assert np.array_equal(getattr(a, f), getattr(b, f)), (name, f)
    # and with its weight drawn, it does change some
    drawn = simulate(compile_scenario(load_scenario("china-1976")), 1, idx)
    assert not np.array_equal(drawn.falls, simulate(without, 1, idx).falls)


def test_the_chronicle_tells_entries_and_exits_by_the_body_s_name(
        china: Scenario, cmodel: Compiled) -> None:
    h = simulate(cmodel, 1, np.arange(40), record_log=True)
    events = [e for log in h.log for e in log  # type: ignore[union-attr]
              if e["kind"] in ("inner_in", "inner_out")]
    kinds = {(e["kind"], e["elected"]) for e in events}
    assert {("inner_in", True), ("inner_out", True), ("inner_out", False)} <= kinds
    words, names = Words.of(china), Names.of(china)
    name = china.bodies.inner.name  # type: ignore[union-attr]
    for e in events[:30]:
        text = sentence(e, words)
        assert name in text and words.name(e["actors"][0]) in text, text
        told = tell({"kind": e["kind"], "actors": e["actors"],
                     "details": {k: v for k, v in e.items()
                                 if k not in ("kind", "actors", "because")}}, names, [], {})
        assert name in told, told
        assert ("elected to" in text) == (e["kind"] == "inner_in")


def _plenum(d: dict[str, Any]) -> int:
    return next(k for k, m in enumerate(d["calendar"]) if m["kind"] == "plenum")


def _sized(d: dict[str, Any]) -> dict[str, Any]:
    """The first plenum's inner_size (July 1977, a Politburo of 16), given one for the test."""
    return d["calendar"][_plenum(d)].setdefault("inner_size", {"value": 3, "assumption": "t"})


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: d["bodies"].pop("inner"),
     ("calendar.", "inner_size", "declares none", "bodies.inner")),
    (lambda d: d["calendar"][next(k for k, m in enumerate(d["calendar"])
                                  if m["kind"] == "congress")].update(
        inner_size={"value": 5, "assumption": "t"}),
     ("inner_size", "congress", "'politburo' step")),
    (lambda d: _sized(d).update(value=40),
     ("inner_size.value", "no more than", "16")),
    (lambda d: _sized(d).update(value=2.5),
     ("inner_size.value", "whole number")),
    (lambda d: d["bodies"]["inner"].update(members=["hua", "mao_zedong"]),
     ("bodies.inner.members.1", "'mao_zedong'", "a principal")),
    (lambda d: d["bodies"]["inner"].update(members=["hua", "deng"]),
     ("bodies.inner.members.1", "'deng'", "outside")),
    (lambda d: d["bodies"]["inner"].update(members=["hua", "hua"]),
     ("bodies.inner.members.1", "twice")),
    (lambda d: d["bodies"]["inner"].pop("source"),
     ("bodies.inner", "source")),
    (lambda d: d["bodies"]["inner"].pop("name"),
     ("bodies.inner.name", "required")),
    (lambda d: d["parameters"].pop("inner_weight"),
     ("inner_weight", "bodies.inner declares the Standing Committee")),
])
def test_bad_inner_bodies_are_refused_naming_file_field_and_what_was_expected(
        tmp_path: Path, edit: Any, words: tuple[str, ...]) -> None:
    assert_refused(_edited(tmp_path, edit, "bad.yaml"), *words)


def test_a_file_with_an_inner_body_and_its_meetings_runs_alike_under_both_engines(
        tmp_path: Path) -> None:
    """The Soviet file given an inner body of three, an election at a plenum and meetings of
    the leadership body every few months: the compiled engine gives the NumPy histories, and
    the leadership meetings' votes are the inner body's (a recorded run's electorate)."""
    def edit(d: dict[str, Any]) -> None:
        d["bodies"]["inner"] = {"name": "Inner Bureau", "members": ["stalin", "zinoviev",
                                                                    "kamenev"],
                                "assumption": "test"}
        plenums = [k for k, m in enumerate(d["calendar"]) if m["kind"] == "plenum"]
        d["calendar"][plenums[4]]["inner_size"] = {"value": 4, "assumption": "test"}
        for month in ("1923-06", "1924-06", "1925-06", "1926-06", "1927-06"):
            d["calendar"].append({"month": month, "kind": "leadership", "name": "Bureau meeting",
                                  "assumption": "test"})
        d["calendar"].sort(key=lambda m: m["month"])
        d["parameters"]["inner_weight"] = {"family": "beta", "a": 2.0, "b": 2.0,
                                           "assumption": "test"}

    p = tmp_path / "bureau.yaml"
    data = yaml.safe_load(builtin_text("soviet-1922"))
    edit(data)
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    m = compile_scenario(load_scenario(p))
    assert m.has_inner() and sum(mt.kind == KIND_CODE["leadership"] for mt in m.meetings) == 5
    idx = np.arange(80)
    a = simulate(m, 1, idx, keep_power=True, engine="numpy")
    b = simulate(m, 1, idx, keep_power=True, engine="compiled")
    for f in ("winner", "falls", "coalition", "first_rule", "rises", "power", "tallies"):
        assert np.array_equal(getattr(a, f), getattr(b, f)), f
    rec = simulate(m, 1, idx[:30], record_log=True)
    votes = [e for log in rec.log for e in log  # type: ignore[union-attr]
             if e["kind"] == "vote" and e.get("electorate")]
    assert votes and all(e["electorate"] in ("Inner Bureau's votes",
                                             f"{m.bodies.leadership}'s votes") for e in votes)
    assert any(e["electorate"] == "Inner Bureau's votes" for e in votes)
