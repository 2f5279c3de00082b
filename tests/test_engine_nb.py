"""The compiled engine against its specification, the NumPy mechanisms: bit for bit.

Each kernel runs on random states (fixed seeds, extreme values included: empty and full
coalitions, leaders out of the party, vacant offices, zero power) beside its NumPy twin, on
copies of one state, and every array of the state afterwards must have the same bits (signed
zeros and NaNs included). Whole runs of the built-in scenarios, of every lever's world and of
the tiny test scenario must give equal histories under both engines.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from politburo.engine import compiled as engine_nb
from politburo.engine import rng, switch
from politburo.engine.histories import record_rises
from politburo.engine.mechanisms import (
    arrest,
    arrest_nb,
    circular_flow,
    circular_flow_nb,
    clients,
    clients_nb,
    coalitions,
    coalitions_nb,
    consolidation,
    policy,
    policy_nb,
    power,
    standing,
    standing_nb,
    votes,
    votes_nb,
)
from politburo.engine.mechanisms.offices import office_holdings, transfer_offices
from politburo.engine.month import draw_attributes, draw_params, initial_state, simulate
from politburo.engine.state import LADDER, RUNG, Context, State, bits
from politburo.scenario.compile import CLIENT, LEADERSHIP, Compiled, MeetingC, compile_scenario
from politburo.scenario.levers import apply_levers
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import RISE_STEPS, Scenario

TINY = Path(__file__).parent / "data" / "tiny-scenario.yaml"


def same(a: Any, b: Any) -> bool:
    """Equal shapes, dtypes and bits (so -0.0 differs from 0.0, and NaN equals NaN)."""
    if a is None or b is None:
        return a is b
    a, b = np.asarray(a), np.asarray(b)
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())


def same_state(x: State, y: State) -> list[str]:
    """The names of the state's arrays that differ between ``x`` and ``y``."""
    out = []
    for k, v in vars(x).items():
        if isinstance(v, np.ndarray) and not same(v, getattr(y, k)):
            out.append(k)
    return out


@pytest.fixture(scope="module", params=["soviet-1922", "china-1976"])
def model(request: pytest.FixtureRequest) -> Compiled:
    return compile_scenario(load_scenario(request.param))


def random_worlds(model: Compiled, offset: int
                  ) -> Iterator[tuple[int, State, Context, np.random.Generator]]:
    """For each of ``SEEDS``: the seed, a random world and a generator (seed + ``offset``) for
    the test's own draws on it."""
    for seed in SEEDS:
        s, ctx = random_world(model, seed)
        yield seed, s, ctx, np.random.default_rng(seed + offset)


def random_world(model: Compiled, seed: int, H: int = 400) -> tuple[State, Context]:
    """A state with every field the kernels read drawn at random (fixed ``seed``), and a
    context with parameters and attributes drawn as ``simulate`` draws them."""
    g = np.random.default_rng(seed)
    P, n_off, C = model.P, len(model.offices), len(model.clients)
    index = np.arange(H, dtype=np.int64) + 1000 * seed
    theta = draw_params(model, seed, index)
    params = {n: theta[:, j] for j, n in enumerate(model.priors.names)}
    params.update({n: np.zeros(H) for n in model.absent})
    attrs = draw_attributes(model, seed, index, params["attribute_noise"])
    ctx = Context(model=model, seed=seed, index=index, params=params, const=model.constants,
                  attrs=attrs)
    s = initial_state(model, H, False, attrs)
    full = (1 << P) - 1
    s.coalition = np.where(g.random(H) < 0.1, 0, np.where(g.random(H) < 0.05, full,
                                                          g.integers(0, full + 1, H)))
    s.core = s.coalition & g.integers(0, full + 1, H)
    s.bloc = np.where(g.random(H) < 0.3, 0, g.integers(0, full + 1, H)) & ~s.coalition
    s.rung = np.where(g.random((H, P)) < 0.6, 0, g.integers(0, len(LADDER) + 1, (H, P)))
    s.threatened = g.random((H, P)) < 0.3
    power = g.dirichlet(np.ones(P), H) * (g.random((H, P)) > 0.1)
    power[g.random(H) < 0.05] = 0.0
    s.power = power
    s.position = g.uniform(-1, 1, (H, P, 2))
    s.position[g.random((H, P, 2)) < 0.05] = -0.0
    s.ideal = g.uniform(-1, 1, (H, P, 2))
    s.line = g.uniform(-1, 1, (H, 2))
    s.salience = np.where(g.random((H, 2)) < 0.5, 1.0, g.uniform(0, 1, (H, 2)))
    s.standing = g.uniform(-0.2, 2.5, (H, P))
    s.holder = g.integers(-2, P, (H, n_off))
    s.holder[g.random((H, n_off)) < 0.1] = -1
    sec = g.dirichlet(np.ones(P + 1), H)
    s.sec = sec
    s.cc = g.dirichlet(np.ones(P + 1) * 0.5, H)
    pairs = P * (P - 1) // 2  # State.enmity: one column per pair of leaders
    s.enmity = g.uniform(0, 1, (H, pairs)) * (g.random((H, pairs)) < 0.4)
    s.old_guard = g.uniform(0.3, 1, H)
    if C:
        s.client_patron = g.integers(0, P, (H, C))
        s.client_loyalty = g.uniform(0.3, 1, (H, C))
        s.client_seat = g.random((H, C)) < 0.5
    s.cons_who = np.where(g.random(H) < 0.5, -1, g.integers(0, P, H))
    s.cons_since = np.where(s.cons_who >= 0, g.integers(0, 50, H), -1)
    s.first_rule = np.where(s.cons_who >= 0, s.cons_since, np.where(g.random(H) < 0.2, 3, -1))
    s.falls = np.where(g.random((H, P, len(LADDER))) < 0.2, g.integers(0, 60, (H, P, len(LADDER))),
                       -1)
    if model.has_inner():  # an inner body of any size, empty in some histories
        s.inner = (g.random((H, P)) < 0.4) & (g.random(H) > 0.1)[:, None]
    if C:  # some clients dead (a scenario's death events), never seated
        s.client_alive = g.random((H, C)) > 0.2
        s.client_seat &= s.client_alive
    s.condemned = g.random((H, P)) < 0.25  # charged with a condemned platform (drawn last)
    return s, ctx


def twins(model: Compiled, seed: int, spec: Any, kernel: Any) -> None:
    """Run ``spec(state, ctx)`` and ``kernel(state, ctx)`` on copies of one random state and
    assert equal states and equal return values."""
    s, ctx = random_world(model, seed)
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    ra, rb = spec(a, ctx), kernel(b, ctx)
    assert same_state(a, b) == []
    if isinstance(ra, dict):
        assert ra.keys() == rb.keys() and all(same(ra[k], rb[k]) for k in ra)
    else:
        assert same(ra, rb)
    # the test is not of two no-ops: the kernel changed the state or returned something
    assert rb is not None or same_state(s, b) != []


SEEDS = [1, 2, 3]


STEPPED = {  # a mechanism, its kernel and the month both are called with
    "line_and_drift": (policy.line_and_drift, policy_nb.line_and_drift, 7),
    "standing_drift": (standing.drift, standing_nb.drift, 9),
    "consolidate": (consolidation.consolidate, engine_nb.consolidate, 11),
    "clients_drift": (clients.drift, clients_nb.drift, 4),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", list(STEPPED))
def test_a_monthly_mechanism_and_its_kernel(model: Compiled, seed: int, name: str) -> None:
    spec, kernel, t = STEPPED[name]
    twins(model, seed, lambda s, c: spec(s, c, t), lambda s, c: kernel(s, c, t))


@pytest.mark.parametrize("seed", SEEDS)
def test_base_interest(model: Compiled, seed: int) -> None:
    """The interests of the bases each leader leads, with leaders who hold three and more
    offices with a stake on one axis among them (where the order of the sum could tell)."""
    s, ctx = random_world(model, seed)
    g = np.random.default_rng(seed)
    s.holder[g.random(s.H) < 0.3] = g.integers(0, 2)  # some hold every office
    based = model.has_interest.any(axis=1)
    held = (s.holder[:, :, None] == np.arange(model.P)) & model.has_interest[None, :, None, 0]
    assert (held.sum(axis=1) >= 3).any() and based.sum() >= 3
    a, b = policy.base_interest(s, ctx), policy_nb.base_interest(s, ctx)
    assert same(a[0], b[0]) and same(a[1], b[1])
    assert a[1].any() and not a[1].all()


@pytest.mark.parametrize("seed", SEEDS)
def test_dissent(model: Compiled, seed: int) -> None:
    """Each leader's dissent from the line, whole (1.0) beyond ``DISSENT_FULL`` and partial
    within it."""
    s, _ = random_world(model, seed)
    a, b = policy.dissent(s), policy_nb.dissent(s)
    assert same(a, b) and (a == 1.0).any() and ((a > 0) & (a < 1.0)).any()


@pytest.mark.parametrize("seed", SEEDS)
def test_patronage(model: Compiled, seed: int) -> None:
    act = np.where(np.random.default_rng(seed).random((400, model.P)) < 0.2, 0.3, 1.0)
    twins(model, seed, lambda s, c: circular_flow.patronage(s, c, 5, act),
          lambda s, c: circular_flow_nb.patronage(s, c, 5, act))


@pytest.mark.parametrize("seed", SEEDS)
def test_standing(model: Compiled, seed: int) -> None:
    twins(model, seed, standing.effective, standing_nb.effective)
    twins(model, seed, standing.decay_enmity, standing_nb.decay_enmity)


@pytest.mark.parametrize("seed", SEEDS)
def test_power(model: Compiled, seed: int) -> None:
    act = np.where(np.random.default_rng(seed).random((400, model.P)) < 0.2, 0.3, 1.0)

    def spec(s: State, c: Context) -> Any:
        parts = power.power_parts(s, c, standing.effective(s, c), act)
        return {**parts, "shares": power.shares(parts)}

    def kernel(s: State, c: Context) -> Any:
        parts = engine_nb.power_parts(s, c, standing_nb.effective(s, c), act)
        return {**parts, "shares": engine_nb.shares(parts)}

    twins(model, seed, spec, kernel)


def with_client_offices(s: State, model: Compiled, seed: int) -> None:
    """Hand about half the offices to named clients, and in some histories most of them to one
    client, so clients with one office, two, and three and more are among them."""
    g = np.random.default_rng(seed + 70)
    C, n_off = len(model.clients), len(model.offices)
    code = CLIENT - g.integers(0, C, (s.H, n_off))
    s.holder = np.where(g.random((s.H, n_off)) < 0.5, code, s.holder)
    one = np.flatnonzero(g.random(s.H) < 0.3)
    most = g.random((one.size, n_off)) < 0.7
    s.holder[one] = np.where(most, CLIENT - g.integers(0, C, (one.size, 1)), s.holder[one])


@pytest.mark.parametrize("seed", SEEDS)
def test_office_power(model: Compiled, seed: int) -> None:
    """Clients' offices credited to their patrons, bit for bit, under the scenario's weights and
    under random ones, where the order of a client's sum tells: the same weights added from the
    last office first give other bits somewhere."""
    g = np.random.default_rng(seed + 80)
    uneven = dataclasses.replace(model, office_weight=g.uniform(0.01, 0.3, len(model.offices)))
    for m in (model, uneven):
        s, ctx = random_world(m, seed)
        with_client_offices(s, m, seed)
        a, b = clients.office_power(s, ctx), clients_nb.office_power(s, ctx)
        assert same(a, b) and (a > 0).any()
    backwards = np.zeros_like(a)
    for c in range(len(m.clients)):
        held = (s.holder == CLIENT - c)[:, ::-1]
        w = np.zeros(s.H)
        for o in range(held.shape[1]):
            w = w + held[:, o] * m.office_weight[::-1][o]
        backwards[np.arange(s.H), s.client_patron[:, c]] += w * s.client_loyalty[:, c]
    assert not same(backwards, a)


def offices_fall_client_by_client(state: State, ctx: Context, t: int, kind: int) -> None:
    """``clients.offices_fall`` as it first read: each client in turn, over every history."""
    changeable = ctx.model.changeable(kind)
    if changeable is None:
        if kind == 0:
            return
        changeable = np.ones(len(ctx.model.offices), dtype=bool)
    out = state.rung >= RUNG["politburo"]
    rows = np.arange(state.H)
    for c in range(state.client_seat.shape[1]):
        held = (state.holder == CLIENT - c) & changeable[None, :]
        fall = held.any(axis=1) & out[rows, state.client_patron[:, c]] & (state.coalition != 0)
        if fall.any():
            transfer_offices(state, ctx, t, fall, -1, offices=held, holder_code=CLIENT - c)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", [0, 1, 2])
def test_offices_fall_in_one_pass(model: Compiled, seed: int, kind: int) -> None:
    """The offices of clients whose patrons sit outside the leadership body, found in one pass
    over the offices, are those each client's own search finds, and go where they went."""
    def run(f: Any) -> Any:
        def go(s: State, c: Context) -> None:
            with_client_offices(s, model, seed)
            f(s, c, 5, kind)
        return go

    twins(model, seed, run(offices_fall_client_by_client),
          run(lambda s, c, t, k: clients.offices_fall(s, c, t, k, transfer_offices)))
    s, ctx = random_world(model, seed)
    with_client_offices(s, model, seed)
    before = s.holder.copy()
    clients.offices_fall(s, ctx, 5, kind, transfer_offices)
    moved = (before <= CLIENT) & (s.holder != before)
    assert moved.any() == (kind > 0 or model.changeable(0) is not None)


@pytest.mark.parametrize("seed", SEEDS)
def test_office_holdings(model: Compiled, seed: int) -> None:
    """Each principal's offices added in office order, as ``np.einsum`` adds them, under the
    scenario's weights and under random ones, with leaders who hold three and more offices
    among them, where the order tells: the offices taken from the last give other bits."""
    s, _ = random_world(model, seed)
    g = np.random.default_rng(seed + 90)
    s.holder[g.random(s.H) < 0.3] = g.integers(0, 2)  # some hold every office
    for w in (model.office_weight, g.uniform(0.01, 0.3, len(model.offices))):
        a = office_holdings(s.holder, w, model.P)
        assert same(a, engine_nb.office_holdings(s.holder, w, model.P))
    backwards = office_holdings(s.holder[:, ::-1], w[::-1], model.P)
    assert not same(backwards, a)


def offices_to_clients_office_by_office(state: State, ctx: Context, kind: int,
                                        before: np.ndarray) -> None:
    """``clients.offices_to_clients`` as it first read (without the log): every history at
    each office, each client's holdings searched in turn; a dead client takes nothing."""
    m = ctx.model
    flagged = m.clients_may_take()
    changeable = m.changeable(kind)
    if changeable is not None:
        flagged = flagged & changeable
    elif kind == 0:
        return
    P, C = m.P, len(m.clients)
    coal = bits(state.coalition, P) & state.in_politburo()
    strongest = np.where(coal, state.power, -np.inf).argmax(axis=1)
    ruled = coal.any(axis=1)
    for o in np.flatnonzero(flagged):
        got = state.holder[:, o]
        took = (got != before[:, o]) & (got >= 0) & ruled
        took &= coal[np.arange(state.H), np.maximum(got, 0)]
        rows = np.flatnonzero(took)
        if rows.size == 0:
            continue
        patron = strongest[rows]
        free = np.stack([~(state.holder[rows] == CLIENT - c).any(axis=1) for c in range(C)],
                        axis=1) & state.client_alive[rows]
        mine = (state.client_patron[rows] == patron[:, None]) & free
        loyal = np.where(mine, state.client_loyalty[rows], -np.inf)
        pick = loyal.argmax(axis=1)
        ok = np.isfinite(loyal[np.arange(rows.size), pick])
        state.holder[rows[ok], o] = CLIENT - pick[ok]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", [0, 1, 3])
def test_offices_to_clients_in_the_histories_that_moved(model: Compiled, seed: int,
                                                        kind: int) -> None:
    """Offices placed with clients only where a flagged office changed hands go where the
    search over every history puts them: several offices moved in one history, clients who
    already hold one, patrons with no free client."""
    s, ctx = random_world(model, seed)
    with_client_offices(s, model, seed)
    before = s.holder.copy()
    g = np.random.default_rng(seed + 100)
    s.holder = np.where(g.random(s.holder.shape) < 0.4,
                        g.integers(-1, model.P, s.holder.shape), s.holder)
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    offices_to_clients_office_by_office(a, ctx, kind, before)
    clients.offices_to_clients(b, ctx, 5, kind, before)
    assert same_state(a, b) == []
    changeable = model.changeable(kind)
    may = model.clients_may_take() & (changeable if changeable is not None else kind != 0)
    placed = (b.holder <= CLIENT) & (s.holder > CLIENT)
    assert placed.any() == may.any()


def purge_followers_everywhere(state: State, ctx: Context, who: np.ndarray) -> None:
    """``circular_flow.purge_followers`` as it first read: every history, those where nobody
    is removed adding the zero they move."""
    P = who.shape[1]
    g = ctx.model.gensec
    holder = state.holder[:, g] if g >= 0 else np.full(state.H, -1)
    for body in (state.sec, state.cc):
        moved = body[:, 0] * who[:, 0]
        for j in range(1, P):
            moved = moved + body[:, j] * who[:, j]
        body[:, :P] *= ~who
        ok = holder >= 0
        body[np.flatnonzero(ok), holder[ok]] += moved[ok]
        body[~ok, P] += moved[~ok]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("odd", ["", "negative zero", "nan"])
def test_purge_followers_in_the_histories_of_the_removed(model: Compiled, seed: int,
                                                         odd: str) -> None:
    """Followers' shares moved only in the histories where someone is removed, as moving a
    zero everywhere moves them; with a -0.0 or a NaN among the shares (which a zero moved
    would change) every history is worked, as before."""
    g = np.random.default_rng(seed + 110)
    s, ctx = random_world(model, seed)
    s.sec[:, 0] = np.where(g.random(s.H) < 0.2, 0.0, s.sec[:, 0])
    if odd == "negative zero":
        s.cc[g.random(s.H) < 0.1, -1] = -0.0
    elif odd == "nan":
        s.sec[3, 1] = np.nan
    who = np.zeros((s.H, model.P), dtype=bool)
    who[g.random(s.H) < 0.05, g.integers(0, model.P)] = True
    who[g.random(s.H) < 0.02, g.integers(0, model.P)] = True
    a, b = copy.deepcopy(s), copy.deepcopy(s)
    purge_followers_everywhere(a, ctx, who)
    circular_flow.purge_followers(b, ctx, who)
    assert same_state(a, b) == [] and same_state(s, b) != []


@pytest.mark.parametrize("seed", SEEDS)
def test_power_with_clients_offices(model: Compiled, seed: int) -> None:
    act = np.ones((400, model.P))

    def run(f: Any, eff: Any) -> Any:
        def go(s: State, c: Context) -> Any:
            with_client_offices(s, model, seed)
            return f(s, c, eff(s, c), act)
        return go

    twins(model, seed, run(power.power_parts, standing.effective),
          run(engine_nb.power_parts, standing_nb.effective))


@pytest.mark.parametrize("seed", SEEDS)
def test_politburo_votes_add_clients_in_order(model: Compiled, seed: int) -> None:
    s, ctx = random_world(model, seed)
    votes = clients.politburo_votes(s, ctx)
    seats = clients.seats_filled(s)
    row = np.empty(model.P)
    for h in range(0, s.H, 7):
        assert clients_nb.seats_row(h, s.rung, s.client_seat) == seats[h]
        clients_nb.clients_row(h, s.client_seat, s.client_patron, s.client_loyalty, row)
        assert same(s.in_politburo()[h] + row, votes[h])
        for p in range(model.P):
            got = clients_nb.votes_row(h, p, s.rung, s.client_seat, s.client_patron,
                                       s.client_loyalty)
            assert same(got, votes[h, p])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("founder_on", [False, True])
def test_update_bloc(model: Compiled, seed: int, founder_on: bool) -> None:
    def run(f: Any) -> Any:
        def go(s: State, c: Context) -> Any:
            s.founder_on = founder_on
            return f(s, c, 6)
        return go

    twins(model, seed, run(coalitions.update_bloc), run(coalitions_nb.update_bloc))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("founder", [False, True])
@pytest.mark.parametrize("replay", [False, True])
def test_form(model: Compiled, seed: int, founder: bool, replay: bool) -> None:
    """The AES game, blocs, the founder as a player, the sitting core, the like-minded."""
    act = np.ones((400, model.P))

    def run(f: Any) -> Any:
        def go(s: State, c: Context) -> Any:
            g = np.random.default_rng(seed + 50)
            s.players = np.where(g.random(s.H) < 0.5, s.players, (1 << model.P) - 1)
            s.founder_on = founder
            s.founder_pos = g.uniform(-1, 1, (s.H, 2)) if founder else None
            s.founder_in = g.random(s.H) < 0.3 if founder else None
            s.blind = g.uniform(0, 0.8, s.H)
            parts = power.power_parts(s, c, standing.effective(s, c), act)
            f(s, c, 3, parts, replay=replay)
            # the sitting core is kept where the players are as before: play a second round
            parts = power.power_parts(s, c, standing.effective(s, c), act)
            f(s, c, 4, parts)
        return go

    twins(model, seed, run(coalitions.form), run(coalitions_nb.form))


def _reference(power: np.ndarray, players: int, alpha: float, dist: np.ndarray,
               span: float) -> int:
    """``coalitions.ruling_coalition_reference`` on the players of ``players``, as a mask."""
    on = [i for i in range(len(power)) if (players >> i) & 1]
    if not on:
        return 0
    sub = coalitions.ruling_coalition_reference(
        [float(power[i]) for i in on], alpha,
        [[float(dist[i, j]) for j in on] for i in on], span)
    return sum(1 << on[k] for k in sub)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_one_pass_game_is_the_aes_game(seed: int) -> None:
    """``coalitions.ruling_one``, the kernel both engines play the game with, picks the
    coalition of the spelt-out definition ``coalitions.ruling_coalition_reference``, on random
    games of 1 to 6 players: tied and zero powers, distances that are tied, lopsided or
    infinite spans, players left out, thresholds from a half to 0.9; the games include ones
    where the full group, a proper subset and (no coalition that can agree wins) the strongest
    that can agree rule."""
    g = np.random.default_rng(seed)
    N, m = 400, 6
    n = g.integers(1, m + 1, N)
    power_ = np.where(g.random((N, 1)) < 0.3, g.integers(0, 4, (N, m)).astype(float),
                      g.random((N, m)))
    power_[g.random((N, m)) < 0.1] = 0.0
    power_[np.arange(m)[None, :] >= n[:, None]] = 0.0
    dist = g.random((N, m, m))
    dist = np.where(g.random((N, 1, 1)) < 0.7, (dist + dist.transpose(0, 2, 1)) / 2, dist)
    dist = np.where(g.random((N, 1, 1)) < 0.2, np.round(dist * 2), dist)
    players = g.integers(0, 1 << m, N) & ((1 << n) - 1)
    players[g.random(N) < 0.05] = 0
    alpha = g.choice([0.5, 0.55, 0.6, 2 / 3, 0.9], N)
    span = g.choice([0.3, 0.5, 1.0, np.inf], N)
    want = np.array([_reference(power_[h], int(players[h]), float(alpha[h]), dist[h],
                                float(span[h])) for h in range(N)])
    idx, near = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    gamma, flags = np.empty(1 << m), np.empty(1 << m, dtype=np.uint8)
    got = np.array([coalitions.ruling_one(power_[h], int(players[h]), float(alpha[h]),
                                          dist[h], float(span[h]), idx, near, gamma, flags)
                    for h in range(N)])
    assert same(got, want)
    # the games are not all of one kind
    assert (want == players).any() and ((want != players) & (want != 0)).any()
    bits_ = (want[:, None] >> np.arange(m)) & 1
    on = (players[:, None] >> np.arange(m)) & 1
    minority = (power_ * bits_).sum(axis=1) < alpha * (power_ * on).sum(axis=1) - 1e-9
    assert minority.any() and (want == 0).any()


@pytest.mark.parametrize("seed", SEEDS)
def test_policy_gap(model: Compiled, seed: int) -> None:
    s, ctx = random_world(model, seed)
    rows = np.flatnonzero(np.random.default_rng(seed).random(s.H) < 0.5)
    assert same(coalitions.policy_gap(s, ctx, rows), coalitions_nb.policy_gap(s, ctx, rows))


@pytest.mark.parametrize("seed", SEEDS)
def test_record_rises(model: Compiled, seed: int) -> None:
    s, _ = random_world(model, seed)
    width = len(RISE_STEPS) + len(model.offices)
    g = np.random.default_rng(seed)
    start = np.where(g.random((s.H, model.P, width)) < 0.3, 2, -1)
    for rung0 in (model.start_rungs(), None, g.integers(0, 5, model.P)):
        a, b = start.copy(), start.copy()
        record_rises(a, model, 8, s.holder, s.rung, s.falls, rung0)
        engine_nb.record_rises(b, model, 8, s.holder, s.rung, s.falls, rung0)
        assert same(a, b) and not same(a, start)


MEETING_KINDS = [0, 1, 2, 3, LEADERSHIP]
"""A session of the state's organs, a plenum, a conference, a congress, the leadership body."""

LEVER_WORLDS = [("soviet-1922", "no_faction_ban"), ("soviet-1922", "trotsky_deputy_chairman"),
                ("china-1976", "faction_ban_in_force")]
"""Worlds whose levers change what motions read: no ban on factions, an office more, a ban."""


def motion_world(model: Compiled, seed: int, kind: int
                 ) -> tuple[State, Context, MeetingC, Any, np.ndarray, np.ndarray, Any]:
    """A random world (``random_world``) where motions come often: high motion rates, short
    ladder gaps, leaders moved against recently or long ago, some who have recanted, some
    under arrest, some followers' shares -0.0; with the meeting, its voting body (the state's
    own ``cc`` for a plenum or a session, so a purge changes the next vote), effective
    standing, activity and restraint."""
    s, ctx = random_world(model, seed)
    g = np.random.default_rng(seed + 70)
    H, P = s.H, model.P
    ctx.params["motion_rate"] = g.uniform(0.2, 1.0, H)
    ctx.params["ladder_gap"] = g.integers(0, 4, H).astype(float)
    s.last_step = g.integers(-3, 12, (H, P))
    s.recant_used = g.random((H, P)) < 0.3
    s.arrested = g.random((H, P)) < 0.1
    s.blind = g.uniform(0, 0.8, H)
    for followers in (s.sec, s.cc):  # signed zeros, which a purge's nothing turns to 0.0
        followers[g.random(followers.shape) < 0.05] = -0.0
    meeting = MeetingC(12, kind, "meeting", 100, 0, 0, order=seed % 2)
    if kind in (0, 1):
        body = None  # the state's own committee: taken from each copy
    elif kind == LEADERSHIP:
        body = clients.leadership_body(s, ctx)
    else:
        body = g.dirichlet(np.ones(P + 1), H)
    act = np.where(g.random((H, P)) < 0.2, 0.3, 1.0)
    restraint = 0.0 if seed % 2 else ctx.params["founder_restraint"]
    return s, ctx, meeting, body, standing.effective(s, ctx), act, restraint


def motions_twins(model: Compiled, kind: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``votes.motions`` and ``votes_nb.motions`` on copies of one world for each seed: equal
    states, and equal expected shares for every motion brought (which the state does not
    keep: ``votes.yes_share`` and what ``votes_nb._decide`` is given, seen through spies);
    and over the seeds the motions did what the meeting may do (falls, failed purges and,
    where its steps allow them, recanting, purges of followers and transfers of offices), so
    the kernel's every branch was compared."""
    seen: dict[str, list[Any]] = {"spec": [], "kernel": []}
    share, decide = votes.yes_share, votes_nb._decide

    def spec_share(*a: Any, **k: Any) -> Any:
        out = share(*a, **k)
        seen["spec"].append((a[3], k["rows"], out))
        return out

    def kernel_decide(i: int, t: int, rows: np.ndarray, step: np.ndarray,
                      partial: np.ndarray, unaligned: np.ndarray, body: np.ndarray,
                      *a: Any) -> None:
        seen["kernel"].append((i, rows.copy(), partial + body[rows, -1] * unaligned))
        decide(i, t, rows, step, partial, unaligned, body, *a)

    monkeypatch.setattr(votes, "yes_share", spec_share)
    monkeypatch.setattr(votes_nb, "_decide", kernel_decide)
    changed: set[str] = set()
    for seed in SEEDS:
        s, ctx, meeting, body, eff, act, restraint = motion_world(model, seed, kind)
        a, b = copy.deepcopy(s), copy.deepcopy(s)
        for f, x in ((votes.motions, a), (votes_nb.motions, b)):
            f(x, ctx, 12, meeting, x.cc if body is None else body, eff, act, restraint,
              transfer_offices)
        assert same_state(a, b) == []
        changed |= set(same_state(s, b))
    assert len(seen["spec"]) == len(seen["kernel"]) > 0
    for (i, rows, exp), (j, rows_k, exp_k) in zip(seen["spec"], seen["kernel"], strict=True):
        assert i == j and same(rows, rows_k) and same(exp, exp_k)
    done = {"rung", "last_step", "falls", "blind", "standing"}
    if kind in (1, 2, 3):
        done |= {"recant_used", "sec", "cc"}
    if kind != LEADERSHIP or model.changeable(LEADERSHIP).any():
        done |= {"holder"}
    assert done <= changed


@pytest.mark.parametrize("kind", MEETING_KINDS)
def test_motions(model: Compiled, kind: int, monkeypatch: pytest.MonkeyPatch) -> None:
    motions_twins(model, kind, monkeypatch)


@pytest.fixture(scope="module", params=LEVER_WORLDS, ids=lambda w: f"{w[0]}:{w[1]}")
def lever_model(request: pytest.FixtureRequest) -> Compiled:
    name, lever = request.param
    s, fixed = apply_levers(load_scenario(name, levers=True), [lever])
    return compile_scenario(s, fixed=fixed)


@pytest.mark.parametrize("kind", MEETING_KINDS)
def test_motions_in_lever_worlds(lever_model: Compiled, kind: int,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    motions_twins(lever_model, kind, monkeypatch)


@pytest.mark.parametrize("kind", MEETING_KINDS)
def test_motions_when_every_meeting_may_take_every_step(model: Compiled, kind: int,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """The kernels take the steps a meeting may take from the file's ``rules.powers``: with
    every step open to every kind of meeting, a congress takes offices and a session seats."""
    motions_twins(dataclasses.replace(model, powers=np.ones_like(model.powers)), kind,
                  monkeypatch)


def odd_powers(s: State, seed: int) -> np.random.Generator:
    """Give about 3% of the powers NaN, 2% infinity and 5% zero; return the generator, which
    the caller draws on further."""
    g = np.random.default_rng(seed)
    odd = g.random(s.power.shape)
    s.power[odd < 0.03] = np.nan
    s.power[(odd >= 0.03) & (odd < 0.05)] = np.inf
    s.power[(odd >= 0.05) & (odd < 0.1)] = 0.0
    return g


@pytest.mark.parametrize("seed", SEEDS)
def test_threat_keenness(model: Compiled, seed: int) -> None:
    """The motions' kernel takes the keenness to unseat a rival from ``votes_nb._threat``
    raised to ``threat_focus`` by NumPy: with NumPy's maximum with the bloc it is
    ``votes.threat_keenness`` bit for bit (NaN for NaN), on powers with zeros, NaNs and
    infinities, and coalitions whose strongest member has no power."""
    s, ctx = random_world(model, seed)
    odd_powers(s, seed + 130)
    bloc = ((s.bloc[:, None] >> np.arange(model.P)) & 1).astype(bool)
    coal = ((s.coalition[:, None] >> np.arange(model.P)) & 1).astype(bool)
    chosen = ~coal & s.in_party() & (s.rung < RUNG["party"])
    rel = votes_nb._threat(s.coalition, s.bloc, s.rung, s.power)
    with np.errstate(invalid="ignore"):  # inf * 0 and the NaNs' comparisons
        got = np.maximum(rel ** ctx.params["threat_focus"][:, None], bloc)
        spec = votes.threat_keenness(s, ctx, chosen)
    # a NaN's sign and payload follow operand order, which a compiler may swap; the motions
    # read the keenness only in a comparison (a draw below the rate), where any NaN is false
    assert same(np.isnan(got), np.isnan(spec)) and np.isnan(spec).any()
    assert same(np.where(np.isnan(got), 0.0, got), np.where(np.isnan(spec), 0.0, spec))
    assert (spec == 1.0).any() and ((spec > 0) & (spec < 1)).any()


def test_motions_with_another_transfer_are_the_numpy_motions() -> None:
    """A caller's own transfer of offices (a test's, say) is called as the specification
    calls it: the compiled twin hands such a call to ``votes.motions``."""
    model = compile_scenario(load_scenario("soviet-1922"))
    s, ctx, meeting, _, eff, act, restraint = motion_world(model, 1, 1)
    calls: list[list[int]] = []

    def spy(state: State, c: Context, t: int, where: np.ndarray, loser: int,
            **kw: Any) -> None:
        calls.append([loser, int(where.sum())])
        transfer_offices(state, c, t, where, loser, **kw)

    a, b = copy.deepcopy(s), copy.deepcopy(s)
    votes.motions(a, ctx, 12, meeting, a.cc, eff, act, restraint, transfer_offices)
    votes_nb.motions(b, ctx, 12, meeting, b.cc, eff, act, restraint, spy)
    assert same_state(a, b) == [] and calls and all(n > 0 for _, n in calls)


def administrative_twins(model: Compiled) -> None:
    """``votes.administrative`` and ``votes_nb.administrative`` on copies of random worlds
    where many leaders are expelled or exiled (rungs from the whole ladder, some who have
    recanted, some under arrest, last steps this month or earlier, the rates anywhere in
    [0, 1]): equal states, and over the seeds every step was taken somewhere (capitulation,
    exile, deportation, readmission), so each branch of the kernel was compared."""
    changed: set[str] = set()
    t = 12
    for _, s, ctx, g in random_worlds(model, 90):
        H, P = s.H, model.P
        s.rung = np.where(g.random((H, P)) < 0.4, g.integers(0, len(LADDER) + 1, (H, P)),
                          g.integers(RUNG["party"], RUNG["exile"] + 1, (H, P)))
        s.last_step = g.integers(t - 3, t + 1, (H, P))
        s.recanted = g.random((H, P)) < 0.4
        s.recant_used = g.random((H, P)) < 0.4
        s.arrested = g.random((H, P)) < 0.3
        for name in ("capitulation_rate", "exile_rate", "deport_rate", "readmission_rate"):
            ctx.params[name] = np.where(g.random(H) < 0.1, 0.0, g.uniform(0, 1, H))
        a, b = copy.deepcopy(s), copy.deepcopy(s)
        votes.administrative(a, ctx, t)
        votes_nb.administrative(b, ctx, t)
        assert same_state(a, b) == []
        changed |= set(same_state(s, b))
        for rung in (RUNG["exile"], RUNG["deportation"], RUNG["central_committee"]):
            assert ((b.rung == rung) & (s.rung != rung)).any()
        assert (b.recanted & ~s.recanted).any()
    assert {"rung", "last_step", "falls", "recanted", "recant_used", "arrested"} <= changed


def test_administrative(model: Compiled) -> None:
    administrative_twins(model)


def test_administrative_in_lever_worlds(lever_model: Compiled) -> None:
    administrative_twins(lever_model)


def test_threat_keenness_twin(model: Compiled) -> None:
    """``votes.threat_keenness`` and ``votes_nb.threat_keenness`` (which the month's arrests
    read) on random worlds, for the leaders the month chooses (outside the coalition, in the
    party) and for any others, on powers with zeros, NaNs and infinities: the same bits but
    for NaNs' sign and payload (as ``test_threat_keenness`` says, only comparisons read it)."""
    for seed in SEEDS:
        s, ctx = random_world(model, seed)
        g = odd_powers(s, seed + 110)
        month = ~bits(s.coalition, model.P) & s.in_party() & (s.rung < RUNG["party"])
        for chosen in (month, g.random((s.H, model.P)) < 0.5):
            with np.errstate(invalid="ignore"):
                a = votes.threat_keenness(s, ctx, chosen)
                b = votes_nb.threat_keenness(s, ctx, chosen)
            assert same(np.isnan(a), np.isnan(b)) and np.isnan(a).any()
            assert same(np.where(np.isnan(a), 0.0, a), np.where(np.isnan(b), 0.0, b))
            assert (a == 1.0).any() and ((a > 0) & (a < 1)).any()


def test_arrest() -> None:
    """``arrest.apply`` and ``arrest_nb.apply`` on copies of random worlds of the scenario
    with a security office, where arrests come often (rates up to 1, a long window, some
    followers' shares -0.0, restraint or none): equal states, and over the seeds arrests took
    offices, seats and followers, so each branch of the kernel was compared."""
    model = compile_scenario(load_scenario("china-1976"))
    assert model.security_offices().any()
    changed: set[str] = set()
    t = 12
    for seed, s, ctx, g in random_worlds(model, 120):
        H, P = s.H, model.P
        ctx.params["arrest_rate"] = np.where(g.random(H) < 0.1, 0.0, g.uniform(0.3, 1.0, H))
        ctx.params["arrest_window"] = g.uniform(5, 100, H)
        for followers in (s.sec, s.cc):
            followers[g.random(followers.shape) < 0.05] = -0.0
        chosen = ~bits(s.coalition, P) & s.in_party() & (s.rung < RUNG["party"])
        keen = votes.threat_keenness(s, ctx, chosen)
        restraint = 0.0 if seed % 2 else ctx.params["founder_restraint"]
        a, b = copy.deepcopy(s), copy.deepcopy(s)
        arrest.apply(a, ctx, t, 3, keen, restraint, transfer_offices)
        arrest_nb.apply(b, ctx, t, 3, keen, restraint, transfer_offices)
        assert same_state(a, b) == []
        changed |= set(same_state(s, b))
    assert {"rung", "last_step", "falls", "arrested", "holder", "sec", "cc"} <= changed


def fill_seats_twins(model: Compiled) -> None:
    """``clients.fill_seats`` and ``clients_nb.fill_seats`` on copies of random worlds with
    bodies of every size from empty to larger than all who could sit (several vacancies,
    none, more than candidates), the body resized or not, and ties in the CC followings and
    the clients' loyalties (the first of equals wins in both): equal states; and where the
    scenario names clients, seats were filled, by several rounds in some history."""
    rounds = 0
    for seed in SEEDS:
        s, ctx = random_world(model, seed)
        g = np.random.default_rng(seed + 110)
        H, P, C = s.H, model.P, len(model.clients)
        s.pb_size = g.integers(0, P + C + 2, H)
        tie = g.random(H) < 0.2
        s.cc[tie, 1] = s.cc[tie, 0]
        s.cc[:, :P][g.random((H, P)) < 0.1] = 0.25
        if C:
            s.client_loyalty[g.random((H, C)) < 0.2] = 0.75
        for target in (0, int(g.integers(P, P + C + 1))):
            a, b = copy.deepcopy(s), copy.deepcopy(s)
            clients.fill_seats(a, ctx, 10, target)
            clients_nb.fill_seats(b, ctx, 10, target)
            assert same_state(a, b) == []
            new = (b.client_seat & ~s.client_seat).sum(axis=1)
            assert not C or new.any()
            rounds = max(rounds, int(new.max()))
    assert not model.clients or rounds >= 2


def test_fill_seats(model: Compiled) -> None:
    fill_seats_twins(model)


def test_fill_seats_in_lever_worlds(lever_model: Compiled) -> None:
    fill_seats_twins(lever_model)


def test_a_single_draw_in_a_kernel_is_the_streams_draw() -> None:
    """``rng.uniform_at`` and ``rng.normal_at`` (one draw, in a kernel) give the bits
    ``rng.uniforms`` and ``rng.normals`` give at the same coordinates, for histories far
    apart and every column; the normals reach both branches of the quantile (|z| > 1.3)."""
    index = np.array([0, 1, 7, 1234, 2**40 + 3], dtype=np.int64)
    u = rng.uniforms(5, index, 17, "administrative:2", 9)
    key = rng.stream(5, 17, "administrative:2")
    got = np.array([[rng.uniform_at(key, int(x), j) for j in range(9)] for x in index])
    assert same(got, u) and same(u, rng.uniforms_reference(5, index, 17, "administrative:2", 9))
    many = np.arange(3000, dtype=np.int64) * 7919
    z = rng.normals(2, many, 40, "vote:1", 7)
    key = rng.stream(2, 40, "vote:1")
    got = np.array([[rng.normal_at(key, int(x), j) for j in range(7)] for x in many])
    assert same(got, z) and (np.abs(z) > 1.3).any() and (np.abs(z) < 1.3).any()


def test_the_kernels_keep_fused_multiply_add_out() -> None:
    """A kernel compiled to fuse dx*dx + dy*dy into one rounding would differ from NumPy in
    the last bit for some inputs: among these random pairs some do differ when fused (worked
    out exactly with fractions), and the kernel agrees with NumPy on all of them."""
    from fractions import Fraction

    g = np.random.default_rng(5)
    dx, dy = g.uniform(0, 1, 2000), g.uniform(0, 1, 2000)
    sal = np.ones((2000, 2))
    spec = policy.apart(np.stack([dx, dy], axis=1), np.zeros((2000, 2)), sal)
    fused = np.array([np.sqrt(float(Fraction(x) * Fraction(x) + Fraction(y * y)))
                      for x, y in zip(dx, dy, strict=True)])
    assert (fused != spec).any()
    got = np.array([policy_nb.apart2(x, y, 0.0, 0.0, 1.0, 1.0)
                     for x, y in zip(dx, dy, strict=True)])
    assert same(got, spec)


HISTORY_FIELDS = ("winner", "consolidation", "falls", "tallies", "coalition", "power",
                  "first_rule", "rises", "params")


def assert_same_histories(model: Compiled, index: np.ndarray) -> None:
    a = simulate(model, 1, index, keep_power=True, engine="numpy")
    b = simulate(model, 1, index, keep_power=True, engine="compiled")
    assert [f for f in HISTORY_FIELDS if not same(getattr(a, f), getattr(b, f))] == []


@pytest.mark.parametrize("name", ["soviet-1922", "china-1976"])
def test_whole_runs_are_identical(name: str) -> None:
    assert_same_histories(compile_scenario(load_scenario(name)), np.arange(1500))


def test_the_tiny_scenario_runs_identically() -> None:
    """The three-leader test scenario, its missing constants and priors the built-in's."""
    base = load_scenario("soviet-1922")
    d = yaml.safe_load(TINY.read_text())
    for k, q in base.constants.items():
        d["constants"].setdefault(k, q.model_dump(exclude_none=True))
    for n, p in base.parameters.items():
        d["parameters"].setdefault(n, p.model_dump(exclude_none=True))
    assert_same_histories(compile_scenario(Scenario.model_validate(d)), np.arange(600))


def test_every_lever_world_runs_identically() -> None:
    base = load_scenario("soviet-1922", levers=True)
    for lv in base.levers:
        s, fixed = apply_levers(base, [lv.id])
        assert_same_histories(compile_scenario(s, fixed=fixed), np.arange(150, 350))


def test_a_recorded_run_is_the_numpy_run() -> None:
    m = compile_scenario(load_scenario("soviet-1922"))
    assert switch.mechanisms("compiled", record_log=True) is switch.SPEC
    assert switch.mechanisms("compiled") is engine_nb.COMPILED
    a = simulate(m, 2, np.arange(20), record_log=True, engine="compiled")
    b = simulate(m, 2, np.arange(20), record_log=True, engine="numpy")
    assert a.log == b.log and same(a.coalition, b.coalition)


def test_an_unknown_engine_is_an_error() -> None:
    m = compile_scenario(load_scenario("soviet-1922"))
    with pytest.raises(ValueError, match="engine: expected one of numpy, compiled"):
        simulate(m, 1, np.arange(3), engine="fortran")


def test_the_default_engine_can_be_set() -> None:
    assert switch.default_engine() == switch.DEFAULT_ENGINE
    try:
        switch.set_default_engine("numpy")
        assert switch.mechanisms() is switch.SPEC
    finally:
        switch.set_default_engine(switch.DEFAULT_ENGINE)
    assert switch.mechanisms() is (engine_nb.COMPILED if switch.DEFAULT_ENGINE == "compiled"
                                   else switch.SPEC)
    with pytest.raises(ValueError, match="engine: expected one of"):
        switch.set_default_engine("fortran")
