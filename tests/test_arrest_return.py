"""Starting rungs, arrest, return and the founder who dies in the first month.

Each test checks a rule against what its module says (mechanisms/arrest.py, mechanisms/returns.py,
engine.initial_state, engine.simulate), on the China scenario because it is the built-in file
with a security office and leaders outside the leadership; none asserts who wins or when.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _scenarios import mech_ctx

from politburo.chronicle.prose import Words, _crisis
from politburo.engine import month as engine
from politburo.engine.histories import record_rises
from politburo.engine.mechanisms import arrest, returns
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.month import initial_state, simulate
from politburo.engine.state import RUNG, Context, State, to_mask
from politburo.scenario.checks import features
from politburo.scenario.compile import FOUNDER, Compiled, compile_scenario
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import RISE_STEPS, Scenario


@pytest.fixture(scope="module")
def china() -> Scenario:
    return load_scenario("china-1976")


@pytest.fixture(scope="module")
def model(china: Scenario) -> Compiled:
    return compile_scenario(china)


def _ctx(model: Compiled, H: int, **params: float) -> Context:
    """``mech_ctx`` with the parameters of features the scenario leaves out read as 0, as
    ``engine.month.simulate`` reads them."""
    ctx = mech_ctx(model, H, **params)
    ctx.params.update({n: np.zeros(H) for n in model.absent if n not in ctx.params})
    return ctx


def _coalition(model: Compiled, H: int, *ids: str) -> np.ndarray:
    m = np.zeros((H, model.P), dtype=bool)
    for i in ids:
        m[:, model.index(i)] = True
    return to_mask(m)


def test_the_features_are_switched_on_by_the_file_alone(china: Scenario) -> None:
    """The China file has a security office and leaders outside the leadership; the Soviet
    file has neither, so its parameters for them are absent and read as 0."""
    got = features(china)
    assert "security" in got and "outside" in got
    soviet = load_scenario("soviet-1922")
    assert "security" not in features(soviet) and "outside" not in features(soviet)
    sm = compile_scenario(soviet)
    assert {"arrest_rate", "arrest_window", "return_rate"} <= set(sm.absent)
    assert not sm.security_offices().any() and not sm.start_rungs().any()


def test_a_leader_outside_starts_on_his_rung_and_outside_the_committee_has_no_following(
        model: Compiled) -> None:
    s = initial_state(model, 3, record_log=False)
    rung0 = model.start_rungs()
    assert (s.rung == rung0[None, :]).all()
    out = rung0 >= RUNG["central_committee"]
    assert out.any()
    assert (s.cc[:, :model.P][:, out] == 0).all() and (s.sec[:, :model.P][:, out] == 0).all()
    assert np.allclose(s.cc.sum(axis=1), 1) and np.allclose(s.sec.sum(axis=1), 1)
    # Starting outside is not a fall: nothing is recorded on the ladder.
    assert (s.falls == -1).all()


def test_a_return_from_a_starting_rung_is_recorded_as_a_rise(model: Compiled) -> None:
    H, P = 2, model.P
    rung0 = model.start_rungs()
    i = int(np.flatnonzero(rung0 >= RUNG["politburo"])[0])
    rises = np.full((H, P, len(RISE_STEPS) + len(model.offices)), -1, dtype=np.int64)
    rung = np.tile(rung0, (H, 1))
    falls = np.full((H, P, 7), -1, dtype=np.int64)
    record_rises(rises, model, 3, np.tile(model.holder0, (H, 1)), rung, falls, rung0)
    assert (rises[:, i, RISE_STEPS.index("politburo")] == -1).all()
    rung[:, i] = 0
    record_rises(rises, model, 4, np.tile(model.holder0, (H, 1)), rung, falls, rung0)
    assert (rises[:, i, RISE_STEPS.index("politburo")] == 4).all()


def _arrest_world(model: Compiled, H: int, *coalition: str, **params: float
                  ) -> tuple[State, Context]:
    ctx = _ctx(model, H, arrest_window=1e6, **params)
    s = initial_state(model, H, record_log=True)
    s.holder[:] = np.where(s.holder == FOUNDER, -1, s.holder)
    s.coalition[:] = _coalition(model, H, *coalition)
    return s, ctx


def test_an_arrest_needs_the_security_office_and_removes_at_once(model: Compiled) -> None:
    H, P = 4, model.P
    secure = model.security_offices()
    guards = {int(h) for h in model.holder0[secure] if h >= 0}
    ruler = next(i for i in guards)
    s, ctx = _arrest_world(model, H, model.principals[ruler], arrest_rate=1.0)
    before = s.rung.copy()
    arrest.apply(s, ctx, 0, 0, np.ones((H, P)), 0.0, transfer_offices)
    coal = np.zeros(P, dtype=bool)
    coal[ruler] = True
    target = ~coal & (before[0] < RUNG["central_committee"])
    target[list(guards)] = False  # who commands a security office cannot be seized by it
    assert target.any()
    # Everyone targeted falls out of the leadership and the committee in the same month.
    assert (s.rung[:, target] == RUNG["central_committee"]).all()
    assert (s.falls[:, target, RUNG["politburo"] - 1][:, before[0, target] < 3] == 0).all()
    assert s.arrested[:, target].all() and not s.arrested[:, ~target].any()
    for i in np.flatnonzero(target):
        assert not (s.holder == i).any(), model.principals[i]
    assert any(e["kind"] == "arrest" for e in s.log[0])


def test_no_arrest_without_the_security_office_or_the_rate(model: Compiled) -> None:
    H, P = 4, model.P
    secure = model.security_offices()
    guards = {int(h) for h in model.holder0[secure] if h >= 0}
    others = [model.principals[i] for i in range(P)
              if i not in guards and model.start_rungs()[i] == 0]
    s, ctx = _arrest_world(model, H, *others[:2], arrest_rate=1.0)
    before = s.rung.copy()
    arrest.apply(s, ctx, 0, 0, np.ones((H, P)), 0.0, transfer_offices)
    assert (s.rung == before).all() and not s.arrested.any()
    ruler = model.principals[next(iter(guards))]
    s, ctx = _arrest_world(model, H, ruler, arrest_rate=0.0)
    arrest.apply(s, ctx, 0, 0, np.ones((H, P)), 0.0, transfer_offices)
    assert (s.rung == before).all() and not s.arrested.any()


def test_the_chance_of_an_arrest_fades_after_the_succession(model: Compiled) -> None:
    """Sudduth's window: the same world arrests fewer the later it is after the succession,
    and nobody before it."""
    H, P = 400, model.P
    ruler = model.principals[int(model.holder0[model.security_offices()][0])]
    counts = []
    for t in (5, 6, 20):
        s, ctx = _arrest_world(model, H, ruler, arrest_rate=0.5)
        ctx.params["arrest_window"][:] = 6.0
        arrest.apply(s, ctx, t, 6, np.full((H, P), 0.5), 0.0, transfer_offices)
        counts.append(int(s.arrested.sum()))
    assert counts[0] == 0 and counts[1] > counts[2]


def _return_world(model: Compiled, H: int, rate: float) -> tuple[State, Context, int]:
    ctx = _ctx(model, H, return_rate=rate, ladder_gap=1.0)
    s = initial_state(model, H, record_log=True)
    i = int(np.flatnonzero(model.start_rungs() >= RUNG["politburo"])[0])
    j = next(k for k in range(model.P) if model.start_rungs()[k] == 0)
    s.coalition[:] = _coalition(model, H, model.principals[j])
    s.power[:] = 0.0  # the coalition holds nothing: its need is whole
    return s, ctx, i


def test_with_return_rate_zero_nobody_returns(model: Compiled) -> None:
    s, ctx, _ = _return_world(model, 8, 0.0)
    before = s.rung.copy()
    returns.apply(s, ctx, 5, np.ones((8, model.P)), "a plenum")
    assert (s.rung == before).all()


def test_a_needed_and_respected_outsider_is_co_opted_into_the_coalition(
        model: Compiled) -> None:
    H = 8
    s, ctx, i = _return_world(model, H, 1.0)
    returns.apply(s, ctx, 5, np.ones((H, model.P)), "a plenum")
    assert (s.rung[:, i] == 0).all()
    assert ((s.coalition >> i) & 1).all()
    assert any(e["kind"] == "return" for e in s.log[0])
    # An organised oppositionist is not co-opted, nor a man under arrest.
    s, ctx, i = _return_world(model, H, 1.0)
    s.bloc[:] = 1 << i
    returns.apply(s, ctx, 5, np.ones((H, model.P)), "a plenum")
    assert (s.rung[:, i] > 0).all()
    s, ctx, i = _return_world(model, H, 1.0)
    s.arrested[:, i] = True
    returns.apply(s, ctx, 5, np.ones((H, model.P)), "a plenum")
    assert (s.rung[:, i] > 0).all()


def test_a_founder_dying_in_the_first_month_leaves_his_offices_to_the_coalition(
        model: Compiled) -> None:
    """Gap 7: the founder's offices go to members of the coalition of the first game, not to
    the first principal by id for want of a coalition."""
    assert next(e for e in model.events if e.kind == "founder_death").start == 0
    everyone_in = dataclasses.replace(model, rung0=np.zeros(model.P, dtype=np.int64),
                                      security=np.zeros(len(model.offices), dtype=bool))
    H = 60
    ctx = _ctx(everyone_in, H)
    s = initial_state(everyone_in, H, record_log=False)
    act = np.ones((H, everyone_in.P))
    engine._first_game(s, ctx, 0, act)
    founders = np.flatnonzero(everyone_in.holder0 == FOUNDER)
    transfer_offices(s, ctx, 0, np.ones(H, dtype=bool), -1)
    for o in founders:
        new = s.holder[:, o]
        assert ((s.coalition >> np.maximum(new, 0)) & 1)[new >= 0].all()
    h = simulate(everyone_in, 1, np.arange(H))
    assert h.winner.shape == (H,)


def test_a_crisis_keeps_the_proper_names_the_file_gives(china: Scenario) -> None:
    words = Words.of(china)
    text = _crisis({"crisis": "tiananmen_verdict", "response": "reverse_the_verdict",
                    "actors": [], "targets": []}, words)
    assert text.startswith("Facing the Tiananmen verdict,")


def _office_world(model: Compiled, H: int, ruler: str, target: str,
                  offices_lost: str) -> tuple[Compiled, State, Context]:
    """``ruler`` rules alone with the whole committee behind him; ``target`` is an outsider
    on rung ``censure`` holding a party office and a state office; every motion is brought and
    passes."""
    m = dataclasses.replace(model, offices_lost=offices_lost, rung0=np.zeros(model.P, np.int64))
    ctx = _ctx(m, H, vote_noise=0.0, motion_rate=1.0, threat_focus=1.0)
    s = initial_state(m, H, record_log=False)
    s.holder[:] = np.where(s.holder == FOUNDER, -1, s.holder)
    i, r = m.index(target), m.index(ruler)
    party = int(np.flatnonzero(~m.state_office)[0])
    state = np.flatnonzero(m.state_office)
    s.holder[:, party] = i
    s.holder[:, state[0]] = i
    s.holder[:, state[1]] = i
    s.coalition[:] = 1 << r
    s.rung[:] = RUNG["party"]
    s.rung[:, [i, r]] = [RUNG["censure"], 0]
    s.power[:] = 0.0
    s.power[:, [i, r]] = [0.5, 0.5]
    s.last_step[:] = -100
    return m, s, ctx


def _vote(m: Compiled, s: State, ctx: Context, kind: int, ruler: str) -> None:
    from politburo.engine.mechanisms import votes
    from politburo.scenario.compile import MeetingC

    body = np.zeros((s.H, m.P + 1))
    body[:, m.index(ruler)] = 1.0
    votes.motions(s, ctx, 5, MeetingC(5, kind, "meeting", 0, 0, 0), body,
                  np.full((s.H, m.P), 0.5), np.ones((s.H, m.P)), 0.0, transfer_offices)


def test_a_state_session_takes_only_state_offices_and_a_plenum_only_party_ones(
        model: Compiled) -> None:
    assert model.state_office.any() and (~model.state_office).any()
    m, s, ctx = _office_world(model, 20, "ye", "hua", "all")
    i = m.index("hua")
    _vote(m, s, ctx, 0, "ye")  # a session
    mine = s.holder == i
    assert not (mine & m.state_office[None, :]).any()
    assert (mine & ~m.state_office[None, :]).any(axis=1).all()
    assert (s.rung[:, i] == RUNG["office"]).all()
    m, s, ctx = _office_world(model, 20, "ye", "hua", "all")
    _vote(m, s, ctx, 1, "ye")  # a plenum
    mine = s.holder == i
    assert not (mine & ~m.state_office[None, :]).any()
    assert (mine & m.state_office[None, :]).sum(axis=1).min() == 2


def test_under_offices_lost_one_a_motion_takes_the_weightiest_office_only(
        model: Compiled) -> None:
    m, s, ctx = _office_world(model, 20, "ye", "hua", "one")
    i = m.index("hua")
    state = np.flatnonzero(m.state_office)
    held = [o for o in state[:2]]
    heavy = max(held, key=lambda o: m.office_weight[o])
    light = min(held, key=lambda o: m.office_weight[o])
    _vote(m, s, ctx, 0, "ye")
    assert (s.holder[:, heavy] != i).all() and (s.holder[:, light] == i).all()
    # He still holds an office the session can change: the next motion is for it, not his seat.
    s.last_step[:] = -100
    _vote(m, s, ctx, 0, "ye")
    assert (s.holder[:, light] != i).all() and (s.rung[:, i] == RUNG["office"]).all()
