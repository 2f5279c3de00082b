"""A plenum's co-option to the committee is written down (``circular_flow.co_opt``'s record)
and told by the chronicle and the web app: a record only, so the histories do not move. Tested
on the China file, whose plenum of December 1978 co-opts members (``co_opted``); what the
record says is read from the model's state, never from a name."""

from __future__ import annotations

import numpy as np
import pytest

from politburo.chronicle.prose import count_word
from politburo.chronicle.story import rerun, to_text, write_chronicle
from politburo.engine.month import simulate
from politburo.scenario.compile import Compiled, compile_scenario
from politburo.scenario.labels import called
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import Scenario
from politburo.web.narrative import Names, tell

H = 8


@pytest.fixture(scope="module")
def china() -> tuple[Scenario, Compiled]:
    s = load_scenario("china-1976")
    return s, compile_scenario(s)


def _co_opting(m: Compiled) -> list[tuple[int, str, int]]:
    return [(mt.month, mt.name, mt.co_opted) for mt in m.meetings if mt.co_opted]


def test_every_history_records_the_co_option_with_whom_the_newcomers_follow(
        china: tuple[Scenario, Compiled]) -> None:
    _, m = china
    (step, name, added), = _co_opting(m)  # the file's one co-opting plenum
    h = simulate(m, 1, np.arange(H), record_log=True)
    assert h.log is not None
    for log in h.log:
        recs = [e for e in log if e["kind"] == "co_option"]
        assert len(recs) == 1
        e = recs[0]
        assert (e["step"], e["body"], e["added"]) == (step, name, added)
        shares = [x for _, x in e["follow"]]
        assert shares == sorted(shares, reverse=True)
        assert all(a in m.principals for a, _ in e["follow"])
        assert sum(shares) + e["unaligned"] == pytest.approx(1.0, abs=0.03)
        assert e["actors"] == [a for a, x in e["follow"] if x >= 0.1]
        # the committee has grown by the newcomers: the size the last congress gave it, + n
        elected = [mt.cc_size for mt in m.meetings if mt.kind == 3 and mt.month <= step]
        assert e["size"] == (elected[-1] if elected else m.constants["cc_size_start"]) + added


def test_the_record_changes_no_history(china: tuple[Scenario, Compiled]) -> None:
    _, m = china
    a = simulate(m, 1, np.arange(H), record_log=True)
    b = simulate(m, 1, np.arange(H))
    for k in ("winner", "falls", "coalition", "first_rule", "rises", "tallies"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def test_the_chronicle_and_the_web_app_tell_the_co_option(
        china: tuple[Scenario, Compiled]) -> None:
    s, m = china
    (step, name, added), = _co_opting(m)
    c = write_chronicle(s, m, rerun(m, 1, 0))
    told = [e for e in c.events if e.kind == "co_option"]
    assert len(told) == 1
    ev = told[0]
    top = str(ev.details["follow"][0][0])
    names = called(s)
    assert f"co-opted {count_word(added)} members to the CC" in ev.text
    assert f"followed {names[top]}" in ev.text
    assert f"{float(ev.details['follow'][0][1]):.0%}" in ev.text
    assert ev.causes[0].startswith("mechanism: the circular flow of power")
    text = " ".join(to_text(c, width=10_000).split())
    assert ev.text in text
    web = tell({"kind": "co_option", "body": name, "actors": list(ev.actors),
                "details": ev.details}, Names.of(s), [], {})
    assert f"added {added} new members" in web and f"{names[top]}'s people" in web
