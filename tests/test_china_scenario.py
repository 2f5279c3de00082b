"""The built-in China scenario (1976-81): it is data the engine can run, every number in it says
where it comes from, its calendar is the fact base's, and its events are causes, not outcomes.

No test here pins who wins or when anyone falls: the fit to history is a finding that
``politburo fit`` reports (style.md, "tests of mechanisms, not of history").
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from politburo.engine.month import simulate
from politburo.engine.state import RUNG
from politburo.scenario.checks import problems
from politburo.scenario.compile import compile_scenario
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import Scenario, _cited_tags

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "src/politburo/scenarios/china-1976.yaml"
FACTS = ROOT / "data/history/china-1976"
CAUSES = {"founder_incapacitated", "founder_death", "crisis", "salience", "death"}
"""Event kinds that act on the founder, the line, an axis's weight or a named client's life,
never on a named leader."""
WORDS = {"testament", "speech"}
"""Event kinds that are a named leader's words, moving standing only: a founder's document that
names a successor and removes nobody, a speech that attacks nobody."""


@pytest.fixture(scope="module")
def china() -> Scenario:
    return load_scenario(FILE)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(FILE.read_text(encoding="utf-8"))


def _fact_milestones() -> dict[str, str]:
    data = yaml.safe_load((FACTS / "milestones.yaml").read_text(encoding="utf-8"))
    return {m["id"]: str(m["date"]) for m in data["milestones"]}


def _fact_sources() -> dict[str, str]:
    text = (FACTS / "facts.md").read_text(encoding="utf-8").split("\n## Sources", 1)[1]
    return {m.group(1): m.group(2) for m in
            re.finditer(r"^- (C\d+[a-z]?) .+?: (https?://\S+)", text, re.M)}


def test_the_file_validates_and_its_values_fit_together(china: Scenario) -> None:
    assert problems(china) == []
    assert china.start <= "1976-09" and china.end == "1981-06"


def test_every_number_sits_under_a_source_or_an_assumption(raw: dict[str, Any]) -> None:
    """Walk the raw YAML: every number must have a citing mapping among its ancestors (a
    quantity's own ``source``/``assumption``, a prior's, a meeting's, a lever's ``sources``)."""
    bare: list[str] = []

    def walk(node: Any, path: str, cited: bool) -> None:
        if isinstance(node, dict):
            here = cited or any(node.get(k) for k in ("source", "assumption", "sources"))
            for k, v in node.items():
                walk(v, f"{path}.{k}", here)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]", cited)
        elif isinstance(node, (int, float)) and not isinstance(node, bool) and not cited:
            bare.append(path)

    for key, value in raw.items():
        walk(value, key, False)
    assert bare == []


def test_every_tag_cited_is_in_the_fact_base(china: Scenario) -> None:
    """C-tags are facts.md's, with the same address in the bibliography; lower-case tags are
    milestone ids of the China milestones file; nothing else is cited but the model papers."""
    sources, milestones = _fact_sources(), _fact_milestones()
    bib = {s.id: s.url for s in china.bibliography}
    for tag in _cited_tags(china):
        if re.fullmatch(r"C\d+[a-z]?", tag):
            assert bib.get(tag) == sources.get(tag), tag
        elif tag.islower():
            assert tag in milestones, f"{tag!r} is no milestone of china-1976/milestones.yaml"
        else:
            assert tag in {"AES2008", "AXELROD1970", "GP2006", "RIKER1986", "SUDDUTH2017",
                           "SVOLIK2012"}, tag
    assert all(t in sources for t in bib if t.startswith("C")), "a listed tag cites nothing"


def test_the_calendar_is_every_meeting_of_calendar_md(china: Scenario) -> None:
    """Month by month, the scenario holds exactly the meetings of calendar.md that it lists
    whatever they did: none chosen for what it did, none left out. Its Politburo and Standing
    Committee rows are the exception the calendar itself states: listed because they decided
    personnel, so the file leaves them out."""
    rows = re.findall(r"^\| (\d{4}-\d{2})(?:-\d{2})? \| [\d-]+ \| ([^|]+) \|",
                      (FACTS / "calendar.md").read_text(encoding="utf-8"), re.M)
    assert len(rows) == 23
    kept = [month for month, body in rows if not body.strip().startswith("Politburo")]
    assert len(kept) == 18
    assert Counter(m.month for m in china.calendar) == Counter(kept)
    assert not any(m.kind == "leadership" for m in china.calendar)


def test_events_are_causes_not_outcomes(china: Scenario) -> None:
    """No event sets a position, arrests, removes or organises anyone: the founder's decline
    and death, a named client's death (a dated fact), salience, and crises whose answers the
    rulers choose, which name no leader; and
    words whose effect is on standing only (the founder's note naming a successor, a programme
    speech), which name only their author and whom they endorse."""
    people = {p.id: p for p in china.principals}
    for e in china.events:
        assert e.kind in CAUSES | WORDS, e.id
        assert not e.targets and not e.present, e.id
        own = {e.actor, *e.endorses} if e.kind in WORDS else set()
        dead = {c.id for c in china.clients} if e.kind == "death" else set()
        assert e.actor in ({None, china.founder.id} | (own if e.kind == "speech" else set())
                           | dead), e.id
        names = {n for i, p in people.items() if i not in own for n in (i, p.name, p.called)}
        text = " ".join([e.description, *(r.description for r in e.responses)])
        assert not any(re.search(rf"\b{re.escape(n)}\b", text) for n in names), e.id
        if e.kind == "crisis":
            shifts = {tuple(r.on(a.id) or 0.0 for a in china.axes) for r in e.responses}
            assert len(shifts) >= 2, f"{e.id}: a choice needs answers that differ"
    for lv in china.levers:
        assert not any(path.startswith("principals.") for path in lv.set), lv.id


def test_no_office_or_position_hands_down_a_founders_succession(china: Scenario) -> None:
    """Mao's chairmanships start with the founder: the model, not the file, chooses his heir."""
    assert china.founder is not None
    chairs = {o.id: o.holder for o in china.offices}
    assert chairs["party_chairman"] == chairs["mac_chairman"] == china.founder.id
    # The death may fall in the first month: the engine plays the first coalition game before
    # it shares out his offices (tests/test_arrest_return.py checks the rule).
    death = next(e for e in china.events if e.kind == "founder_death")
    assert death.month >= china.start


def test_milestones_are_dated_as_their_source_milestones(china: Scenario) -> None:
    facts = _fact_milestones()
    for m in china.milestones:
        assert facts[m.source][:7] == m.month, m.id
        assert m.month <= china.end
    ids = {m.id for m in china.milestones}
    assert set(china.fit.main) <= ids


def test_no_prose_of_the_soviet_scenario_is_left(raw: dict[str, Any]) -> None:
    """What the program prints from the file (the founder, axes, bodies, traits, offices,
    meetings and events) speaks of Mao and 1976-81: no Soviet name survives in it. Notes and
    assumptions may compare with the Soviet scenario."""
    printed = {k: raw.get(k) for k in ("title", "description", "founder", "question", "axes",
                                       "bodies", "rules", "traits")}
    printed["offices"] = [o["name"] for o in raw["offices"]]
    printed["calendar"] = [m["name"] for m in raw["calendar"]]
    printed["events"] = [(e["description"], [r["description"] for r in e.get("responses", ())])
                         for e in raw["events"]]
    text = yaml.safe_dump(printed)
    for word in ("Lenin", "lenin", "Stalin", "Trotsky", "NEP", "Bolshevik", "1921", "Sovnarkom"):
        assert word not in text, word


def test_weights_of_offices_sum_to_one(china: Scenario) -> None:
    assert sum(o.weight.value for o in china.offices) == pytest.approx(1.0)


RUNS = 300


def _outcomes(s: Scenario, seed: int) -> dict[str, tuple[float, float]]:
    """Per leader: share of histories in which he is in the final ruling coalition, and share
    in which he left the Politburo."""
    m = compile_scenario(s)
    h = simulate(m, seed, np.arange(RUNS))
    inside = (h.coalition[:, -1, None].astype(np.int64) >> np.arange(m.P)) & 1
    out = h.falls[:, :, RUNG["politburo"] - 1] >= 0
    return {p: (float(inside[:, i].mean()), float(out[:, i].mean()))
            for i, p in enumerate(m.principals)}


def _rename(s: Scenario, a: str, b: str) -> Scenario:
    text = s.model_dump_json()
    text = text.replace(f'"{a}"', '"__tmp__"').replace(f'"{b}"', f'"{a}"')
    return Scenario.model_validate_json(text.replace('"__tmp__"', f'"{b}"'))


def test_renaming_hua_and_deng_swaps_their_fortunes(china: Scenario) -> None:
    """Fortunes follow what the file says of a leader, not his id: swapping the two ids
    throughout swaps the shares, within sampling error (other random columns). 4.5 standard
    errors of a difference of two shares, each floored at 1/RUNS."""
    base = _outcomes(china, 1)
    renamed = _outcomes(_rename(china, "hua", "deng"), 2)
    swap = {"hua": "deng", "deng": "hua"}
    for name, pair in base.items():
        for p, q in zip(pair, renamed[swap.get(name, name)], strict=True):
            var = sum(max(x, 1 / RUNS) * (1 - max(x, 1 / RUNS)) / RUNS for x in (p, q))
            assert abs(p - q) < 4.5 * np.sqrt(var), (name, p, q)


def test_a_rise_is_never_shown_as_the_historical_month_of_a_fall(china: Scenario) -> None:
    """The tables put history's month beside each fall; Deng's return to the Politburo (July
    1977) and Chen Yun's election (December 1978) are rises and must not stand there as the
    month they were removed from it."""
    from politburo.runner.summary import FALL_STEPS, historical_falls

    known = historical_falls(china.milestones)
    assert "politburo" not in known.get("deng", {})
    assert "politburo" not in known.get("chen_yun", {})
    step = {m.id: "exile" if m.step == "deportation" else m.step for m in china.milestones}
    falls = [m for m in china.milestones if m.direction == "fall" and step[m.id] in FALL_STEPS]
    assert falls and all(known[m.actor][step[m.id]] <= m.month for m in falls)
