"""The engine as a whole: reproducibility, invariances, and the baseline's shape."""

from __future__ import annotations

import numpy as np

from politburo.dates import parse_month
from politburo.engine.month import initial_state, simulate
from politburo.engine.state import pair, square, toward
from politburo.runner.batches import run
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.schema import Scenario


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in ("index", "params", "winner", "consolidation", "falls", "tallies", "coalition",
                 "first_rule"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_same_history_whatever_the_batch(model: Compiled) -> None:
    whole = simulate(model, 11, np.arange(300))
    cut = run(model, 11, 300, batch_size=7)
    _same(whole, cut)
    alone = simulate(model, 11, np.array([123]))
    assert alone.winner[0] == whole.winner[123]
    assert np.array_equal(alone.falls[0], whole.falls[123])
    shuffled = simulate(model, 11, np.arange(300)[::-1])
    assert np.array_equal(shuffled.winner[::-1], whole.winner)


def test_same_history_with_worker_processes(model: Compiled) -> None:
    _same(run(model, 5, 400, batch_size=100, workers=2), run(model, 5, 400, batch_size=400))


def test_seed_changes_histories(model: Compiled) -> None:
    a, b = simulate(model, 1, np.arange(200)), simulate(model, 2, np.arange(200))
    assert not np.array_equal(a.falls, b.falls)


def test_power_shares_sum_to_one_every_month(model: Compiled) -> None:
    h = simulate(model, 3, np.arange(100), keep_power=True)
    assert h.power is not None
    assert np.allclose(h.power.sum(axis=2), 1.0, atol=1e-5)
    assert (h.power >= 0).all()


def test_listing_order_of_actors_does_not_matter(scenario: Scenario) -> None:
    perm = (3, 0, 6, 1, 5, 2, 4)
    other = scenario.model_copy(update={"principals": tuple(scenario.principals[i] for i in perm)})
    a = simulate(compile_scenario(scenario), 9, np.arange(300))
    b = simulate(compile_scenario(other), 9, np.arange(300))
    _same(a, b)


def test_falls_are_ordered_down_the_ladder(model: Compiled) -> None:
    h = simulate(model, 4, np.arange(1000))
    f = h.falls  # censure, office, politburo, cc, party, exile, deportation
    for lo, hi in [(2, 3), (3, 4), (4, 5), (5, 6)]:
        both = (f[:, :, lo] >= 0) & (f[:, :, hi] >= 0)
        assert (f[:, :, lo][both] <= f[:, :, hi][both]).all()
        assert not ((f[:, :, hi] >= 0) & (f[:, :, lo] < 0)).any()


def test_winner_is_consolidated_and_not_purged(model: Compiled) -> None:
    h = simulate(model, 4, np.arange(1000))
    won = h.winner < model.P
    assert (h.consolidation[won] >= 0).all() and (h.consolidation[~won] == -1).all()
    rows = np.flatnonzero(won)
    assert (h.falls[rows, h.winner[rows], 4] == -1).all()  # no winner was expelled


def test_a_scenario_without_founder_events_has_no_founder(scenario: Scenario) -> None:
    """With neither founder event, no founder restrains the motions: the histories do not
    depend on how strongly he would (before, an invisible founder held them back throughout)."""
    events = tuple(e for e in scenario.events
                   if e.kind not in ("founder_incapacitated", "founder_death"))
    bare = scenario.model_copy(update={"events": events})
    idx = np.arange(300)
    worlds = []
    for restraint in (0.0, 1.0):
        model = compile_scenario(bare, {"founder_restraint": restraint})
        worlds.append(simulate(model, 5, idx))
    assert np.array_equal(worlds[0].falls, worlds[1].falls)
    assert np.array_equal(worlds[0].winner, worlds[1].winner)
    assert (worlds[0].falls[:, :, 0] >= 0).any()  # and motions do pass


def test_the_founder_restrains_motions_while_he_lives_not_only_while_he_acts(
        scenario: Scenario) -> None:
    """Lenin is incapacitated in March 1923 but lives until January 1924: with full restraint
    nobody falls a rung before his death, and without it, some do."""
    death = next(e for e in scenario.events if e.kind == "founder_death")
    cut = parse_month(death.month) - parse_month(scenario.start)
    idx = np.arange(400)
    held = simulate(compile_scenario(scenario, {"founder_restraint": 1.0}), 2, idx)
    free = simulate(compile_scenario(scenario, {"founder_restraint": 0.0}), 2, idx)
    early = lambda h: ((h.falls >= 0) & (h.falls < cut)).any(axis=(1, 2))  # noqa: E731
    assert not early(held).any()
    assert early(free).mean() > 0.2


def test_the_restraint_is_one_draw_per_history(scenario: Scenario) -> None:
    """Whether the colleagues hold back while the founder lives is drawn once per history
    (stream ``founder:restraint``): at a chance of one half, every history with a fall before
    his death is one whose draw says they did not hold back, and about half the histories
    hold back (before, the parameter cut each meeting's chance, and falls came in most
    histories whatever their draw)."""
    from politburo.engine import rng

    death = next(e for e in scenario.events if e.kind == "founder_death")
    cut = parse_month(death.month) - parse_month(scenario.start)
    idx = np.arange(1000)
    h = simulate(compile_scenario(scenario, {"founder_restraint": 0.5}), 2, idx)
    early = ((h.falls >= 0) & (h.falls < cut)).any(axis=(1, 2))
    held = rng.uniforms(2, idx, -1, "founder:restraint", 1)[:, 0] < 0.5
    assert 0.45 < held.mean() < 0.55  # binomial sd about 0.016
    assert not (early & held).any()
    assert early[~held].mean() > 0.5  # where nothing holds them back, most histories see one


def test_a_rivalry_starts_the_pairs_enmity_and_nothing_else(scenario: Scenario) -> None:
    model = compile_scenario(scenario)
    z, t, s, b = (model.index(a) for a in ("zinoviev", "trotsky", "stalin", "bukharin"))
    assert model.enmity0[z, t] == model.enmity0[t, z] == 0.5
    assert model.enmity0[s, t] == model.enmity0[t, s] == 0.5
    assert model.enmity0[b].sum() == 0 and np.trace(model.enmity0) == 0
    calm = compile_scenario(scenario.model_copy(update={"rivalries": ()}))
    assert not calm.enmity0.any()


def test_the_state_keeps_one_enmity_per_pair_of_leaders(model: Compiled) -> None:
    """``State.enmity`` holds the upper triangle of the symmetric matrix, column ``pair(i, j)``
    for either order; ``square`` and ``toward`` give back the matrix and one of its columns."""
    P = model.P
    i, j = np.triu_indices(P, 1)
    assert [pair(a, b, P) for a, b in zip(i, j, strict=True)] == list(range(P * (P - 1) // 2))
    assert all(pair(a, b, P) == pair(b, a, P) for a, b in zip(i, j, strict=True))
    state = initial_state(model, 3, False)
    assert state.enmity.shape == (3, P * (P - 1) // 2)
    assert np.array_equal(square(state.enmity, P), np.broadcast_to(model.enmity0, (3, P, P)))
    e = np.random.default_rng(0).random((4, P * (P - 1) // 2))
    for k in range(P):
        assert np.array_equal(toward(e, k, P), square(e, P)[:, :, k])
