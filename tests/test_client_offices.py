"""Offices a client takes later (``clients.offices_to_clients``, docs/model.md section 7.9): an
office the file flags ``client_office`` that changes hands at a meeting and goes to the ruling
coalition is placed by the coalition's strongest member with his most loyal client who holds no
office. Tested on the built-in Soviet file with one office flagged: the mechanism on hand-made
states (flagged against unflagged, who is strongest, who is most loyal, who already holds a
post), its indifference to whom the indices name, and in the engine. No historical outcome is
pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import edited_builtin, mech_ctx, mech_state

from politburo.chronicle.story import rerun, to_text, write_chronicle
from politburo.engine.mechanisms import clients
from politburo.engine.month import simulate
from politburo.engine.state import State, to_mask
from politburo.scenario.compile import CLIENT, Compiled, compile_scenario
from politburo.scenario.labels import called
from politburo.scenario.loader import ScenarioError, load_scenario
from politburo.scenario.schema import Scenario
from politburo.web.narrative import Names, tell

FLAGGED, PLAIN = "war", "comintern"  # neither has patronage or security


def _flag(*offices: str, value: Any = True) -> Any:
    """Flag ``offices`` with ``value`` and no other office (the built-in file flags some)."""
    def edit(d: dict[str, Any]) -> None:
        for o in d["offices"]:
            o.pop("client_office", None)
            if o["id"] in offices:
                o["client_office"] = value
    return edit


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, Compiled]:
    s = load_scenario(edited_builtin(tmp_path_factory.mktemp("co"), _flag(FLAGGED)))
    return s, compile_scenario(s)


@pytest.fixture(scope="module")
def unflagged(tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    return compile_scenario(load_scenario(edited_builtin(tmp_path_factory.mktemp("un"), _flag())))


def _coalition(m: Compiled, H: int, *members: str) -> np.ndarray:
    c = np.zeros((H, m.P), dtype=bool)
    c[:, [m.index(a) for a in members]] = True
    return to_mask(c)


def test_a_flagged_office_goes_to_the_strongest_members_most_loyal_free_client(
        world: tuple[Scenario, Compiled]) -> None:
    """Rows: 0 Stalin strongest; 1 Bukharin strongest; 2 Stalin's most loyal client already
    holds a post; 3 no coalition; 4 the office did not change hands; 5 it went to a leader
    outside the coalition. Only the flagged office moves on, and only in rows 0-2."""
    _, m = world
    H = 6
    ctx, st = mech_ctx(m, H), mech_state(m, H, record_log=True)
    i = {a: m.index(a) for a in m.principals}
    w, plain, pravda = m.offices.index(FLAGGED), m.offices.index(PLAIN), m.offices.index("pravda")
    st.coalition = _coalition(m, H, "stalin", "bukharin")
    st.coalition[3] = 0
    st.power[:] = 0.1
    st.power[:, i["stalin"]] = 0.3
    st.power[1, i["bukharin"]] = 0.4
    stalins = np.flatnonzero(m.client_patron == i["stalin"])[::-1]  # the file's last first
    st.client_loyalty[:] = 0.6
    st.client_loyalty[:, stalins[0]] = 0.95  # his most loyal
    st.client_loyalty[:, stalins[1]] = 0.9  # his next
    bukharins = np.flatnonzero(m.client_patron == i["bukharin"])
    st.holder[2, pravda] = CLIENT - stalins[0]  # already holds a post
    before = st.holder.copy()
    st.holder[:, w] = i["bukharin"]  # both offices went to a coalition member ...
    st.holder[:, plain] = i["bukharin"]
    before[4, w] = i["bukharin"]  # ... except here, where nothing changed hands
    st.holder[5, w] = i["trotsky"]  # and here, where it went outside the coalition
    clients.offices_to_clients(st, ctx, 9, 1, before, "a plenum")
    assert st.holder[0, w] == CLIENT - stalins[0]
    assert st.holder[1, w] == CLIENT - bukharins[np.argmax(st.client_loyalty[1, bukharins])]
    assert st.holder[2, w] == CLIENT - stalins[1]
    assert st.holder[3, w] == i["bukharin"] and st.holder[4, w] == i["bukharin"]
    assert st.holder[5, w] == i["trotsky"]
    assert (st.holder[:, plain] == i["bukharin"]).all()  # unflagged: stays with the coalition
    assert st.log is not None
    rec = [e for e in st.log[0] if e["kind"] == "client_office"]
    assert len(rec) == 1 and rec[0]["actors"] == ["stalin"] and rec[0]["from"] == "bukharin"
    assert rec[0]["client"] == m.clients[stalins[0]] and rec[0]["body"] == "a plenum"
    assert [len([e for e in log if e["kind"] == "client_office"]) for log in st.log] == [
        1, 1, 1, 0, 0, 0]


def test_the_office_counts_for_the_patron_and_a_patron_without_a_free_client_keeps_it(
        world: tuple[Scenario, Compiled]) -> None:
    from politburo.engine.mechanisms import standing
    from politburo.engine.mechanisms.power import power_parts

    _, m = world
    H = 2
    ctx, st = mech_ctx(m, H), mech_state(m, H)
    i = m.index("zinoviev")
    w = m.offices.index(FLAGGED)
    st.coalition = _coalition(m, H, "zinoviev")
    st.power[:, i] = 0.9
    mine = np.flatnonzero(m.client_patron == i)
    st.holder[1, :len(mine)] = CLIENT - mine  # row 1: every one of his clients holds a post
    before = st.holder.copy()
    before[:, w] = m.index("trotsky")
    st.holder[:, w] = i
    eff = standing.effective(st, ctx)
    held = power_parts(st, ctx, eff, np.ones((H, m.P)))["apparatus"][0, i]
    clients.offices_to_clients(st, ctx, 4, 1, before)
    assert st.holder[0, w] <= CLIENT and st.holder[1, w] == i
    c = CLIENT - st.holder[0, w]
    # his client's post counts for him as far as the client is loyal (section 7.1)
    now = power_parts(st, ctx, eff, np.ones((H, m.P)))["apparatus"][0, i]
    scale = (1 - ctx.params["prestige_weight"][0]) / sum(
        m.constants[f"power_weight_{b}"] for b in ("cc", "politburo", "offices"))
    lost = scale * m.constants["power_weight_offices"] * m.office_weight[w] / m.office_weight.sum()
    assert now == pytest.approx(held - lost * (1 - st.client_loyalty[0, c]))


def _random_state(m: Compiled, H: int, g: np.random.Generator) -> tuple[State, np.ndarray]:
    st = mech_state(m, H)
    C = len(m.clients)
    st.coalition = to_mask(g.random((H, m.P)) < 0.5)
    st.power = g.dirichlet(np.ones(m.P), size=H)
    st.client_patron = g.integers(0, m.P, size=(H, C))
    st.client_loyalty = g.permutation(np.linspace(0.5, 0.99, C))[None, :].repeat(H, 0)
    before = g.integers(0, m.P, size=st.holder.shape)
    st.holder = before.copy()
    moved = g.random(st.holder.shape) < 0.6
    st.holder[moved] = g.integers(0, m.P, size=int(moved.sum()))
    return st, before


def test_the_rule_reads_the_state_not_the_names(world: tuple[Scenario, Compiled]) -> None:
    """Relabelling the leaders (a permutation of the principal indices in every array that
    holds one) relabels the outcome and changes nothing else; so does relabelling the clients
    (their loyalties distinct). Whom a post goes to follows from power, membership and
    loyalty, not from whom an index names."""
    _, m = world
    H, P, C = 64, m.P, len(m.clients)
    g = np.random.default_rng(12)
    st, before = _random_state(m, H, g)
    pi, sigma = g.permutation(P), g.permutation(C)

    def relabel(s: State, b: np.ndarray) -> tuple[State, np.ndarray]:
        t = mech_state(m, H)
        bits = (s.coalition[:, None] >> np.arange(P)) & 1
        t.coalition = to_mask(bits[:, np.argsort(pi)].astype(bool))
        t.power = s.power[:, np.argsort(pi)]
        t.client_patron = pi[s.client_patron][:, np.argsort(sigma)]
        t.client_loyalty = s.client_loyalty[:, np.argsort(sigma)]

        def code(x: np.ndarray) -> np.ndarray:
            return np.where(x >= 0, pi[np.maximum(x, 0)],
                            np.where(x <= CLIENT, CLIENT - sigma[np.maximum(CLIENT - x, 0)], x))
        t.holder = code(s.holder)
        return t, code(b)

    ctx = mech_ctx(m, H)
    other, other_before = relabel(st, before)
    clients.offices_to_clients(st, ctx, 5, 1, before)
    clients.offices_to_clients(other, ctx, 5, 1, other_before)
    assert (st.holder <= CLIENT).any()  # not idle: some posts went to clients
    assert np.array_equal(other.holder, relabel(st, before)[0].holder)


def test_in_the_engine_only_the_flagged_office_goes_to_clients_and_else_nothing_moves(
        world: tuple[Scenario, Compiled], unflagged: Compiled) -> None:
    """Against the same file unflagged, a history in which no client took a post is the same
    bit for bit; where one did, the post is the flagged one, taken at a meeting or in the month
    a named client died and left it vacant (``clients.die``)."""
    s, m = world
    base = unflagged
    H = 300
    a = simulate(m, 1, np.arange(H), record_log=True)
    b = simulate(base, 1, np.arange(H))
    assert a.log is not None
    took = {k for k, log in enumerate(a.log) for e in log if e["kind"] == "client_office"}
    assert 0 < len(took) < H
    names = {mt.name for mt in m.meetings}
    office = m.office_names[m.offices.index(FLAGGED)]
    for log in a.log:
        deaths = {e["step"] for e in log if e["kind"] == "death"}
        for e in log:
            if e["kind"] == "client_office":
                assert e["office"] == office
                assert e["body"] in names or (e["body"] == "" and e["step"] in deaths)
                assert e["client"] in m.clients and e["actors"][0] in m.principals
    rest = np.array([k not in took for k in range(H)])
    for f in ("winner", "falls", "coalition", "first_rule", "rises"):
        assert np.array_equal(getattr(a, f)[rest], getattr(b, f)[rest]), f
    k = min(took)
    c = write_chronicle(s, m, rerun(m, 1, k))
    ev = next(e for e in c.events if e.kind == "client_office")
    patron, client = ev.actors[0], str(ev.details["client"])
    text = " ".join(to_text(c, width=10_000).split())
    name = called(s)
    assert f"{name[patron]} placed his client {name[client]} in " in ev.text
    assert ev.text in text and ev.causes[0].startswith("mechanism: clients")
    web = tell({"kind": "client_office", "actors": [patron], "details": ev.details},
               Names.of(s), [], {})
    assert web.startswith(f"{name[patron]} gave a post") and name[client] in web


@pytest.mark.parametrize("office, value, needles", [
    (FLAGGED, "maybe", ("offices.2.client_office", "expected true or false", "'maybe'")),
    ("general_secretary", True, ("offices.0", "office general_secretary", "client_office",
                                 "patronage", "expected client_office: false")),
])
def test_a_bad_client_office_is_refused_with_the_field_and_what_was_expected(
        tmp_path: Path, office: str, value: Any, needles: tuple[str, ...]) -> None:
    p = edited_builtin(tmp_path, _flag(office, value=value))
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert "edited.yaml" in msg and "line" in msg
    for n in needles:
        assert n in msg, (n, msg)
