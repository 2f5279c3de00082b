"""General event kinds of issue 12: a speech, closed or published (a polemic is a published
speech against its targets). Each test asserts a mechanism on constructed inputs or on the
built-in Soviet file edited; none pins a historical outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import edited_builtin, mech_ctx, mech_state

from politburo.engine.histories import Histories
from politburo.engine.mechanisms import standing
from politburo.engine.month import simulate
from politburo.engine.state import pair, square
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.loader import ScenarioError, load_scenario
from politburo.scenario.schema import Scenario

H = 6
SPEECH = {"speech_weight": 0.1, "speech_closed_reach": 0.3}


def _same(a: Histories, b: Histories) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("winner", "falls", "coalition", "first_rule", "rises"))


def _error(tmp_path: Path, edit: Any) -> str:
    return str(pytest.raises(ScenarioError, load_scenario,
                             edited_builtin(tmp_path, edit)).value)


# --- speech -----------------------------------------------------------------------------------

def _speak(model: Compiled, handling: str, targets: tuple[int, ...], **params: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standing and enmity (H, P, P) before and after one speech by principal 0, same
    draws."""
    ctx = mech_ctx(model, H, **{**SPEECH, **params})
    st = mech_state(model, H)
    before = st.standing.copy()
    standing.speech(st, ctx, 3, 0, targets, handling)
    return before, st.standing.copy(), square(st.enmity, model.P)


def test_a_published_programme_speech_moves_its_speaker_more_than_a_closed_one(
        model: Compiled) -> None:
    """Without targets only the speaker's standing moves, by speech_weight times the reach:
    1 in print, speech_closed_reach behind closed doors."""
    before, shut, enmity_shut = _speak(model, "closed", ())
    _, printed, enmity_printed = _speak(model, "published", ())
    gain_shut, gain_printed = shut[:, 0] - before[:, 0], printed[:, 0] - before[:, 0]
    assert np.allclose(gain_printed, 0.1) and np.allclose(gain_shut, 0.1 * 0.3)
    assert (gain_printed > gain_shut).all()
    for after in (shut, printed):
        assert np.array_equal(after[:, 1:], before[:, 1:])  # nothing else moves
    start = square(mech_state(model, H).enmity, model.P)
    assert np.array_equal(enmity_shut, start) and np.array_equal(enmity_printed, start)


def test_a_speech_against_targets_is_a_polemic_scaled_by_its_reach(model: Compiled) -> None:
    before, shut, enmity_shut = _speak(model, "closed", (1, 2), polemic_backlash=0.08,
                                       polemic_enmity=0.5)
    _, printed, enmity_printed = _speak(model, "published", (1, 2), polemic_backlash=0.08,
                                        polemic_enmity=0.5)
    assert np.allclose(before[:, 0] - printed[:, 0], 0.08)
    assert np.allclose(before[:, 1:3] - printed[:, 1:3], 0.04)
    assert np.allclose(before[:, 0] - shut[:, 0], 0.08 * 0.3)
    assert np.allclose(before[:, 1:3] - shut[:, 1:3], 0.04 * 0.3)
    assert np.array_equal(printed[:, 3:], before[:, 3:])
    start = square(mech_state(model, H).enmity, model.P)
    assert np.allclose(enmity_printed[:, 0, 1:3] - start[:, 0, 1:3], 0.5)
    assert np.allclose(enmity_shut[:, 1:3, 0] - start[:, 1:3, 0], 0.15)
    # the polemic is the printed speech, to the last bit
    ctx = mech_ctx(model, H, **SPEECH, polemic_backlash=0.08, polemic_enmity=0.5)
    st = mech_state(model, H)
    standing.polemic(st, ctx, 3, 0, (1, 2))
    assert np.array_equal(st.standing, printed)
    assert np.array_equal(square(st.enmity, model.P), enmity_printed)


def test_an_attack_spares_a_partner_in_the_coalition_or_the_bloc(model: Compiled) -> None:
    """A polemic (and a speech against targets) is not made in the histories where a target
    sits with its author in the ruling coalition or in the organised bloc; where neither holds
    it costs what it always cost. Histories 0-1: author 0 rules with target 1; 2-3: 0 and 2
    share the bloc; 4: 0 rules with 3, who is no target; 5: 1 and 2 rule without 0."""
    ctx = mech_ctx(model, H, **SPEECH, polemic_backlash=0.08, polemic_enmity=0.5)
    st = mech_state(model, H, record_log=True)
    st.coalition[:] = [0b011, 0b111, 0, 0, 0b1001, 0b110]
    st.bloc[:] = [0, 0, 0b101, 0b101, 0, 0]
    made = np.array([False, False, False, False, True, True])
    assert np.array_equal(standing.spares_partners(st, ctx, 0, (1, 2)), made)
    before, enmity = st.standing.copy(), st.enmity.copy()
    standing.polemic(st, ctx, 3, 0, (1, 2))
    assert np.allclose(before[:, 0] - st.standing[:, 0], 0.08 * made)
    assert np.allclose(before[:, 1:3] - st.standing[:, 1:3], 0.04 * made[:, None])
    q = pair(0, 1, model.P)
    assert np.allclose(st.enmity[:, q] - enmity[:, q], 0.5 * made)
    assert [any(e["kind"] == "polemic" for e in log) for log in st.log] == made.tolist()
    # the same rule for a speech against targets; a programme speech has no one to spare
    st2 = mech_state(model, H)
    st2.coalition[:], st2.bloc[:] = st.coalition, st.bloc
    standing.speech(st2, ctx, 3, 0, (1, 2), "published")
    assert np.allclose(before[:, 0] - st2.standing[:, 0], 0.08 * made)
    st3 = mech_state(model, H)
    st3.coalition[:], st3.bloc[:] = st.coalition, st.bloc
    standing.speech(st3, ctx, 3, 0, (), "published")
    assert np.allclose(st3.standing[:, 0] - before[:, 0], 0.1)


def _as_speech(handling: str) -> Any:
    def edit(d: dict[str, Any]) -> None:
        e = next(x for x in d["events"] if x["kind"] == "polemic")
        e["kind"], e["handling"] = "speech", handling
        if handling == "closed":
            d["parameters"]["speech_closed_reach"] = {
                "family": "beta", "a": 2.0, "b": 4.0, "assumption": "test"}
    return edit


def test_the_polemic_coded_as_a_published_speech_gives_the_same_histories(
        tmp_path: Path, scenario: Scenario) -> None:
    """The old kind is kept and is a special case: the Soviet polemic written as a published
    speech against the same targets leaves every history as it was; written as a closed
    speech it changes some."""
    runs = np.arange(300)
    base = simulate(compile_scenario(scenario), 1, runs)
    printed = load_scenario(edited_builtin(tmp_path, _as_speech("published"), "p.yaml"))
    assert _same(base, simulate(compile_scenario(printed), 1, runs))
    shut = load_scenario(edited_builtin(tmp_path, _as_speech("closed"), "c.yaml"))
    assert not _same(base, simulate(compile_scenario(shut), 1, runs))


def test_the_chronicle_tells_a_speech_and_how_far_it_reached(tmp_path: Path) -> None:
    from politburo.chronicle.story import rerun, to_text, write_chronicle

    s = load_scenario(edited_builtin(tmp_path, _as_speech("closed")))
    m = compile_scenario(s)
    text = " ".join(to_text(write_chronicle(s, m, rerun(m, 1, 0)), width=10_000).split())
    line = next(x for x in text.split(". ") if "Lessons of October" in x)
    assert "speech" in line and "closed session" in line and "Zinoviev" in line


@pytest.mark.parametrize("edit, needles", [
    (lambda e, d: e.pop("handling"), ("lessons_of_october", "speech needs", "closed, published")),
    (lambda e, d: e.update(handling="delegations"), ("lessons_of_october", "got 'delegations'")),
    (lambda e, d: e.pop("actor"), ("lessons_of_october", "'actor'")),
    (lambda e, d: d["parameters"].pop("polemic_backlash"),
     ("polemic_backlash", "lessons_of_october is a speech against targets")),
    (lambda e, d: e.update(targets=[]),
     ("speech_weight", "lessons_of_october is a speech without targets")),
])
def test_a_bad_speech_is_refused_with_the_event_and_what_was_expected(
        tmp_path: Path, edit: Any, needles: tuple[str, ...]) -> None:
    def change(d: dict[str, Any]) -> None:
        _as_speech("published")(d)
        edit(next(x for x in d["events"] if x["kind"] == "speech"), d)
    msg = _error(tmp_path, change)
    assert "edited.yaml" in msg
    for n in needles:
        assert n in msg, (n, msg)


def test_a_closed_speech_needs_its_reach_and_a_testament_cannot_be_closed(
        tmp_path: Path) -> None:
    def closed(d: dict[str, Any]) -> None:
        _as_speech("closed")(d)
        del d["parameters"]["speech_closed_reach"]
    msg = _error(tmp_path, closed)
    assert "speech_closed_reach" in msg and "lessons_of_october is a closed speech" in msg

    def testament(d: dict[str, Any]) -> None:
        next(x for x in d["events"] if x["kind"] == "testament")["handling"] = "closed"
    msg = _error(tmp_path, testament)
    assert "testament" in msg and "'closed'" in msg


def test_an_attack_cannot_target_its_own_author(tmp_path: Path) -> None:
    """Enmity is kept between two leaders (``State.enmity`` holds one value per pair), so a
    polemic, a speech or a charge that names its actor among its targets is refused."""
    def self_attack(d: dict[str, Any]) -> None:
        e = next(x for x in d["events"] if x["id"] == "lessons_of_october")
        e["targets"] = [*e["targets"], e["actor"]]
    msg = _error(tmp_path, self_attack)
    assert "lessons_of_october" in msg and "cannot target its own actor (trotsky)" in msg


# --- a founder's document naming a successor ---------------------------------------------------

ENDORSE = {"family": "truncnormal", "mean": 0.1, "sd": 0.08, "low": 0.0, "high": 0.5,
           "assumption": "test"}


def test_an_endorsement_raises_the_named_as_far_as_it_was_made_known(model: Compiled) -> None:
    gains = []
    for exposure in (0.0, 0.3, 1.0):
        ctx = mech_ctx(model, H, endorsement_weight=0.2)
        st = mech_state(model, H)
        before = st.standing.copy()
        standing.endorse(st, ctx, 2, (3,), exposure)
        assert np.array_equal(np.delete(st.standing, 3, axis=1), np.delete(before, 3, axis=1))
        gains.append(st.standing[:, 3] - before[:, 3])
    assert np.allclose(gains[0], 0.0) and np.allclose(gains[1], 0.06)
    assert np.allclose(gains[2], 0.2)


def _note(handling: str, first: bool = True, weight: bool = True) -> Any:
    """A second founder's document, naming a successor, put before (or after) the Testament."""
    def edit(d: dict[str, Any]) -> None:
        note = {"id": "a_note", "kind": "testament", "month": "1924-05", "actor": "lenin",
                "endorses": ["bukharin"], "handling": handling, "assumption": "test"}
        d["events"] = [note, *d["events"]] if first else [*d["events"], note]
        if weight:
            d["parameters"]["endorsement_weight"] = ENDORSE
    return edit


def test_an_unread_note_changes_nothing_and_a_published_one_changes_histories(
        tmp_path: Path, scenario: Scenario) -> None:
    """Kept secret (exposure 0) the note leaves every history as it was, the Testament's motion
    included though the note comes first in the file; published it changes some."""
    runs = np.arange(300)
    base = simulate(compile_scenario(scenario), 1, runs)
    secret = load_scenario(edited_builtin(tmp_path, _note("suppressed"), "s.yaml"))
    assert _same(base, simulate(compile_scenario(secret), 1, runs))
    public = load_scenario(edited_builtin(tmp_path, _note("published", first=False), "p.yaml"))
    assert not _same(base, simulate(compile_scenario(public), 1, runs))


def test_the_chronicle_tells_the_note(tmp_path: Path) -> None:
    from politburo.chronicle.frame import scenario_events
    from politburo.chronicle.prose import Words

    s = load_scenario(edited_builtin(tmp_path, _note("published")))
    told = [e["text"] for e in scenario_events(s, compile_scenario(s), Words.of(s))
            if e["scenario_event"] == "a_note"]
    assert told == ["Lenin's written word naming Bukharin as his successor was made public."]


def test_a_note_needs_its_weight_but_not_the_testaments(tmp_path: Path) -> None:
    msg = _error(tmp_path, _note("published", weight=False))
    assert "endorsement_weight" in msg and "a_note endorses bukharin" in msg

    def only_the_note(d: dict[str, Any]) -> None:
        _note("published")(d)
        d["events"] = [e for e in d["events"] if e["id"] != "testament"]
        d["levers"] = []
        d["bundles"] = []
        for name in ("testament_weight", "testament_removal_support"):
            del d["parameters"][name]
    load_scenario(edited_builtin(tmp_path, only_the_note, "only.yaml"))


@pytest.mark.parametrize("edit, needles", [
    (lambda e: e.update(endorses=["voroshilov"]),
     ("a_note", "endorses 'voroshilov'", "not a principal", "bukharin, kamenev")),
    (lambda e: e.update(kind="polemic", actor="trotsky"),
     ("a_note", "only a testament", "'polemic'")),
])
def test_a_bad_endorsement_is_refused_with_the_event_and_what_was_expected(
        tmp_path: Path, edit: Any, needles: tuple[str, ...]) -> None:
    def change(d: dict[str, Any]) -> None:
        _note("published")(d)
        edit(d["events"][0])
    msg = _error(tmp_path, change)
    assert "edited.yaml" in msg
    for n in needles:
        assert n in msg, (n, msg)


# --- offices held by named clients ------------------------------------------------------------

def _client_holds(holder: str | None, office: str = "pravda") -> Any:
    """The built-in file with ``office`` held by ``holder`` and no office open to clients later
    (the file flags some ``client_office``; here only the office held from the start counts)."""
    def edit(d: dict[str, Any]) -> None:
        for o in d["offices"]:
            o.pop("client_office", None)
        next(o for o in d["offices"] if o["id"] == office)["holder"] = holder
    return edit


def _world(tmp_path: Path, holder: str | None, name: str) -> Compiled:
    return compile_scenario(load_scenario(edited_builtin(tmp_path, _client_holds(holder),
                                                         name)))


def test_an_office_held_by_a_client_adds_to_his_patron_as_far_as_he_is_loyal(
        tmp_path: Path) -> None:
    """Against the same office left vacant, a client's office adds, to his patron's apparatus
    power alone, the office's share of the office weight times the client's loyalty; when his
    loyalty halves the addition halves, and when he changes patron it follows him."""
    from politburo.engine.mechanisms.power import power_parts

    held, vacant = _world(tmp_path, "voroshilov", "a.yaml"), _world(tmp_path, None, "b.yaml")
    assert held.client_offices() and not vacant.client_offices()
    c, o, i = held.clients.index("voroshilov"), held.offices.index("pravda"), held.index("stalin")

    def apparatus(m: Compiled, loyalty: float | None = None, patron: int | None = None
                  ) -> np.ndarray:
        ctx, st = mech_ctx(m, H), mech_state(m, H)
        if loyalty is not None:
            st.client_loyalty[:, c] = loyalty
        if patron is not None:
            st.client_patron[:, c] = patron
        eff = standing.effective(st, ctx)
        return power_parts(st, ctx, eff, np.ones((H, m.P)))["apparatus"]

    ctx = mech_ctx(held, H)
    k = (1 - ctx.params["prestige_weight"]) / sum(
        held.constants[f"power_weight_{b}"] for b in ("cc", "politburo", "offices"))
    share = k * held.constants["power_weight_offices"] * held.office_weight[o] / \
        held.office_weight.sum()
    base = apparatus(vacant)
    for loyalty, patron, who in ((None, None, i), (0.4, None, i),
                                 (0.4, held.index("zinoviev"), held.index("zinoviev"))):
        extra = apparatus(held, loyalty, patron) - base
        expect = share * (held.client_loyalty[c] if loyalty is None else loyalty)
        assert np.allclose(extra[:, who], expect), (loyalty, patron)
        assert np.allclose(np.delete(extra, who, axis=1), 0.0)


def test_a_clients_office_falls_with_his_patron_out_of_the_leadership(tmp_path: Path) -> None:
    """At a plenum, where the patron sits outside the leadership body the office goes to a
    member of the ruling coalition, and the log names the client; where he sits in it, or at a
    meeting that cannot change the office, it stays."""
    from politburo.engine.mechanisms import clients
    from politburo.engine.mechanisms.offices import transfer_offices
    from politburo.engine.state import RUNG, to_mask
    from politburo.scenario.compile import CLIENT

    m = _world(tmp_path, "voroshilov", "a.yaml")
    c, o, i = m.clients.index("voroshilov"), m.offices.index("pravda"), m.index("stalin")
    ctx, st = mech_ctx(m, H), mech_state(m, H, record_log=True)
    coalition = np.zeros((H, m.P), dtype=bool)
    coalition[:, [m.index("zinoviev"), m.index("kamenev")]] = True
    st.coalition = to_mask(coalition)
    st.rung[: H // 2, i] = RUNG["politburo"]
    clients.offices_fall(st, ctx, 7, 0, transfer_offices)  # a session: no state office here
    assert (st.holder[:, o] == CLIENT - c).all()
    clients.offices_fall(st, ctx, 7, 1, transfer_offices)
    new = st.holder[: H // 2, o]
    assert np.isin(new, [m.index("zinoviev"), m.index("kamenev")]).all()
    assert (st.holder[H // 2:, o] == CLIENT - c).all()
    assert (st.falls[:, i] < 0).all()  # the patron's own office fall is not recorded
    assert st.log is not None
    moved = [e for log in st.log for e in log if e["kind"] == "office"]
    assert len(moved) == H // 2 and all(e["from"] == "voroshilov" for e in moved)


def test_in_the_engine_a_clients_office_moves_only_after_a_fall_from_the_leadership(
        tmp_path: Path) -> None:
    from politburo.chronicle.story import rerun, to_text, write_chronicle
    from politburo.engine.state import RUNG

    s = load_scenario(edited_builtin(tmp_path, _client_holds("lashevich")))
    m = compile_scenario(s)
    h = simulate(m, 1, np.arange(200), record_log=True)
    assert h.log is not None
    moves = [(k, e["step"]) for k, log in enumerate(h.log) for e in log
             if e["kind"] == "office" and e["from"] == "lashevich"]
    assert 0 < len({k for k, _ in moves}) < 200
    out = h.falls[:, :, RUNG["politburo"] - 1]
    for k, step in moves:
        assert ((out[k] >= 0) & (out[k] <= step)).any()
    k = moves[0][0]
    text = " ".join(to_text(write_chronicle(s, m, rerun(m, 1, k)), width=10_000).split())
    assert "from Lashevich to" in text


@pytest.mark.parametrize("holder, office, needles", [
    ("beria", "pravda", ("office pravda", "holder 'beria'", "a client or the founder",
                         "voroshilov")),
    ("molotov", "general_secretary", ("office general_secretary", "a client (molotov)",
                                      "patronage: true")),
])
def test_a_bad_office_holder_is_refused_with_the_field_and_what_was_expected(
        tmp_path: Path, holder: str, office: str, needles: tuple[str, ...]) -> None:
    msg = _error(tmp_path, _client_holds(holder, office))
    assert "edited.yaml" in msg
    for n in needles:
        assert n in msg, (n, msg)


# --- a resignation of any office ----------------------------------------------------------------

def _china() -> Compiled:
    return compile_scenario(load_scenario("china-1976"))


def test_an_offer_goes_to_the_first_meeting_that_can_change_its_office() -> None:
    """A state office is offered up at a session of the state's organs, a party office at a
    party meeting; the leadership body's own meeting takes no offer; without state offices
    (the Soviet file) every party meeting can take it and no session exists."""
    from types import SimpleNamespace

    from politburo.engine.month import _takes_offer

    china = _china()
    premier, chair = china.offices.index("premier"), china.offices.index("party_chairman")
    from politburo.scenario.compile import LEADERSHIP, MeetingC

    kinds = {m.kind: m for m in china.meetings}
    kinds[LEADERSHIP] = MeetingC(0, LEADERSHIP, "Politburo", 0, 0, 0)  # the file codes none
    assert {-1, 0, 1, 2, 3} <= set(kinds)
    for office, takes in ((premier, {0}), (chair, {1, 2, 3})):
        e = SimpleNamespace(office=office)
        assert {k for k, m in kinds.items() if _takes_offer(china, m, e)} == takes
    soviet = compile_scenario(load_scenario("soviet-1922"))
    default = SimpleNamespace(office=-1)  # the patronage office
    assert all(_takes_offer(soviet, m, default) == (m.kind >= 1) for m in soviet.meetings)


def test_an_accepted_offer_takes_only_the_office_offered() -> None:
    """The vote on an offer to resign one office moves that office alone: a holder of two
    offices who offers up one keeps the other (the same vote as the Testament's, with the
    offer's support)."""
    from politburo.engine.mechanisms.testament import testament_vote

    model = _china()
    premier = model.offices.index("premier")
    hua = model.index("hua")
    chair = model.offices.index("party_chairman")
    ctx = mech_ctx(model, H, testament_removal_support=1.0, vote_noise=0.0)
    st = mech_state(model, H)
    st.holder[:, chair] = hua  # he holds both posts
    st.coalition[:] = (1 << model.P) - 1
    session = next(m for m in model.meetings if m.kind == 0)
    eff = np.ones((H, model.P))
    testament_vote(st, ctx, session.month, session, st.cc, eff, np.ones((H, model.P)), hua,
                    5.0, resignation=True, office=premier)
    assert (st.holder[:, premier] != hua).all()  # the offer carried: support 5 x 1
    assert (st.holder[:, chair] == hua).all()
    again = mech_state(model, H)
    again.holder[:, chair] = hua
    testament_vote(again, ctx, session.month, session, again.cc, eff, np.ones((H, model.P)),
                    hua, 5.0, resignation=True)  # no office named: the patronage office
    assert model.gensec == chair and model.holder0[premier] == hua
    assert (again.holder[:, chair] != hua).all() and (again.holder[:, premier] == hua).all()


def test_only_a_resignation_names_an_office(tmp_path: Path) -> None:
    def offer(office: str, kind: str = "resignation") -> Any:
        def edit(d: dict[str, Any]) -> None:
            d["events"].append({"id": "offer_1925", "kind": kind, "month": "1925-01",
                                "actor": "stalin", "size": 1.0, "office": office,
                                "source": "S16"})
        return edit

    assert "the office its actor offers up" in _error(tmp_path, offer("war", "polemic"))
    msg = _error(tmp_path, offer("genral_secretary"))
    assert "'genral_secretary' names nothing: expected an office" in msg and "events" in msg
    assert "did you mean" in msg
