"""No rule names a winner: fortunes follow attributes and situations, never ids.

Statistical tests with fixed seeds. With 6,000 histories a share's sampling sd is below 0.0065,
so the stated margins (0.1 and a factor of two) are many sds wide. The renaming test runs for
every pair of principals on 1,500 histories and allows 4.5 standard errors of the difference
of two shares (each share's variance p(1 - p)/n, with p floored at 1/n).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from politburo.engine.month import simulate
from politburo.scenario.compile import compile_scenario
from politburo.scenario.schema import Scenario

RUNS = 6000


def _odds(s: Scenario, seed: int = 7, runs: int = RUNS) -> dict[str, float]:
    m = compile_scenario(s)
    h = simulate(m, seed, np.arange(runs))
    c = np.bincount(h.winner, minlength=m.P + 1) / runs
    return dict(zip((*m.principals, "none"), c.tolist(), strict=True))


def _exchange(s: Scenario, a: str, b: str, fields: tuple[str, ...]) -> Scenario:
    pa = next(p for p in s.principals if p.id == a)
    pb = next(p for p in s.principals if p.id == b)
    new_a = pa.model_copy(update={f: getattr(pb, f) for f in fields})
    new_b = pb.model_copy(update={f: getattr(pa, f) for f in fields})
    return s.model_copy(update={"principals": tuple(
        new_a if p.id == a else new_b if p.id == b else p for p in s.principals)})


def _rename(s: Scenario, a: str, b: str) -> Scenario:
    """Exchange two ids everywhere: the same world with the names swapped."""
    text = s.model_dump_json()
    text = text.replace(f'"{a}"', '"__tmp__"').replace(f'"{b}"', f'"{a}"')
    text = text.replace('"__tmp__"', f'"{b}"')
    return Scenario.model_validate_json(text)


def test_exchanging_attributes_moves_the_odds_with_them(scenario: Scenario) -> None:
    base = _odds(scenario)
    swapped = _odds(_exchange(scenario, "stalin", "trotsky", ("attributes", "position")))
    assert swapped["stalin"] < base["stalin"] - 0.1
    assert swapped["trotsky"] > 2 * base["trotsky"]


PAIR_RUNS = 1500


@pytest.fixture(scope="module")
def base_pair_odds(scenario: Scenario) -> dict[str, float]:
    return _odds(scenario, runs=PAIR_RUNS)


@pytest.mark.parametrize("a,b", list(combinations(
    ("bukharin", "kamenev", "rykov", "stalin", "tomsky", "trotsky", "zinoviev"), 2)))
def test_renaming_any_two_leaders_swaps_their_odds(scenario: Scenario, base_pair_odds:
                                                   dict[str, float], a: str, b: str) -> None:
    """Swap two ids throughout the file: the odds attached to each name are the other's
    before, within sampling error (other columns, so other random numbers)."""
    renamed = _odds(_rename(scenario, a, b), seed=8, runs=PAIR_RUNS)
    swap = {a: b, b: a}
    for name, p in base_pair_odds.items():
        q = renamed[swap.get(name, name)]
        var = sum(max(x, 1 / PAIR_RUNS) * (1 - max(x, 1 / PAIR_RUNS)) / PAIR_RUNS
                  for x in (p, q))
        assert abs(p - q) < 4.5 * np.sqrt(var), (name, p, q)
