"""The scenario format: the built-in file validates, bad files get clear errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from _scenarios import edited_builtin
from typer.testing import CliRunner

import politburo
from politburo.cli import app
from politburo.scenario.loader import ScenarioError, builtin_text, load_scenario, parse_scenario
from politburo.scenario.schema import ENGINE_CONSTANTS, ENGINE_PARAMETERS, Scenario

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "history"


def _broken(tmp_path: Path, edit: Any) -> Path:
    return edited_builtin(tmp_path, edit, "broken.yaml")


def test_builtin_scenario_validates(scenario: Scenario) -> None:
    assert scenario.id == "soviet-1922"
    assert [p.id for p in scenario.principals] == [
        "stalin", "trotsky", "zinoviev", "kamenev", "bukharin", "rykov", "tomsky"]
    assert scenario.start == "1922-12" and scenario.end == "1930-12"


def test_every_cited_source_is_in_the_bibliography(scenario: Scenario) -> None:
    tags = {s.id for s in scenario.bibliography}
    text = builtin_text("soviet-1922").split("\nbibliography:")[0]
    cited = set(re.findall(r"\b(S\d+[a-z]?|AES2008)\b", text))
    assert cited and cited <= tags
    for s in scenario.bibliography:
        assert s.url.startswith("http")


def test_milestone_sources_are_real_milestone_ids(scenario: Scenario) -> None:
    ids = {m["id"] for m in yaml.safe_load((SHARED / "milestones.yaml").read_text())["milestones"]}
    for m in scenario.milestones:
        assert m.source in ids, m.id


def test_no_milestone_of_the_right_after_june_1928(scenario: Scenario) -> None:
    for m in scenario.milestones:
        if m.actor in ("bukharin", "rykov", "tomsky"):
            pytest.fail(f"milestone {m.id} scripts the Right")
        assert m.month <= "1929-01"


def test_uncited_number_is_refused_with_field_and_line(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        del d["principals"][1]["attributes"]["aloofness"]["source"]
    p = _broken(tmp_path, edit)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert str(p) in msg
    assert "principals.1.attributes.aloofness" in msg
    assert "source" in msg and "assumption" in msg
    assert re.search(r"line \d+", msg)


def test_wrong_type_names_field_and_expectation(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["parameters"]["patronage_rate"]["a"] = "lots"
    msg = str(pytest.raises(ScenarioError, load_scenario, _broken(tmp_path, edit)).value)
    assert "parameters.patronage_rate.a" in msg and "number" in msg and "'lots'" in msg


def test_a_committee_majority_outside_its_range_is_refused(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["rules"]["committee_majority"]["value"] = 1.5
    msg = str(pytest.raises(ScenarioError, load_scenario, _broken(tmp_path, edit)).value)
    assert "rules.committee_majority" in msg and "two thirds" in msg and "1.5" in msg


def test_unknown_reference_is_refused(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["offices"][0]["holder"] = "beria"
    msg = str(pytest.raises(ScenarioError, load_scenario, _broken(tmp_path, edit)).value)
    assert "beria" in msg and "not a principal" in msg


def test_a_crisis_needs_two_responses(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        e = next(e for e in d["events"] if e["id"] == "grain_crisis")
        e["responses"] = e["responses"][:1]
    p = _broken(tmp_path, edit)
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert str(p) in msg and "grain_crisis" in msg and "at least two responses" in msg


def test_no_event_sets_a_position_or_forms_a_bloc_in_the_baseline(scenario: Scenario) -> None:
    """Inputs are causes, never outcomes: no enabled event moves a named leader's line or
    organises anyone (the alliance and the platform are levers', disabled in the baseline)."""
    for e in scenario.events:
        if e.enabled:
            assert e.kind not in ("alliance", "platform", "resignation"), e.id
    kinds = {e.kind for e in scenario.events}
    assert "policy_shock" not in kinds


@pytest.mark.parametrize("field,name", [("parameters", "motion_rate"),
                                        ("constants", "client_loyalty")])
def test_a_missing_engine_input_is_refused_before_any_run(tmp_path: Path, field: str,
                                                          name: str) -> None:
    """A scenario without a parameter or constant the engine reads is refused when it is
    loaded, naming the file, the field and what is missing, instead of failing mid-run."""
    def edit(d):  # type: ignore[no-untyped-def]
        del d[field][name]
    p = _broken(tmp_path, edit)
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert str(p) in msg and field in msg and name in msg and "the engine needs" in msg


def test_the_engine_reads_exactly_the_inputs_the_schema_requires() -> None:
    """ENGINE_PARAMETERS and ENGINE_CONSTANTS list every name the engine's source reads (the
    engine, its mechanisms and the state: not the priors' own shape parameters, nor the
    calibration's weights)."""
    root = Path(politburo.__file__).parent
    files = sorted((root / "engine").rglob("*.py"))
    src = "\n".join(f.read_text() for f in files)
    params = set(re.findall(r'params(?:_h)?\["([a-z_]+)"\]', src))
    consts = set(re.findall(r'(?:const|\bc)\["([a-z_]+)"\]', src))
    assert params == set(ENGINE_PARAMETERS)
    assert consts == set(ENGINE_CONSTANTS)


def test_bad_month_and_unknown_key(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["start"] = "1922-13"
        d["surprise"] = 1
    msg = str(pytest.raises(ScenarioError, load_scenario, _broken(tmp_path, edit)).value)
    assert "start" in msg and ("YYYY-MM" in msg or "pattern" in msg)
    assert "surprise" in msg


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_text("id: [unclosed\n")
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert "x.yaml" in msg and "line" in msg
    msg = str(pytest.raises(ScenarioError, load_scenario, tmp_path / "nope.yaml").value)
    assert "nope.yaml" in msg and "built-in" in msg
    with pytest.raises(ScenarioError, match="mapping"):
        parse_scenario("- 1\n- 2\n", "list.yaml")


def test_cli_validate_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["validate", "soviet-1922"])
    assert ok.exit_code == 0 and "ok" in ok.output
    def edit(d):  # type: ignore[no-untyped-def]
        d["calendar"][1]["voting_delegates"] = {"value": 408}
    bad = runner.invoke(app, ["validate", str(_broken(tmp_path, edit))])
    assert bad.exit_code == 2
    assert "calendar.1.voting_delegates" in bad.output
    assert "Traceback" not in bad.output


def test_cli_validate_takes_a_built_in_name_as_the_other_commands_do(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["validate", "--scenario", "china-1976"], ["validate", "-s", "soviet-1922"]):
        ok = runner.invoke(app, args)
        assert ok.exit_code == 0 and f"{args[-1]}: ok" in ok.output, ok.output
    def edit(d):  # type: ignore[no-untyped-def]
        d["calendar"][1]["voting_delegates"] = {"value": 408}
    bad = runner.invoke(app, ["validate", "--scenario", str(_broken(tmp_path, edit))])
    assert bad.exit_code == 2 and "calendar.1.voting_delegates" in bad.output
    unknown = runner.invoke(app, ["validate", "--scenario", "china-1977"])
    assert unknown.exit_code == 2 and "china-1977" in unknown.output
    both = runner.invoke(app, ["validate", "soviet-1922", "--scenario", "china-1976"])
    assert both.exit_code == 2 and "one scenario" in both.output
    none = runner.invoke(app, ["validate"])
    assert none.exit_code == 2 and "--scenario" in none.output
    assert "Traceback" not in bad.output + unknown.output + both.output + none.output


def test_schema_command_prints_json_schema() -> None:
    import json

    res = CliRunner().invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.output)
    assert "principals" in schema["properties"] and "$defs" in schema


@pytest.mark.parametrize("between,expected", [
    (["zinoviev", "lenin"], "'lenin' is not a principal (expected one of bukharin, kamenev"),
    (["kamenev", "kamenev"], "cannot be tied to himself"),
])
def test_a_bad_tie_is_refused_with_what_was_expected(tmp_path: Path, between: list[str],
                                                      expected: str) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["ties"][0]["between"] = between
    p = _broken(tmp_path, edit)
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert str(p) in msg and expected in msg


def test_two_ties_between_one_pair_are_refused(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["ties"].append({**d["ties"][0], "between": ["kamenev", "zinoviev"]})
    msg = str(pytest.raises(ScenarioError, load_scenario, _broken(tmp_path, edit)).value)
    assert "one tie at most" in msg


# -- validate points at the offending item --------------------------------------------------------


def _problem_line(text: str) -> tuple[str, int]:
    """The one problem ``parse_scenario`` reports for ``text``: its line, and the line number."""
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "edited.yaml")
    listed = [x for x in str(exc.value).splitlines() if x.startswith("  - ")]
    assert len(listed) == 1, str(exc.value)
    line = re.search(r"\(line (\d+)\)", listed[0])
    assert line, listed[0]
    return listed[0], int(line.group(1))


def _line_with(text: str, needle: str) -> int:
    """The number of the one line of ``text`` that holds ``needle``."""
    hits = [k for k, x in enumerate(text.splitlines(), 1) if needle in x]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def _without_block(text: str, key: str) -> str:
    """``text`` without the two-space-indented mapping entry ``key:`` and its body."""
    lines = text.split("\n")
    i = lines.index(f"  {key}:")
    j = i + 1
    while lines[j].startswith("    "):
        j += 1
    return "\n".join(lines[:i] + lines[j:])


def test_a_missing_parameter_points_at_the_item_that_needs_it() -> None:
    text = builtin_text("soviet-1922")
    said, line = _problem_line(_without_block(text, "illness_activity"))
    assert line == _line_with(text, "{id: trotsky_illness, kind: illness")
    assert said.startswith("  - parameters, for events.")
    assert "illness_activity" in said and "trotsky_illness is of kind illness" in said


def test_a_missing_starting_line_points_at_its_axis() -> None:
    text = builtin_text("soviet-1922")
    edited = re.sub(r"\n  line_revolution_start:[^\n]*", "", text)
    said, line = _problem_line(edited)
    assert line == _line_with(edited, "  - id: revolution")
    assert "line_revolution_start" in said and "axes.1" in said


@pytest.mark.parametrize(("old", "new", "field", "allowed", "near"), [
    # a misspelt principal in a flow list on one line, and in the list of a fit alignment
    ("targets: [zinoviev, kamenev], source: lessons_of_october",
     "targets: [zinoviev, kamenevv], source: lessons_of_october",
     "events.5.targets.1", "kamenev", None),
    ("together: [stalin, zinoviev, kamenev]", "together: [stalin, zinovyev, kamenev]",
     "fit.alignments.0.together.1", "expected a principal (one of bukharin, kamenev, rykov, "
     "stalin, tomsky, trotsky, zinoviev)", "zinoviev"),
    # the second line of a list that spans two
    ("trotsky_exiled, trotsky_deported]", "trotsky_exiled, trotsky_deportedd]",
     "fit.main.6", "expected a milestone's id", "trotsky_deported"),
    # a field inside a multi-line item
    ("holder: stalin", "holder: nobodyx", "offices.0.holder",
     "expected one of andreev, bukharin", None),
])
def test_an_unknown_name_points_at_itself_and_names_what_would_do(
        old: str, new: str, field: str, allowed: str, near: str | None) -> None:
    text = builtin_text("soviet-1922")
    assert text.count(old) >= 1
    edited = text.replace(old, new, 1)
    said, line = _problem_line(edited)
    wrong = next(w for w in re.findall(r"[a-z_]+", new) if w not in re.findall(r"[a-z_]+", old))
    assert line == _line_with(edited, wrong), said
    assert said.startswith(f"  - {field} (line {line}): "), said
    assert allowed in said
    if near:
        assert f"did you mean {near!r}?" in said


def test_a_rivalry_naming_a_stranger_is_refused(tmp_path: Path) -> None:
    def edit(d):  # type: ignore[no-untyped-def]
        d["rivalries"][0]["between"] = ["zinoviev", "molotov"]
    msg = str(pytest.raises(ScenarioError, load_scenario, _broken(tmp_path, edit)).value)
    assert "rivalry zinoviev-molotov: 'molotov' is not a principal" in msg
