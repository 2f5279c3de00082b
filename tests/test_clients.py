"""Clients sit, vote and rise (mechanisms/clients.py), and the coalition marks its
dispensable members (coalitions.form): each rule on a small hand-made state."""

from __future__ import annotations

import numpy as np
from _scenarios import mech_ctx, mech_state

from politburo.engine.mechanisms import clients, coalitions, standing
from politburo.engine.mechanisms.power import power_parts
from politburo.engine.month import simulate
from politburo.engine.state import RUNG, Context, State, pair
from politburo.scenario.compile import Compiled


def _ctx(model: Compiled, H: int = 4, **params: float) -> Context:
    return mech_ctx(model, H, **params)


def _state(model: Compiled, H: int = 4) -> State:
    return mech_state(model, H, record_log=True)


def test_a_seated_client_votes_with_his_patron_as_far_as_his_loyalty(model: Compiled) -> None:
    H = 2
    ctx, s = _ctx(model, H), _state(model, H)
    st = model.index("stalin")
    c = int(np.flatnonzero(model.client_patron == st)[0])
    assert np.array_equal(clients.politburo_votes(s, ctx), s.in_politburo().astype(float))
    s.client_seat[:, c] = True
    s.client_loyalty[:, c] = [1.0, 0.4]
    votes = clients.politburo_votes(s, ctx)
    assert np.allclose(votes[:, st], [2.0, 1.4])
    assert clients.seats_filled(s).tolist() == [8.0, 8.0]
    # his disloyal share belongs to nobody: Stalin's Politburo share is 2/8, then 1.4/8
    eff = standing.effective(s, ctx)
    parts = power_parts(s, ctx, eff, np.ones((H, model.P)))
    assert parts["visible"].shape == (H, model.P)


def test_vacant_seats_go_by_dhondt_to_the_most_loyal_client(model: Compiled) -> None:
    """Two vacancies, two coalition patrons: the one with the larger CC following seats a man
    first, and the second seat goes by the quotient following / (1 + seats held)."""
    H = 3
    ctx, s = _ctx(model, H), _state(model, H)
    i = {a: model.index(a) for a in model.principals}
    st, bu = i["stalin"], i["bukharin"]
    s.coalition[:] = (1 << st) | (1 << bu)
    s.cc[:] = 0.0
    s.cc[:, st] = [0.5, 0.3, 0.5]
    s.cc[:, bu] = [0.2, 0.2, 0.3]
    s.rung[:, i["trotsky"]] = RUNG["politburo"]  # two vacant seats
    s.rung[:, i["zinoviev"]] = RUNG["politburo"]
    s.coalition[2] = 0  # no coalition, no promotion
    clients.fill_seats(s, ctx, 10, 0)
    seated = [[model.clients[c] for c in np.flatnonzero(row)] for row in s.client_seat]
    loyal = {model.clients[c]: model.client_loyalty[c] for c in range(len(model.clients))}
    stalins = sorted((c for c, p in zip(model.clients, model.client_patron, strict=True)
                      if p == st), key=lambda c: -loyal[c])
    bukharins = [c for c, p in zip(model.clients, model.client_patron, strict=True) if p == bu]
    # 0.5 > 0.2 and 0.5/2 > 0.2: both seats to Stalin's two most loyal clients
    assert sorted(seated[0]) == sorted(stalins[:2])
    # 0.3 > 0.2, then 0.3/2 < 0.2: one each
    assert sorted(seated[1]) == sorted([stalins[0], bukharins[0]])
    assert seated[2] == []
    promotions = [e for e in s.log[1] if e["kind"] == "promotion"]
    assert {e["client"] for e in promotions} == set(seated[1])
    # a body enlarged by a congress is filled too
    clients.fill_seats(s, ctx, 11, 9)
    assert (clients.seats_filled(s)[:2] == 9).all()


def test_loyalty_follows_the_patrons_fortunes_and_a_failing_client_switches(
        model: Compiled) -> None:
    H = 2
    ctx, s = _ctx(model, H, client_drift=0.2), _state(model, H)
    i = {a: model.index(a) for a in model.principals}
    st, zi = i["stalin"], i["zinoviev"]
    theirs = np.flatnonzero(model.client_patron == zi)
    c = int(theirs[np.argmin(model.client_loyalty[theirs])])  # his least loyal client
    true = int(theirs[np.argmax(model.client_loyalty[theirs])])  # and his most loyal
    a = model.client_loyalty[c]
    assert a + 0.2 * (a * a - a) >= 0.5 > a * a  # one month does not yet break him; time does
    assert model.client_loyalty[true] ** 2 >= 0.5  # the loyal one settles above one half
    s.coalition[:] = 1 << st
    s.coalition[1] |= 1 << zi  # in the second history his patron rules with Stalin
    s.cc[:, st] = 0.4
    clients.drift(s, ctx, 5)
    anchor = model.client_loyalty[c]
    assert np.isclose(s.client_loyalty[1, c], anchor)  # unchanged: already at his anchor
    assert np.isclose(s.client_loyalty[0, c], anchor + 0.2 * (anchor * anchor - anchor))
    assert s.client_patron[0, c] == zi
    for t in range(6, 16):
        clients.drift(s, ctx, t)
    assert s.client_patron[0, c] == st and s.client_patron[1, c] == zi
    assert s.client_patron[0, true] == zi  # conviction outlasts the patron's fall
    assert any(e["kind"] == "client_switch" for e in s.log[0])
    # a client whose patron is expelled is bound by the same rule, not sooner (S45): the
    # loyal one stays with him, the least loyal goes once his loyalty falls below one half
    s.client_patron[:, c] = s.client_patron[:, true] = zi
    s.client_loyalty[:, c] = s.client_loyalty[:, true] = 1.0
    s.rung[:, zi] = RUNG["party"]
    clients.drift(s, ctx, 20)
    assert (s.client_patron[:, c] == zi).all()
    for t in range(21, 41):
        clients.drift(s, ctx, t)
    assert (s.client_patron[:, c] == st).all() and (s.client_patron[:, true] == zi).all()


def test_the_core_marks_its_dispensable_members(model: Compiled) -> None:
    """A member is threatened when the core would win without him (AES): everyone outside the
    core, and a core member who is not pivotal; a pivotal member is secure."""
    H = 1
    ctx = _ctx(model, H, apparatus_blindness=0.0, winning_threshold=0.5,
               coalition_span=10.0, aloofness_cost=0.0)
    s = _state(model, H)
    s.position[:] = 0.0
    s.cc[:] = 0.0
    s.cc[:, model.P] = 1.0
    parts = {"apparatus": np.zeros((H, model.P)), "visible": np.full((H, model.P), 0.1)}
    coalitions.form(s, ctx, 0, parts)
    core = ((int(s.core[0]) >> np.arange(model.P)) & 1).astype(bool)
    coal = ((int(s.coalition[0]) >> np.arange(model.P)) & 1).astype(bool)
    assert core.sum() == 4  # seven equals: the smallest majority
    assert coal.all()  # everyone is like-minded here
    assert not s.threatened[0, core].any()  # each of four is pivotal
    assert s.threatened[0, ~core].all()


def test_nobody_is_dispensable_while_a_stronger_rival_stands_outside(model: Compiled) -> None:
    """Balancing against the strongest (Walt 1987; the Politburo against the number-two man,
    S42, S63b): while the strongest player stands outside the coalition, none of its members
    is threatened; once the outsider is weaker than its strongest member, AES's dispensable
    members are threatened again."""
    H, P = 2, model.P
    ctx = _ctx(model, H, apparatus_blindness=0.0, winning_threshold=0.5,
               coalition_span=0.5, aloofness_cost=0.0)
    s = _state(model, H)
    s.position[:] = 0.0
    s.position[:, 0, :] = 1.0  # the first principal shares nobody's line
    s.cc[:] = 0.0
    s.cc[:, P] = 1.0
    visible = np.full((H, P), 0.1)
    visible[0, 0] = 0.3  # history 0: he is the strongest; history 1: the weakest
    visible[1, 0] = 0.05
    coalitions.form(s, ctx, 0, {"apparatus": np.zeros((H, P)), "visible": visible})
    coal = (s.coalition[:, None] >> np.arange(P)) & 1
    assert (coal[:, 0] == 0).all() and (coal[:, 1:] == 1).all()  # the rest rule without him
    assert not s.threatened[0].any()  # they need every hand against him
    assert s.threatened[1, 1:].any()  # a weak outsider: some of them can be spared
    # the same from the spelt-out rule
    perc = visible
    inside = coal.astype(bool)
    players = np.ones((H, P), dtype=bool)
    assert coalitions.rival_outside(perc, players, inside).tolist() == [True, False]


def test_a_grudge_keeps_enemies_out_of_one_coalition(model: Compiled) -> None:
    """Enmity narrows the room two leaders have to agree (``coalitions.grudge``): a pair a
    third of the span apart rules together without a grudge, and not with one of 0.8, which
    leaves them a fifth of the span."""
    H, P = 2, model.P
    ctx = _ctx(model, H, apparatus_blindness=0.0, winning_threshold=0.5,
               coalition_span=0.6, aloofness_cost=0.0)
    s = _state(model, H)
    s.salience[:] = 1.0
    s.position[:] = 0.0
    s.position[:, 1, 0] = 0.2  # one leader stands a third of the span from the rest
    s.cc[:] = 0.0
    s.cc[:, P] = 1.0
    s.enmity[:] = 0.0
    s.enmity[1, pair(1, 0, P)] = 0.8  # in history 1 he has a grudge with another
    coalitions.form(s, ctx, 0, {"apparatus": np.zeros((H, P)),
                                "visible": np.full((H, P), 0.1)})
    coal = (s.coalition[:, None] >> np.arange(P)) & 1
    assert coal[0].all()  # no grudge: everyone shares the line
    assert not (coal[1, 0] and coal[1, 1])  # the enemies do not sit together
    gap = np.full((1, 2, 2), 0.2)
    e = np.array([[[0.0, 0.5], [0.5, 0.0]]])
    assert np.allclose(coalitions.grudge(gap, e), [[[0.2, 0.4], [0.4, 0.2]]])
    assert (coalitions.grudge(gap, np.ones((1, 2, 2))) > 1e9).all()  # a full one rules out


def test_histories_record_when_someone_first_rules_alone(model: Compiled) -> None:
    h = simulate(model, 5, np.arange(300))
    assert h.first_rule is not None
    ruled = h.winner < model.P
    # whoever rules at the end ruled alone at some month, never before anyone first did
    assert (h.first_rule[ruled] >= 0).all()
    assert (h.first_rule[ruled] <= h.consolidation[ruled]).all()
