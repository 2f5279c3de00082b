"""General event kinds of issue 12: a speech, closed or published (a polemic is a published
speech against its targets). Each test asserts a mechanism on constructed inputs or on the
built-in Soviet file edited; none pins a historical outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import edited_builtin, mech_ctx, mech_state

from politburo.engine import Histories, simulate
from politburo.mechanisms import standing
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
    """Standing and enmity before and after one speech by principal 0, same draws."""
    ctx = mech_ctx(model, H, **{**SPEECH, **params})
    st = mech_state(model, H)
    before = st.standing.copy()
    standing.speech(st, ctx, 3, 0, targets, handling)
    return before, st.standing.copy(), st.enmity.copy()


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
    start = mech_state(model, H).enmity
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
    start = mech_state(model, H).enmity
    assert np.allclose(enmity_printed[:, 0, 1:3] - start[:, 0, 1:3], 0.5)
    assert np.allclose(enmity_shut[:, 1:3, 0] - start[:, 1:3, 0], 0.15)
    # the polemic is the printed speech, to the last bit
    ctx = mech_ctx(model, H, **SPEECH, polemic_backlash=0.08, polemic_enmity=0.5)
    st = mech_state(model, H)
    standing.polemic(st, ctx, 3, 0, (1, 2))
    assert np.array_equal(st.standing, printed) and np.array_equal(st.enmity, enmity_printed)


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
    from politburo.chronicle import rerun, to_text, write_chronicle

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
    from politburo._frame import scenario_events
    from politburo._prose import Words

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
