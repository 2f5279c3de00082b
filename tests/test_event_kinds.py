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
