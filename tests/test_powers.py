"""Which kind of meeting may take which step of the ladder (``rules.powers``), and co-option to
the committee between congresses (a plenum's ``co_opted``).

Each test checks a rule against what its code says (``schema.Powers``, ``votes.steps_allowed``,
``circular_flow.co_opt``, ``month._meeting``) on small worlds built from the built-in files'
arrays; none asserts who wins or when.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import assert_refused, edited_builtin, mech_ctx

from politburo.dates import parse_month
from politburo.engine import month as engine
from politburo.engine.mechanisms import circular_flow, votes
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.month import initial_state, simulate
from politburo.engine.state import RUNG, Context, State
from politburo.engine.switch import SPEC
from politburo.scenario.compile import (
    KIND_CODE,
    LEADERSHIP,
    Compiled,
    MeetingC,
    compile_scenario,
    powers_table,
)
from politburo.scenario.loader import ScenarioError, load_scenario
from politburo.scenario.schema import STEPS, Powers, Step

STEPS_NOW = ["censure", "office", "politburo", "central_committee", "party"]


def _fixed_in_code(kind: int, step: np.ndarray) -> np.ndarray:
    """The rules ``votes.motions`` had fixed before the table (main at 741fa1c), written out."""
    allowed = step <= RUNG["party"]
    if kind == 0:
        allowed &= step == RUNG["office"]
    elif kind == 2:
        allowed &= (step == RUNG["censure"]) | (step == RUNG["party"])
    elif kind == 3:
        allowed &= (step != RUNG["office"]) & (step != RUNG["politburo"])
    elif kind == LEADERSHIP:
        allowed &= (step == RUNG["censure"]) | (step == RUNG["office"])
    return allowed


def test_the_steps_are_the_ladder_s_voted_ones() -> None:
    assert STEPS == tuple(STEPS_NOW) == Step.__args__  # type: ignore[attr-defined]


def test_the_defaults_are_the_rules_once_fixed_in_code(model: Compiled) -> None:
    """A file that says nothing of powers gets, for every kind and every next rung (censure to
    deportation), exactly the steps the engine allowed before they were data."""
    step = np.arange(1, len(RUNG) + 1)
    assert np.array_equal(model.powers, powers_table(Powers()))
    for kind in KIND_CODE.values():
        assert np.array_equal(votes.steps_allowed(model, kind, step),
                              _fixed_in_code(kind, step)), kind
    # any shape: the (H, P) next rungs the compiled engine's caller would pass
    grid = np.tile(step, (3, 1))
    assert np.array_equal(votes.steps_allowed(model, 3, grid), _fixed_in_code(3, grid))


def _powers(tmp_path: Path, powers: dict[str, Any], name: str) -> Compiled:
    def edit(d: dict[str, Any]) -> None:
        d["rules"]["powers"] = powers

    return compile_scenario(load_scenario(edited_builtin(tmp_path, edit, name)))


def _world(model: Compiled, H: int) -> tuple[State, Context, int, int]:
    """The first principal rules alone; the second, censured already, holds no office, leads
    an organised bloc (so the seat motions draw the full rate under the file's ban) and
    faces a body in which 90% follow the ruler; everyone else is expelled."""
    ctx = mech_ctx(model, H, motion_rate=1.0, vote_noise=0.0)
    s = initial_state(model, H, record_log=False)
    r, i = 0, 1
    s.holder[:] = -1
    s.rung[:] = RUNG["party"]
    s.rung[:, [r, i]] = [0, RUNG["censure"]]
    s.coalition[:] = 1 << r
    s.core[:] = 1 << r
    s.bloc[:] = 1 << i
    s.power[:] = 0.0
    s.power[:, [r, i]] = 0.5
    s.last_step[:] = -100
    return s, ctx, r, i


@pytest.mark.parametrize(("kind", "powers", "taken"), [
    ("congress", {}, False),
    ("congress", {"congress": ["censure", "politburo", "central_committee", "party"]}, True),
    ("plenum", {}, True),
    ("plenum", {"plenum": ["censure", "office"]}, False),
    ("conference", {"conference": ["politburo"]}, True),
])
def test_a_meeting_takes_the_seat_only_where_the_file_gives_it_the_power(
        tmp_path: Path, kind: str, powers: dict[str, Any], taken: bool) -> None:
    """The same motion for the leadership seat, before the same body: it is brought and
    passes where ``rules.powers`` gives the meeting's kind the step, and is never brought
    where it does not (the man keeps his seat and his rung)."""
    m = _powers(tmp_path, powers, f"{kind}{len(powers)}.yaml")
    H = 30
    s, ctx, r, i = _world(m, H)
    body = np.zeros((H, m.P + 1))
    body[:, r], body[:, m.P] = 0.9, 0.1
    votes.motions(s, ctx, 5, MeetingC(5, KIND_CODE[kind], "meeting", 100, 0, 0), body,
                  np.full((H, m.P), 0.5), np.ones((H, m.P)), 0.0, transfer_offices)
    want = RUNG["politburo"] if taken else RUNG["censure"]
    assert (s.rung[:, i] == want).all()
    assert (s.falls[:, i, RUNG["politburo"] - 1] >= 0).all() == taken


@pytest.mark.parametrize(("powers", "words"), [
    ({"synod": ["censure"]},
     ("rules.powers", "'synod'", "plenum, conference, congress, session, leadership")),
    ({"congress": ["politburo", "exile"]},
     ("rules.powers.congress.1", "'censure'", "'central_committee'", "'party'", "'exile'")),
])
def test_bad_powers_are_refused_naming_file_field_and_allowed_values(
        tmp_path: Path, powers: dict[str, Any], words: tuple[str, ...]) -> None:
    with pytest.raises(ScenarioError) as err:
        _powers(tmp_path, powers, "bad.yaml")
    text = str(err.value)
    assert "bad.yaml" in text
    for w in words:
        assert w in text, (w, text)


def _plenum(d: dict[str, Any]) -> int:
    return next(k for k, m in enumerate(d["calendar"]) if m["kind"] == "plenum")


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: d["calendar"][next(k for k, m in enumerate(d["calendar"])
                                  if m["kind"] == "congress")].update(
        co_opted={"value": 5, "assumption": "test"}),
     ("only a plenum co-opts", "co_opted", "congress")),
    (lambda d: d["calendar"][_plenum(d)].update(co_opted={"value": 2.5, "assumption": "t"}),
     ("co_opted.value", "whole number")),
    (lambda d: d["calendar"][_plenum(d)].update(co_opted={"value": 0, "assumption": "t"}),
     ("co_opted.value", "[1, 10000]")),
    (lambda d: d["calendar"][_plenum(d)].update(co_opted={"value": 4}),
     ("co_opted", "source")),
])
def test_bad_co_options_are_refused(tmp_path: Path, edit: Any, words: tuple[str, ...]) -> None:
    assert_refused(edited_builtin(tmp_path, edit, "co.yaml"), *words)


def test_co_option_adds_members_who_follow_the_delegates(model: Compiled) -> None:
    """``co_opt``: the committee's loyalties become the head-count mean of the sitting members'
    and the newcomers', who follow the delegates; its size grows by their number."""
    H = 4
    ctx = mech_ctx(model, H)
    s = initial_state(model, H, record_log=False)
    g = np.random.default_rng(0)
    cc = g.dirichlet(np.ones(model.P + 1), size=H)
    deleg = g.dirichlet(np.ones(model.P + 1), size=H)
    size = np.array([50.0, 100.0, 200.0, 9.0])
    s.cc, s.cc_size = cc.copy(), size.copy()
    circular_flow.co_opt(s, ctx, deleg, 9)
    assert np.allclose(s.cc, (size[:, None] * cc + 9 * deleg) / (size + 9)[:, None])
    assert np.allclose(s.cc.sum(axis=1), 1.0)
    assert np.array_equal(s.cc_size, size + 9)
    # each column moves toward the delegates': a leader gains where they follow him more
    gain = s.cc - cc
    assert np.array_equal(np.sign(gain), np.sign(deleg - cc))
    before = s.cc.copy()
    circular_flow.co_opt(s, ctx, deleg, 0)
    assert np.array_equal(s.cc, before) and np.array_equal(s.cc_size, size + 9)


def test_a_plenum_co_opts_before_it_votes(model: Compiled) -> None:
    """At a plenum with ``co_opted`` the committee that votes is the one with the newcomers,
    chosen by the delegates' loyalties of that moment; a plenum without it leaves the
    committee as it was (no motions are brought here, so no purge moves it)."""
    H = 6
    ctx = mech_ctx(model, H, motion_rate=0.0)
    ctx.params.update({n: np.zeros(H) for n in model.absent})  # as the engine reads them
    s = initial_state(model, H, record_log=False)
    g = np.random.default_rng(1)
    s.cc = g.dirichlet(np.ones(model.P + 1), size=H)
    s.sec = g.dirichlet(np.ones(model.P + 1), size=H)
    act = np.ones((H, model.P))
    want = copy.deepcopy(s)
    circular_flow.co_opt(want, ctx, circular_flow.delegates(want, ctx, SPEC.effective(want, ctx)),
                         12)
    plain = copy.deepcopy(s)
    engine._meeting(s, ctx, 3, MeetingC(3, KIND_CODE["plenum"], "plenum", 0, 0, 0,
                                        co_opted=12), act, False, None, [])
    engine._meeting(plain, ctx, 3, MeetingC(3, KIND_CODE["plenum"], "plenum", 0, 0, 0), act,
                    False, None, [])
    assert np.allclose(s.cc, want.cc) and np.array_equal(s.cc_size, want.cc_size)
    assert not np.allclose(plain.cc, want.cc)
    assert np.array_equal(plain.cc_size, np.full(H, model.constants["cc_size_start"]))


def test_co_option_changes_nothing_before_its_plenum(tmp_path: Path) -> None:
    """The Soviet file with members co-opted at one plenum: every fall before that plenum's
    month is as in the file as shipped."""
    state: dict[str, str] = {}

    def edit(d: dict[str, Any]) -> None:
        k = [j for j, m in enumerate(d["calendar"]) if m["kind"] == "plenum"][3]
        d["calendar"][k]["co_opted"] = {"value": 60, "assumption": "test"}
        state["month"] = d["calendar"][k]["month"]

    base = compile_scenario(load_scenario("soviet-1922"))
    co = compile_scenario(load_scenario(edited_builtin(tmp_path, edit, "co.yaml")))
    assert sum(m.co_opted for m in co.meetings) == 60
    step = parse_month(state["month"]) - base.start
    idx = np.arange(40)
    a, b = simulate(base, 1, idx), simulate(co, 1, idx)
    early = lambda f: np.where((f >= 0) & (f < step), f, -1)  # noqa: E731
    assert np.array_equal(early(a.falls), early(b.falls))


def test_powers_written_at_their_defaults_give_the_same_histories(tmp_path: Path) -> None:
    """Bit-identical: the Soviet file with every kind's powers written out at the default."""
    default = {k: list(Powers().of(k)) for k in KIND_CODE}
    base = compile_scenario(load_scenario("soviet-1922"))
    spelt = _powers(tmp_path, default, "spelt.yaml")
    assert np.array_equal(base.powers, spelt.powers)
    idx = np.arange(32)
    a, b = simulate(base, 1, idx), simulate(spelt, 1, idx)
    for field in ("winner", "falls", "coalition", "first_rule", "tallies"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
