"""The scenario format of issue 12: what a scenario declares (founder, axes, bodies, rises,
the fit's targets) and what it may leave out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _scenarios import edited_builtin

from politburo.calibration.targets import build_targets, milestone_months
from politburo.engine.histories import record_rises
from politburo.engine.month import simulate
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import ScenarioError, load_scenario
from politburo.scenario.schema import RISE_STEPS, Scenario


def _file(tmp_path: Path, edit: Any) -> Path:
    return edited_builtin(tmp_path, edit, "edited.yaml")


def _error(p: Path) -> str:
    return str(pytest.raises(ScenarioError, load_scenario, p).value)


def test_an_alliance_without_targets_is_refused(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        alliance = next(e for e in d["events"] if e["kind"] == "alliance")
        alliance["targets"] = []
    msg = _error(_file(tmp_path, edit))
    assert "alliance needs 'targets'" in msg and "left_alliance_1924" in msg


def test_a_feature_parameter_is_needed_only_with_its_feature(tmp_path: Path) -> None:
    def without_illness(d: dict[str, Any]) -> None:
        d["events"] = [e for e in d["events"] if e["kind"] != "illness"]
        d["levers"] = [lv for lv in d["levers"] if lv["id"] != "trotsky_healthy"]
        del d["parameters"]["illness_activity"]
    load_scenario(_file(tmp_path, without_illness))  # no illness: no parameter needed

    def missing(d: dict[str, Any]) -> None:
        del d["parameters"]["illness_activity"]
    msg = _error(_file(tmp_path, missing))
    assert "illness_activity" in msg and "trotsky_illness" in msg and "parameters" in msg


def test_an_unknown_axis_names_the_allowed_ones(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["principals"][0]["position"]["economics"] = 0.2
    msg = _error(_file(tmp_path, edit))
    assert "'economics' is not an axis" in msg and "economy, revolution" in msg


def test_founder_events_need_a_founder(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        del d["founder"]
    msg = _error(_file(tmp_path, edit))  # Lenin's office names nobody now
    assert "holder 'lenin' is not a principal" in msg and "stalin, tomsky, trotsky" in msg

    def vacant(d: dict[str, Any]) -> None:
        edit(d)
        for o in d["offices"]:
            o["holder"] = None if o["holder"] == "lenin" else o["holder"]
        for e in d["events"]:
            if e.get("actor") == "lenin":
                del e["actor"]
    msg = _error(_file(tmp_path, vacant))
    assert "founder_death event needs the founder declared" in msg


def test_labels_come_from_the_file(tmp_path: Path) -> None:
    """Renaming the bodies and the founder changes the words of the log, not the histories."""
    def edit(d: dict[str, Any]) -> None:
        d["bodies"]["leadership"] = "Presidium"
        d["bodies"]["police"] = "MVD"
        d["founder"].update(name="Iosif Stalin", funeral_place="the Hall of Columns")
    base = compile_scenario(load_scenario("soviet-1922"))
    other = compile_scenario(load_scenario(_file(tmp_path, edit)))
    a = simulate(base, 1, np.arange(3), record_log=True)
    b = simulate(other, 1, np.arange(3), record_log=True)
    assert np.array_equal(a.falls, b.falls) and np.array_equal(a.winner, b.winner)
    bodies = {e["body"] for log in b.log or [] for e in log}
    assert "Presidium" in bodies and "Politburo" not in bodies
    assert "the Hall of Columns" in bodies and "Red Square" not in bodies
    because = " ".join(str(e["because"]) for log in b.log or [] for e in log)
    assert "Stalin died" in because and "Lenin" not in because


def test_record_rises_marks_a_new_office_and_a_return() -> None:
    model = compile_scenario(load_scenario("soviet-1922"))
    H, P, n_offices = 2, model.P, len(model.offices)
    out = np.full((H, P, len(RISE_STEPS) + n_offices), -1, dtype=np.int64)
    holder = np.tile(model.holder0, (H, 1))
    rung = np.zeros((H, P), dtype=np.int64)
    falls = np.full((H, P, 7), -1, dtype=np.int64)
    record_rises(out, model, 0, holder, rung, falls)
    assert (out == -1).all()  # holding the offices held at the start is no rise
    war = model.offices.index("war")
    stalin = model.index("stalin")
    holder[0, war] = stalin
    falls[1, stalin, 2] = 3  # removed from the Politburo at step 3 ...
    record_rises(out, model, 5, holder, rung, falls)  # ... and back in it by step 5
    assert out[0, stalin, 0] == 5 and out[0, stalin, len(RISE_STEPS) + war] == 5
    assert out[1, stalin, 0] == -1 and out[1, stalin, RISE_STEPS.index("politburo")] == 5
    record_rises(out, model, 9, holder, rung, falls)
    assert out[0, stalin, 0] == 5  # the first month is kept


def test_a_rise_milestone_is_read_from_the_rises(scenario: Scenario) -> None:
    data = scenario.model_dump()
    data["milestones"] = [*data["milestones"], {
        "id": "stalin_gains_sovnarkom", "month": "1930-12", "actor": "stalin", "step": "office",
        "direction": "rise", "office": "sovnarkom", "source": "S100"}]
    s = Scenario.model_validate(data)
    model = compile_scenario(s)
    h = simulate(model, 2, np.arange(200))
    t = build_targets(s, model)
    m = next(x for x in t.milestones if x.id == "stalin_gains_sovnarkom")
    got = milestone_months(h.falls, (m,), h.rises)[:, 0]
    assert h.rises is not None
    col = len(RISE_STEPS) + model.offices.index("sovnarkom")
    assert np.array_equal(got, h.rises[:, model.index("stalin"), col])
    assert (got >= 0).any() and (got < 0).any()


def test_a_rise_to_exile_is_refused(scenario: Scenario) -> None:
    data = scenario.model_dump()
    data["milestones"] = [{"id": "x", "month": "1925-01", "actor": "stalin", "step": "exile",
                           "direction": "rise", "source": "S1"}]
    with pytest.raises(ValueError, match="a rise is to one of"):
        Scenario.model_validate(data)


def _code_words(path: Path) -> str:
    """The identifiers and the string literals of a module that are not docstrings (docstrings,
    the strings standing alone after a constant, and comments cite historians and give
    examples by name, as they should)."""
    import ast

    tree = ast.parse(path.read_text("utf-8"))
    docs = {id(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str)}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            out.append(n.id)
        elif isinstance(n, ast.Attribute):
            out.append(n.attr)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
            out.append(n.value)
    return "\n".join(out)


def _builtin_words() -> re.Pattern[str]:
    """The built-in scenario's people (every word of their names, their ids), its founder, its
    events, its places and a few words of its time, and any year from 1800 to 1999."""
    s = load_scenario("soviet-1922")
    assert s.founder is not None
    people = [*s.principals, *s.clients, s.founder]
    names = {p.id for p in people} | {w.lower() for p in people for w in p.name.split()}
    names |= {e.id for e in s.events} - {"testament"}  # the event kind of the same name
    words = {s.founder.funeral_place.lower(), s.founder.capital.lower(), s.bodies.police.lower(),
             "nep", "bolshevik", "soviet", "comintern", "sovnarkom", "kremlin"}
    return re.compile(r"\b(" + "|".join(map(re.escape, sorted(names | words))) + r")\b"
                      r"|\b(1[89]\d\d)\b", re.I)


# The bodies' names and abbreviations of the built-in file: with a capital, a label (the ladder's
# step ids, politburo and central_committee, are the format's, and politburo the program's name).
_LABELS = re.compile(r"Politburo|Central Committee|Secretariat|Control Commission|\bCCC?\b")


def _found(pattern: re.Pattern[str], code: str) -> list[str]:
    return sorted({m.group(0) for m in pattern.finditer(code)} | set(_LABELS.findall(code)))


def test_the_engine_knows_no_names_or_dates() -> None:
    """Everything the built-in file needs is data: the engine, the state, the compiler and the
    mechanisms name no principal, founder, event, office or body of it, and no year."""
    import politburo

    root = Path(politburo.__file__).parent
    files = [*sorted((root / "engine").rglob("*.py")), root / "scenario" / "compile.py"]
    pattern = _builtin_words()
    for f in files:
        code = _code_words(f)
        found = sorted({m.group(0) for m in pattern.finditer(code)})
        found += re.findall(r"Politburo|Central Committee|Secretariat", code)
        assert not found, (f.name, found)


def test_the_front_ends_know_no_names_or_dates() -> None:
    """What the CLI, the chronicle's prose, the report, the plots and the web app print about a
    party comes from its file: their code (docstrings aside) and the web app's templates name
    no person, event, place, body or year of the built-in scenario. Only the name of the default
    scenario itself is allowed, and that lives in the loader."""
    import politburo

    root = Path(politburo.__file__).parent
    files = [root / n for n in ("scenario/labels.py", "runner/summary.py", "calibration/fit.py")]
    files += [f for d in ("cli", "chronicle", "report", "experiment", "web")
              for f in sorted((root / d).glob("*.py"))]
    pattern = _builtin_words()
    for f in files:
        assert not _found(pattern, _code_words(f)), (f.relative_to(root), _found(
            pattern, _code_words(f)))
    for t in sorted((root / "web" / "templates").glob("*.html")):
        text = t.read_text("utf-8")
        assert not _found(pattern, text), (t.name, _found(pattern, text))
    static = sorted((root / "web" / "static").glob("*.js"))
    assert static
    for js in static:
        text = js.read_text("utf-8")
        assert not _found(pattern, text), (js.name, _found(pattern, text))
