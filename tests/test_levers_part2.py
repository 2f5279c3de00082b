"""The three levers of issue 13, part 2: each a cause with a prior, never an outcome.

``trotsky_deputy_chairman`` enables an office that the baseline does not have at all;
``georgian_affair_raised`` enables a ``charge`` (Lenin's notes laid before the 12th Congress);
``right_organises_1928`` enables a ``platform`` that seeks allies and fights one crisis answer.
That every lever is a no-op in its own world is ``test_bundles``'s parametrised test; here, that
the baseline does not see the items the levers switch on, and that each lever works through a
draw or a vote and not by decree (120 histories, seed 5, as in ``test_bundles``).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from politburo.engine.month import simulate
from politburo.scenario.compile import compile_scenario
from politburo.scenario.levers import apply_levers
from politburo.scenario.loader import load_scenario
from politburo.scenario.schema import Scenario

H = 120
KEYS = ("winner", "falls", "coalition", "first_rule", "consolidation")


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario()


def _same(a: Any, b: Any, rows: Any = slice(None)) -> bool:
    return all(np.array_equal(getattr(a, k)[rows], getattr(b, k)[rows]) for k in KEYS)


def _without(base: Scenario, field: str, item: str) -> Scenario:
    data = base.model_dump()
    data[field] = [x for x in data[field] if x["id"] != item]
    return Scenario.model_validate(data)


@pytest.mark.parametrize("field, item", [("offices", "deputy_chairman"),
                                         ("events", "georgian_notes_1923"),
                                         ("events", "right_platform_1928")])
def test_the_baseline_does_not_see_what_only_a_lever_enables(base: Scenario, field: str,
                                                             item: str) -> None:
    """A disabled item changes nothing: the file without it makes the same model and the same
    histories, rises (one column per office) included."""
    a, b = compile_scenario(base), compile_scenario(_without(base, field, item))
    assert a.offices == b.offices and np.array_equal(a.office_weight, b.office_weight)
    assert a.events == b.events
    ha, hb = simulate(a, 5, np.arange(H)), simulate(b, 5, np.arange(H))
    assert _same(ha, hb) and np.array_equal(ha.rises, hb.rises)


def test_deputy_chairman_is_an_office_trotsky_holds_and_can_lose(base: Scenario) -> None:
    s, fixed = apply_levers(base, ["trotsky_deputy_chairman"])
    m = compile_scenario(s, fixed=fixed)
    k = m.offices.index("deputy_chairman")
    assert k == len(m.offices) - 1  # appended: the other offices keep their numbers
    assert m.holder0[k] == m.index("trotsky") and m.office_weight[k] > 0
    h = simulate(m, 5, np.arange(H), record_log=True)
    base_h = simulate(compile_scenario(base), 5, np.arange(H))
    assert not _same(h, base_h)
    lost = {i for i, log in enumerate(h.log) for e in log
            if e["kind"] == "office" and e["office"] == m.office_names[k]}
    assert 0 < len(lost) < H  # lost in some histories, by the model's motions, not in all


def test_the_georgian_charge_costs_standing_and_makes_enemies(base: Scenario) -> None:
    s, fixed = apply_levers(base, ["georgian_affair_raised"])
    m = compile_scenario(s, fixed=fixed)
    e = next(x for x in m.events if x.kind == "charge")
    assert e.start == 4 and e.size > 0  # April 1923, the month of the 12th Congress
    a = simulate(compile_scenario(base), 5, np.arange(H))
    b = simulate(m, 5, np.arange(H))
    assert not _same(a, b)
    assert (a.winner == b.winner).mean() > 0.5  # a blow, not a verdict


def test_charge_mechanism_alone() -> None:
    from politburo.engine.mechanisms import standing

    class Ctx:
        model = SimpleNamespace(P=3)
        params = {"testament_weight": np.array([0.2, 0.1]),
                  "polemic_enmity": np.array([0.5, 0.5])}

    class St:
        standing = np.ones((2, 3))
        enmity = np.zeros((2, 3))  # the pairs (0, 1), (0, 2), (1, 2)

    st = St()
    standing.charge(st, Ctx(), 4, 1, (0,), 0.5)  # type: ignore[arg-type]
    assert np.allclose(st.standing[:, 0], [0.9, 0.95])
    assert np.allclose(st.standing[:, 1:], 1.0)  # the bearer pays nothing
    assert np.allclose(st.enmity[:, 0], 0.5) and not st.enmity[:, 1:].any()  # 0 and 1 only


def test_the_right_platform_fights_only_the_answer_it_names(base: Scenario) -> None:
    """Where the rulers did not adopt the emergency measures the lever's world is the
    baseline's, history for history; where they did, the Right organises in some histories,
    not all, and its allies come by a draw."""
    s, fixed = apply_levers(base, ["right_organises_1928"])
    m = compile_scenario(s, fixed=fixed)
    a = simulate(compile_scenario(base), 5, np.arange(4 * H), record_log=True)
    b = simulate(m, 5, np.arange(4 * H), record_log=True)
    answer = np.array([next(e["response"] for e in log if e.get("crisis") == "grain_crisis")
                       for log in a.log])
    other = answer != "emergency_measures"
    assert other.any() and (~other).any()
    assert _same(a, b, other)
    platforms = [k for k, log in enumerate(b.log) for e in log
                 if e["kind"] == "bloc" and "openly" in e["because"]]
    assert platforms and all(not other[k] for k in platforms)
    assert len(set(platforms)) < (~other).sum()


@pytest.mark.parametrize("event, message", [
    ({"id": "x", "kind": "charge", "month": "1923-04", "actor": "trotsky", "size": 1.0,
      "source": "S22b"}, "needs 'targets'"),
    ({"id": "x", "kind": "charge", "month": "1923-04", "actor": "trotsky",
      "targets": ["stalin"], "source": "S22b"}, "'size' > 0"),
    ({"id": "x", "kind": "illness", "month": "1928-02", "actor": "bukharin",
      "against": "grain_crisis.emergency_measures", "source": "S52"}, "only a platform"),
    ({"id": "x", "kind": "platform", "month": "1928-02", "actor": "bukharin",
      "against": "grain_crisis.requisition", "source": "S52"}, "grain_crisis.emergency_measures"),
    ({"id": "x", "kind": "platform", "month": "1927-02", "actor": "bukharin",
      "against": "grain_crisis.emergency_measures", "source": "S52"}, "crisis of the platform"),
])
def test_new_fields_are_checked(base: Scenario, event: dict[str, Any], message: str) -> None:
    data = base.model_dump()
    data["events"] = [*data["events"], event]
    with pytest.raises(ValueError, match=message):
        Scenario.model_validate(data)


def test_chronicles_of_the_new_worlds(base: Scenario) -> None:
    """What the reader is told: two plain posts in one phrase; the charge before the congress;
    the Right's readiness only in histories where the rulers took the emergency measures."""
    from politburo.chronicle import story as ch

    def text(levers: list[str], k: int) -> tuple[str, list[str]]:
        s, fixed = apply_levers(base, levers)
        m = compile_scenario(s, fixed=fixed)
        h = ch.rerun(m, 5, k)
        answers = [e["response"] for e in (h.log or [[]])[0] if e["kind"] == "crisis"]
        return ch.to_text(ch.write_chronicle(s, m, h, tuple(levers)), width=10_000), answers

    deputy, _ = text(["trotsky_deputy_chairman"], 0)
    assert "holds the posts of Commissar of War and Deputy Chairman of Sovnarkom" in deputy
    assert "Deputy Chairman" not in text([], 0)[0]
    georgian, _ = text(["georgian_affair_raised"], 0)
    assert ("Trotsky laid before the 12th Party Congress the notes in which Lenin condemned "
            "Stalin's conduct") in georgian
    told = {True: 0, False: 0}
    for k in range(60):
        right, answers = text(["right_organises_1928"], k)
        measures = "emergency_measures" in answers
        assert ("stood ready to fight the rulers' answer" in right) == measures, k
        told[measures] += 1
    assert told[True] and told[False]
