"""A named client's death (``clients.die``, docs/model.md section 7.9): a dated event of the
scenario (``kind: death``). From its month the client holds no seat, votes for nobody, counts for
nobody's power, is never seated, placed, switched or asked to sign again, and his offices go to
the ruling coalition (a ``client_office`` on to a living client). Tested on hand-made states of
the built-in Soviet model, in the engine (recorded runs), in the validator and in the chronicle.
No historical outcome is pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import edited_builtin, mech_ctx, mech_state

from politburo.chronicle.prose import Words, sentence
from politburo.engine.mechanisms import clients, clients_nb, coalitions
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.month import simulate
from politburo.engine.state import Context, State, to_mask
from politburo.scenario.compile import CLIENT, Compiled, compile_scenario
from politburo.scenario.loader import ScenarioError, load_scenario
from politburo.scenario.schema import Scenario
from politburo.web.narrative import Names, tell

H = 4


@pytest.fixture(scope="module")
def world() -> tuple[Scenario, Compiled]:
    s = load_scenario("soviet-1922")
    return s, compile_scenario(s)


def _ruled(m: Compiled, st: State, *members: str) -> None:
    c = np.zeros((st.H, m.P), dtype=bool)
    c[:, [m.index(a) for a in members]] = True
    st.coalition = to_mask(c)


def _stalins(m: Compiled) -> np.ndarray:
    return np.flatnonzero(m.client_patron == m.index("stalin"))


def _setup(m: Compiled, record: bool = True) -> tuple[Context, State, int, int]:
    """Stalin and Bukharin rule; Stalin's most loyal client ``c`` sits and holds the War
    Commissariat (flagged ``client_office`` in the built-in file); ``d`` is his next."""
    ctx, st = mech_ctx(m, H), mech_state(m, H, record_log=record)
    _ruled(m, st, "stalin", "bukharin")
    st.power[:] = 0.1
    st.power[:, m.index("stalin")] = 0.4
    mine = _stalins(m)
    c, d = int(mine[0]), int(mine[1])
    st.client_loyalty[:] = 0.6
    st.client_loyalty[:, c] = 0.95
    st.client_loyalty[:, d] = 0.9
    st.client_seat[:, c] = True
    st.holder[:, m.offices.index("war")] = CLIENT - c
    return ctx, st, c, d


def test_a_dead_client_leaves_his_seat_votes_for_nobody_and_his_office_is_refilled(
        world: tuple[Scenario, Compiled]) -> None:
    _, m = world
    ctx, st, c, d = _setup(m)
    stalin, war = m.index("stalin"), m.offices.index("war")
    votes_before = clients.politburo_votes(st, ctx)[:, stalin]
    power_before = clients.office_power(st, ctx)[:, stalin]
    assert (power_before > 0).all() and (votes_before > 1).all()
    clients.die(st, ctx, 30, c, transfer_offices, "a_death")
    assert not st.client_seat[:, c].any() and not st.client_alive[:, c].any()
    assert st.client_alive[:, d].all()
    # his seat's vote and his office's weight are gone with him ...
    assert np.allclose(clients.politburo_votes(st, ctx)[:, stalin], votes_before - 0.95)
    assert (st.holder != CLIENT - c).all()
    # ... and the flagged office went to the coalition, whose strongest member (Stalin)
    # placed his most loyal living client without a post in it
    assert (st.holder[:, war] == CLIENT - d).all()
    assert np.allclose(clients.office_power(st, ctx)[:, stalin], 0.9 * m.office_weight[war])
    assert st.log is not None
    kinds = [e["kind"] for e in st.log[0]]
    assert kinds == ["death", "office", "client_office"]
    death = st.log[0][0]
    assert death["client"] == m.clients[c] and death["seat"] is True
    assert death["offices"] == [m.office_names[war]] and death["patron"] == "stalin"
    assert death["event"] == "a_death" and death["step"] == 30


def test_an_unflagged_office_stays_with_the_coalition(world: tuple[Scenario, Compiled]) -> None:
    _, m = world
    ctx, st, c, _ = _setup(m, record=False)
    plain = m.offices.index("comintern")
    st.holder[:, m.offices.index("war")] = m.index("trotsky")
    st.holder[:, plain] = CLIENT - c
    clients.die(st, ctx, 30, c, transfer_offices)
    got = st.holder[:, plain]
    assert np.isin(got, [m.index("stalin"), m.index("bukharin")]).all()


def test_a_dead_client_is_never_seated_again(world: tuple[Scenario, Compiled]) -> None:
    """Stalin alone rules and has two clients left unseated; the most loyal of them dies
    before a meeting fills two vacant seats: the other is seated, then no one (both engines
    give the same state)."""
    _, m = world
    ctx, st, c, d = _setup(m, record=False)
    _ruled(m, st, "stalin")
    mine = _stalins(m)
    st.client_seat[:] = True
    st.client_seat[:, [c, d]] = False  # two of Stalin's clients are unseated
    st.client_patron[:, ~np.isin(np.arange(len(m.clients)), mine)] = m.index("stalin")
    clients.die(st, ctx, 30, c, transfer_offices)
    st.pb_size[:] = 100  # room for everyone
    a = st
    b = type(st)(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
                    for k, v in vars(st).items()})
    clients.fill_seats(a, ctx, 31, 0)
    clients_nb.fill_seats(b, ctx, 31, 0)
    assert a.client_seat[:, d].all() and not a.client_seat[:, c].any()
    assert np.array_equal(a.client_seat, b.client_seat)


def test_a_dead_client_changes_no_patron_and_signs_nothing(
        world: tuple[Scenario, Compiled]) -> None:
    """Every client's patron stands outside the coalition with loyalty below one half: the
    living switch, the dead do not (both engines); a lone mover's dead client never signs."""
    _, m = world
    for drift in (clients.drift, clients_nb.drift):
        ctx, st, c, d = _setup(m, record=False)
        _ruled(m, st, "bukharin")
        st.client_patron[:] = m.index("stalin")
        st.client_loyalty[:] = 0.3
        st.client_alive[:, c] = False
        drift(st, ctx, 40)
        assert (st.client_patron[:, c] == m.index("stalin")).all()
        assert (st.client_patron[:, d] == m.index("bukharin")).all()
    ctx, st, c, d = _setup(m, record=False)
    st.client_patron[:] = m.index("trotsky")
    st.client_loyalty[:] = 1.0  # every living follower signs
    st.client_alive[:, c] = False
    _, signers = coalitions.followers_sign(st, ctx, 40, np.full(H, m.index("trotsky")))
    assert not signers[:, c].any() and signers[:, d].all()


def test_offices_to_clients_passes_over_the_dead(world: tuple[Scenario, Compiled]) -> None:
    _, m = world
    ctx, st, c, d = _setup(m, record=False)
    war = m.offices.index("war")
    st.client_alive[:, c] = False
    st.holder[:, war] = m.index("trotsky")
    before = st.holder.copy()
    st.holder[:, war] = m.index("stalin")
    clients.offices_to_clients(st, ctx, 12, 1, before)
    assert (st.holder[:, war] == CLIENT - d).all()


def _deaths_removed(d: dict[str, Any]) -> None:
    d["events"] = [e for e in d["events"] if e["kind"] != "death"]


def test_in_the_engine_the_dead_hold_nothing_from_their_month(
        world: tuple[Scenario, Compiled], tmp_path: Path) -> None:
    """Recorded runs of the built-in file: each death is logged once per history in its
    month, and no later promotion, post or change of patron names the dead man. Without the
    death events the histories are those of a file that never had them; with them some
    history differs."""
    s, m = world
    deaths = [e for e in m.events if e.kind == "death"]
    assert deaths
    h = simulate(m, 1, np.arange(40), record_log=True)
    assert h.log is not None
    for log in h.log:
        for e in deaths:
            name = m.clients[e.client]
            died = [x for x in log if x["kind"] == "death" and x["client"] == name]
            assert [x["step"] for x in died] == [e.start]
            later = [x for x in log if x["step"] >= e.start and x.get("client") == name
                     and x["kind"] in ("promotion", "client_office", "client_switch")]
            assert later == []
    plain = compile_scenario(load_scenario(edited_builtin(tmp_path, _deaths_removed)))
    assert not any(e.kind == "death" for e in plain.events)
    a, b = simulate(plain, 1, np.arange(300)), simulate(m, 1, np.arange(300))
    disabled = compile_scenario(s.model_copy(update={"events": tuple(
        e.model_copy(update={"enabled": False}) if e.kind == "death" else e
        for e in s.events)}))
    c = simulate(disabled, 1, np.arange(300))
    assert all(np.array_equal(getattr(a, k), getattr(c, k))
               for k in ("winner", "falls", "coalition", "rises", "first_rule"))
    assert not all(np.array_equal(getattr(a, k), getattr(b, k))
                   for k in ("falls", "coalition", "rises"))


def _error(tmp_path: Path, event: dict[str, Any]) -> str:
    def edit(d: dict[str, Any]) -> None:
        d["events"].append({"id": "a_death", "kind": "death", "month": "1925-10",
                            "source": "S28", **event})
    p = edited_builtin(tmp_path, edit)
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert str(p) in msg
    return msg


def test_a_death_is_validated(tmp_path: Path) -> None:
    msg = _error(tmp_path, {"actor": "stalin"})
    assert "events." in msg and ".actor" in msg
    assert "a principal's death is not supported" in msg and "expected a named client" in msg
    assert "'lenin' is the founder" in _error(tmp_path, {"actor": "lenin"})
    assert "founder_death" in _error(tmp_path, {"actor": "lenin"})
    assert "needs 'actor'" in _error(tmp_path, {})
    assert "takes nothing else" in _error(tmp_path, {"actor": "frunze", "targets": ["stalin"]})
    assert "takes nothing else" in _error(tmp_path, {"actor": "frunze", "until": "1926-01"})
    assert "names nothing" in _error(tmp_path, {"actor": "frunz"}) or "not in the scenario" in (
        _error(tmp_path, {"actor": "frunz"}))
    twice = _error(tmp_path, {"actor": "frunze"})  # the built-in file already has his death
    assert "'frunze' already dies in event frunze_death" in twice


def test_the_chronicle_tells_the_death_and_what_fell_vacant(
        world: tuple[Scenario, Compiled]) -> None:
    s, _ = world
    words, names = Words.of(s), Names.of(s)
    ev = {"kind": "death", "step": 34, "actors": [], "client": "frunze", "patron": "zinoviev",
          "seat": True, "offices": ["Commissar of War"], "body": "",
          "because": "his death is a dated fact of the scenario, not an outcome"}
    assert sentence(ev, words) == ("Frunze, Zinoviev's client, died; his seat in the Politburo "
                                   "fell vacant, and so did the post of Commissar of War.")
    assert sentence({**ev, "seat": False}, words) == (
        "Frunze, Zinoviev's client, died; the post of Commissar of War fell vacant.")
    assert sentence({**ev, "seat": False, "offices": []}, words).endswith(
        "died; he held no seat in the Politburo and no post.")
    told = tell({"kind": "death", "actors": [], "details": {k: v for k, v in ev.items()
                                                            if k not in ("kind", "actors")}},
                names, [], {})
    assert told == ("Frunze died, and his seat in the Politburo and his post (Commissar of "
                    "War) were free for someone else.")
