"""Tests for politburo.experiment.attribution: exact and sampled Shapley values of levers."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

try:
    import politburo  # noqa: F401
except ModuleNotFoundError:  # package not installed: import it from the src layout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from politburo.experiment.attribution import (
    MAX_EXACT_LEVERS,
    ShapleyResult,
    exact_shapley,
    interaction_pairs,
    interaction_weights,
    sampled_shapley,
    shapley_weights,
)


def _names(n: int) -> list[str]:
    return [f"lever_{k}" for k in range(n)]


def _masks(n: int) -> NDArray[np.int64]:
    return np.arange(1 << n, dtype=np.int64)


def _popcount(masks: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.array([bin(int(m)).count("1") for m in masks], dtype=np.int64)


def _paired_histories(probs: NDArray[np.float64], n_hist: int, seed: int) -> NDArray[np.float64]:
    """Paired 0/1 outcomes: history h wins world S iff its one uniform u_h < probs[S]."""
    u = np.random.default_rng(seed).random(n_hist)
    return (u[:, None] < probs[None, :]).astype(np.float64)


def _brute_shapley(v: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Shapley values straight from the definition (player loop, subset loop)."""
    phi = np.zeros(n)
    for i in range(n):
        for s in range(1 << n):
            if not s >> i & 1:
                size = bin(s).count("1")
                w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                phi[i] += w * (v[s | 1 << i] - v[s])
    return phi


def _brute_interaction(v: NDArray[np.float64], n: int, i: int, j: int) -> float:
    total = 0.0
    for s in range(1 << n):
        if not (s >> i & 1 or s >> j & 1):
            t = bin(s).count("1")
            w = math.factorial(t) * math.factorial(n - t - 2) / math.factorial(n - 1)
            total += w * (v[s | 1 << i | 1 << j] - v[s | 1 << i] - v[s | 1 << j] + v[s])
    return total


def _result(values: NDArray[np.float64], n: int, seed: int = 0, n_boot: int = 200) -> ShapleyResult:
    return exact_shapley(values, _names(n), rng=np.random.default_rng(seed), n_boot=n_boot)


# --- weight matrices -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_weight_matrices_match_definitions(n: int) -> None:
    rng = np.random.default_rng(n)
    v = rng.random(1 << n)
    w = shapley_weights(n)
    assert w.shape == (1 << n, n)
    np.testing.assert_allclose(v @ w, _brute_shapley(v, n), rtol=0, atol=1e-13)
    iw = interaction_weights(n)
    assert iw.shape == (1 << n, n * (n - 1) // 2)
    assert interaction_pairs(n) == list(combinations(range(n), 2))
    for k, (i, j) in enumerate(interaction_pairs(n)):
        assert v @ iw[:, k] == pytest.approx(_brute_interaction(v, n, i, j), abs=1e-13)


@pytest.mark.parametrize("n", [2, 4, 12])
def test_weight_rows_encode_efficiency(n: int) -> None:
    """Row sums of W are +1 at N, -1 at the empty set, 0 elsewhere; columns sum to 0."""
    w = shapley_weights(n)
    expected = np.zeros(1 << n)
    expected[-1], expected[0] = 1.0, -1.0
    np.testing.assert_allclose(w.sum(axis=1), expected, atol=1e-12)
    np.testing.assert_allclose(w.sum(axis=0), 0.0, atol=1e-12)


def test_weights_reject_too_many_levers() -> None:
    with pytest.raises(ValueError, match="levers"):
        shapley_weights(MAX_EXACT_LEVERS + 1)
    with pytest.raises(ValueError, match="levers"):
        interaction_weights(0)


# --- golden closed forms ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 6])
def test_symmetric_game_splits_equally(n: int) -> None:
    v = (_popcount(_masks(n)) / n)[None, :]
    res = _result(v, n)
    np.testing.assert_allclose(res.value, 1.0 / n, rtol=0, atol=1e-15)
    assert res.total_effect == pytest.approx(1.0)
    for _, _, index, _ in res.interactions:  # additive game: no interactions
        assert index == pytest.approx(0.0, abs=1e-15)


def test_dummy_lever_gets_exactly_zero_and_others_unchanged() -> None:
    rng = np.random.default_rng(1)
    small = (rng.random((50, 1 << 3)) < 0.4).astype(float)  # 3 real levers, 50 histories
    masks = _masks(4)
    # lever 2 of the 4-lever game is the dummy: drop bit 2, close the gap
    real_mask = (masks & 0b11) | ((masks >> 3) << 2)
    big = small[:, real_mask]
    res_small, res_big = _result(small, 3), _result(big, 4)
    assert res_big.value[2] == 0.0
    np.testing.assert_allclose(res_big.value[[0, 1, 3]], res_small.value, rtol=0, atol=1e-14)
    assert res_big.total_effect == pytest.approx(res_small.total_effect, abs=1e-15)
    for name_i, name_j, index, _ in res_big.interactions:
        if "lever_2" in (name_i, name_j):
            assert index == pytest.approx(0.0, abs=1e-15)


def test_levers_that_do_the_same_thing_get_equal_values() -> None:
    rng = np.random.default_rng(2)
    n = 5
    masks = _masks(n)
    either = ((masks >> 1) | (masks >> 3)) & 1  # levers 1 and 3 act only through their OR
    reduced = (masks & 0b101) | (either << 1) | (((masks >> 4) & 1) << 3)
    table = rng.random((30, 1 << 4))
    res = _result(table[:, reduced], n)
    assert res.value[1] == res.value[3]
    assert res.value[1] != 0.0


@pytest.mark.parametrize("seed", range(4))
def test_efficiency(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2 + seed * 3  # 2, 5, 8, 11
    values = (rng.random((40, 1 << n)) < rng.random(1 << n)).astype(float)
    res = _result(values, n)
    assert abs(res.value.sum() - res.total_effect) <= 1e-12
    assert res.total_effect == pytest.approx(values[:, -1].mean() - values[:, 0].mean())


# --- agreement with shapiq -------------------------------------------------------------------


@pytest.mark.parametrize("n", range(3, 9))
def test_agrees_with_shapiq_exact_computer(n: int) -> None:
    """shapiq.ExactComputer: index "SV" for values, "SII" (order 2) for pairs.

    shapiq's SII base weight for a pair is 1/((n-1) binom(n-2, t)) = t!(n-t-2)!/(n-1)!, i.e.
    exactly Grabisch-Roubens; its order-2 entries for pairs are the raw SII (the order-2 k-SII
    top order coincides with it, its lower orders do not).
    """
    shapiq = pytest.importorskip("shapiq")
    v = np.random.default_rng(100 + n).normal(size=1 << n)
    powers = 1 << np.arange(n)

    def game(coalitions: NDArray[np.bool_]) -> NDArray[np.float64]:
        return v[coalitions.astype(np.int64) @ powers]

    computer = shapiq.ExactComputer(game, n_players=n)
    sv, sii = computer("SV"), computer("SII", order=2)
    res = _result(v[None, :], n, n_boot=2)
    np.testing.assert_allclose(res.value, [sv[(i,)] for i in range(n)], rtol=0, atol=1e-9)
    ours = {(a, b): index for a, b, index, _ in res.interactions}
    for i, j in combinations(range(n), 2):
        assert ours[(f"lever_{i}", f"lever_{j}")] == pytest.approx(sii[(i, j)], abs=1e-9)


# --- result structure, bootstrap -------------------------------------------------------------


def test_result_structure_and_interaction_order() -> None:
    rng = np.random.default_rng(3)
    n = 4
    values = (rng.random((80, 1 << n)) < rng.random(1 << n)).astype(float)
    res = _result(values, n)
    assert res.names == tuple(_names(n))
    assert res.value.shape == (n,) and res.ci.shape == (n, 2)
    assert res.n_histories == 80
    assert np.all(res.ci[:, 0] <= res.ci[:, 1])
    assert res.total_effect_ci[0] <= res.total_effect <= res.total_effect_ci[1]
    sizes = [abs(index) for _, _, index, _ in res.interactions]
    assert len(sizes) == 6 and sizes == sorted(sizes, reverse=True)
    with pytest.raises(ValueError):
        res.value[0] = 1.0  # read-only


def test_same_rng_seed_same_intervals() -> None:
    values = _paired_histories(np.linspace(0.1, 0.9, 8), 100, seed=4)
    a, b = _result(values, 3, seed=9), _result(values, 3, seed=9)
    np.testing.assert_array_equal(a.ci, b.ci)


def _noisy_truth(n: int) -> NDArray[np.float64]:
    bits = (_masks(n)[:, None] >> np.arange(n)) & 1
    effects = np.array([0.12, -0.08, 0.05, 0.02, -0.03, 0.04])[:n]
    return 0.35 + bits @ effects + 0.1 * bits[:, 0] * bits[:, 1]


def test_bootstrap_ci_covers_truth_on_noisy_game() -> None:
    n = 4
    probs = _noisy_truth(n)
    truth = _brute_shapley(probs, n)
    res = _result(_paired_histories(probs, 3000, seed=5), n, seed=6, n_boot=1000)
    assert np.all((res.ci[:, 0] <= truth) & (truth <= res.ci[:, 1]))
    lo, hi = res.total_effect_ci
    assert lo <= probs[-1] - probs[0] <= hi
    assert np.all(res.ci[:, 1] - res.ci[:, 0] < 0.1)


def test_bootstrap_ci_coverage_rate() -> None:
    """Over 200 replicate experiments the nominal-95% intervals cover the truth >= 90%."""
    n = 3
    probs = _noisy_truth(n)
    truth = _brute_shapley(probs, n)
    rng = np.random.default_rng(7)
    hits = np.zeros(n)
    for rep in range(200):
        values = _paired_histories(probs, 400, seed=1000 + rep)
        res = exact_shapley(values, _names(n), rng=rng, n_boot=300)
        hits += (res.ci[:, 0] <= truth) & (truth <= res.ci[:, 1])
    assert np.all(hits / 200 >= 0.90)


def test_twelve_levers_thousand_histories_shapes() -> None:
    n, n_hist = 12, 1000
    probs = np.random.default_rng(8).random(1 << n)
    res = _result(_paired_histories(probs, n_hist, seed=8), n, n_boot=100)
    assert res.value.shape == (n,) and res.ci.shape == (n, 2)
    assert len(res.interactions) == n * (n - 1) // 2
    assert res.n_histories == n_hist
    assert abs(res.value.sum() - res.total_effect) <= 1e-12


def test_exact_rejects_bad_shapes() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="shape"):
        exact_shapley(np.zeros((5, 7)), _names(3), rng=rng)
    with pytest.raises(ValueError, match="n_boot"):
        exact_shapley(np.zeros((5, 8)), _names(3), rng=rng, n_boot=1)


# --- property: relabelling levers ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_permuting_levers_permutes_values(seed: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 6), label="n")
    perm = np.array(data.draw(st.permutations(range(n)), label="perm"))
    values = np.random.default_rng(seed).random((7, 1 << n))
    # new lever k is old lever perm[k]: new mask bit k set  <=>  old mask bit perm[k] set
    new_bits = (_masks(n)[:, None] >> np.arange(n)) & 1
    old_mask = new_bits @ (1 << perm)
    relabelled = values[:, old_mask]
    a, b = _result(values, n, seed=1), _result(relabelled, n, seed=1)
    np.testing.assert_allclose(b.value, a.value[perm], rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.ci, a.ci[perm], rtol=0, atol=1e-12)
    assert b.total_effect == a.total_effect


# --- permutation sampling --------------------------------------------------------------------


def _table_value_fn(
    table: NDArray[np.float64], calls: list[NDArray[np.int64]] | None = None
) -> Callable[[NDArray[np.int64]], NDArray[np.float64]]:
    def value_fn(masks: NDArray[np.int64]) -> NDArray[np.float64]:
        if calls is not None:
            calls.append(np.array(masks))
        return table[:, masks]

    return value_fn


def test_sampled_matches_exact_on_six_levers() -> None:
    """4000 permutations (2000 antithetic pairs): within 0.02 of the exact values."""
    n = 6
    rng = np.random.default_rng(10)
    table = _paired_histories(rng.random(1 << n), 300, seed=11)
    exact = _result(table, n).value
    calls: list[NDArray[np.int64]] = []
    res = sampled_shapley(
        _table_value_fn(table, calls),
        n,
        _names(n),
        n_permutations=4000,
        rng=np.random.default_rng(12),
        n_boot=300,
    )
    np.testing.assert_allclose(res.value, exact, rtol=0, atol=0.02)
    assert np.all((res.ci[:, 0] <= exact) & (exact <= res.ci[:, 1]))
    assert abs(res.value.sum() - res.total_effect) <= 1e-12
    assert res.total_effect == pytest.approx(table[:, -1].mean() - table[:, 0].mean())
    assert res.interactions == [] and res.n_histories == 300
    for masks in calls:  # each distinct mask asked once per batch
        assert np.unique(masks).size == masks.size


def test_sampled_additive_game_is_exact_with_many_levers() -> None:
    """Additive game, 20 levers: every permutation gives the exact values; no permutation
    variance, so only the history bootstrap widens the interval."""
    n = 20
    effects = np.linspace(-0.05, 0.05, n)
    noise = np.random.default_rng(13).normal(scale=0.01, size=(50, n))

    def value_fn(masks: NDArray[np.int64]) -> NDArray[np.float64]:
        bits = ((masks[:, None] >> np.arange(n)) & 1).astype(float)
        return (effects + noise) @ bits.T

    res = sampled_shapley(
        value_fn, n, _names(n), n_permutations=8, rng=np.random.default_rng(14), n_boot=200
    )
    np.testing.assert_allclose(res.value, effects + noise.mean(axis=0), rtol=0, atol=1e-12)
    assert np.all(res.ci[:, 0] <= res.value) and np.all(res.value <= res.ci[:, 1])


def test_sampled_rejects_bad_arguments() -> None:
    fn = _table_value_fn(np.zeros((3, 8)))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="even"):
        sampled_shapley(fn, 3, _names(3), n_permutations=7, rng=rng)
    with pytest.raises(ValueError, match="lever names"):
        sampled_shapley(fn, 3, _names(2), n_permutations=8, rng=rng)
