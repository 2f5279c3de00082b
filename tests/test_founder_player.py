"""The founder as a player (issue 13): while he acts and has a line of his own, he plays the
coalition game like any leader (Lewin's reading of Lenin's last months), with his power the share
``founder_weight`` of the leadership's; his Testament motion is backed by his allies."""

from __future__ import annotations

import numpy as np
import pytest
from _scenarios import mech_ctx, mech_state

from politburo.engine.mechanisms import coalitions, power, testament
from politburo.engine.month import simulate
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import Scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario("soviet-1922")


def _playing_state(model, H=6, **params):  # type: ignore[no-untyped-def]
    ctx = mech_ctx(model, H, **params)
    state = mech_state(model, H)
    rng = np.random.default_rng(11)
    state.position = rng.uniform(-1, 1, (H, model.P, 2))
    state.founder_pos = rng.uniform(-1, 1, (H, 2))
    state.founder_on = True
    return state, ctx


def test_his_power_is_his_share_and_distances_to_him_are_symmetric(scenario: Scenario) -> None:
    model = compile_scenario(scenario)
    state, ctx = _playing_state(model, founder_weight=0.4)
    perc = np.random.default_rng(3).uniform(0.1, 1.0, (state.H, model.P))
    gap = coalitions.policy_gap(state, ctx, np.arange(state.H))
    ext, g = coalitions.founder_player(state, ctx, perc, gap)
    share = ext[:, model.P] / ext.sum(axis=1)
    assert np.allclose(share, 0.4, atol=1e-12)
    assert np.array_equal(ext[:, :model.P], perc)
    assert np.allclose(g, np.transpose(g, (0, 2, 1)))
    assert np.array_equal(g[:, :model.P, :model.P], gap)
    assert (g[:, model.P, :model.P] > 0).all()


def test_the_game_with_him_is_the_aes_game_on_the_extended_powers(scenario: Scenario) -> None:
    """The core the engine forms equals the definition (``ruling_coalition_reference``) played
    on the leaders' perceived powers and distances with his column added."""
    model = compile_scenario(scenario)
    P = model.P
    for w in (0.2, 0.45, 0.7):
        state, ctx = _playing_state(model, founder_weight=w)
        act = np.ones((state.H, P))
        eff = ctx.attr("standing")
        parts = power.power_parts(state, ctx, eff, act)
        perc = coalitions.perceived_power(state, ctx, parts) * state.in_politburo()
        gap = coalitions.policy_gap(state, ctx, np.arange(state.H))
        ext, g = coalitions.founder_player(state, ctx, perc, gap)
        coalitions.form(state, ctx, 0, parts)
        for h in range(state.H):
            if state.sole[h] >= 0:
                continue
            want = coalitions.ruling_coalition_reference(
                list(ext[h]), float(ctx.params["winning_threshold"][h]), g[h].tolist(),
                float(ctx.params["coalition_span"][h]))
            got = {i for i in range(P + 1) if (int(state.core[h]) >> i) & 1}
            assert got == set(want), (w, h)
            if P in want:  # in the core, so in the ruling coalition
                assert state.founder_in[h]
        # the ruling coalition itself is a bitmask over the principals only
        assert (state.coalition >> P == 0).all()


def test_he_leaves_the_game_when_he_stops_acting(scenario: Scenario) -> None:
    model = compile_scenario(scenario)
    state, ctx = _playing_state(model, founder_weight=0.6)
    act = np.ones((state.H, model.P))
    parts = power.power_parts(state, ctx, ctx.attr("standing"), act)
    coalitions.form(state, ctx, 0, parts)
    assert state.founder_in.any()  # with 60% of the power he is in every winning coalition
    state.founder_on = False
    coalitions.form(state, ctx, 1, parts)
    assert not state.founder_in.any()
    assert (state.players >> model.P == 0).all()


def test_in_the_built_in_world_he_plays_only_until_his_third_stroke(scenario: Scenario) -> None:
    model = compile_scenario(scenario)
    stroke = next(e.start for e in model.events if e.kind == "founder_incapacitated")
    h = simulate(model, 4, np.arange(120), record_log=True)
    before = after = 0
    for log in h.log:
        for e in log:
            if e["kind"] == "coalition" and "lenin" in e["actors"]:
                before += e["step"] < stroke
                after += e["step"] >= stroke
    assert before > 0 and after == 0


def test_without_a_position_the_founder_plays_no_part(scenario: Scenario) -> None:
    """A founder without a line (the China file's Mao) never enters the game, and the weight
    parameter is then read by nothing."""
    founder = scenario.founder.model_copy(update={"position": None})
    bare = scenario.model_copy(update={"founder": founder})
    idx = np.arange(200)
    worlds = [simulate(compile_scenario(bare, {"founder_weight": w}), 6, idx, record_log=True)
              for w in (0.1, 0.9)]
    assert np.array_equal(worlds[0].falls, worlds[1].falls)
    assert np.array_equal(worlds[0].coalition, worlds[1].coalition)
    assert not any("lenin" in e["actors"] for log in worlds[0].log for e in log
                   if e["kind"] == "coalition")
    # and with a position, his weight matters
    a, b = (simulate(compile_scenario(scenario, {"founder_weight": w}), 6, idx) for w in (0.1, 0.9))
    assert not np.array_equal(a.coalition, b.coalition)


def test_his_testament_motion_is_backed_by_his_allies(scenario: Scenario) -> None:
    """The same motion against the General Secretary, put by a founder with every other leader
    as his ally, carries a larger share than put by a founder alone."""
    model = compile_scenario(scenario)
    target = model.holder0[model.gensec]
    shares = {}
    for allied in (False, True):
        ctx = mech_ctx(model, 4, vote_noise=0.0)
        state = mech_state(model, 4, record_log=True)
        state.founder_on = True
        state.founder_in = np.full(4, allied)
        state.coalition = np.full(4, (1 << model.P) - 1, dtype=np.int64)
        mt = next(m for m in model.meetings if m.kind == 3)
        eff = ctx.attr("standing")
        testament.testament_vote(state, ctx, 0, mt, state.cc, eff, np.ones((4, model.P)),
                               int(target), 2.0)
        shares[allied] = [e["yes"] for log in state.log for e in log if e["kind"] == "vote"]
        assert np.array_equal(state.coalition, np.full(4, (1 << model.P) - 1))  # restored
    assert len(shares[True]) == 4
    assert all(y > n + 0.05 for y, n in zip(shares[True], shares[False], strict=True))


def test_a_letter_that_falls_due_while_its_author_acts_is_not_read_out(
        scenario: Scenario) -> None:
    """While the founder still acts in the Testament's month, he puts its proposal to the
    congresses himself: the reading (and its cost in standing, ``testament_weight``) comes only
    once he cannot, and the chronicle does not tell of it."""
    from politburo.chronicle.frame import scenario_events
    from politburo.chronicle.prose import Words
    from politburo.scenario.levers import apply_levers, parse_lever_args

    full = load_scenario("soviet-1922", levers=True)
    world, fixed = apply_levers(full, parse_lever_args(["lenin_lives=1925-06"]))
    idx = np.arange(150)
    runs = [simulate(compile_scenario(world, {**fixed, "testament_weight": w}), 8, idx)
            for w in (0.0, 0.3)]
    assert np.array_equal(runs[0].falls, runs[1].falls)
    assert np.array_equal(runs[0].coalition, runs[1].coalition)
    model = compile_scenario(world, fixed)
    kinds = [e["kind"] for e in scenario_events(world, model, Words.of(world))]
    assert "testament" not in kinds
    # in the baseline, where he is struck down first, the reading costs standing and is told
    base = [simulate(compile_scenario(scenario, {"testament_weight": w}), 8, idx)
            for w in (0.0, 0.3)]
    assert not np.array_equal(base[0].coalition, base[1].coalition)
    model = compile_scenario(scenario)
    assert "testament" in [e["kind"] for e in scenario_events(scenario, model,
                                                                Words.of(scenario))]


def test_while_he_acts_he_holds_back_organising_as_he_holds_back_motions(
        scenario: Scenario) -> None:
    """With full restraint nobody organises a bloc while the founder acts; without it, some
    outsiders of his coalition do."""
    stroke = next(e.start for e in compile_scenario(scenario).events
                  if e.kind == "founder_incapacitated")
    idx = np.arange(300)
    early = []
    for r in (1.0, 0.0):
        h = simulate(compile_scenario(scenario, {"founder_restraint": r,
                                                 "opposition_formation": 0.5}), 9, idx,
                     record_log=True)
        early.append(sum(any(e["kind"] == "bloc" and e["step"] < stroke for e in log)
                         for log in h.log))
    assert early[0] == 0
    assert early[1] > 30
