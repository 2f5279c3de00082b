"""Counter-based randomness: pure functions of their coordinates."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import ndtri

from politburo.engine import rng


def test_kernel_matches_the_numpy_reference() -> None:
    idx = np.arange(5000)
    got = rng.uniforms(3, idx, 7, "x", 5)
    assert np.array_equal(got, rng.uniforms_reference(3, idx, 7, "x", 5))


@settings(max_examples=200, deadline=None)
@given(st.integers(-2**70, 2**70), st.integers(-2**40, 2**40), st.text(max_size=12))
def test_the_key_in_python_integers_is_the_numpy_key(seed: int, month: int, purpose: str) -> None:
    got = rng._base(seed, month, purpose)
    assert isinstance(got, np.uint64) and got == rng._base_reference(seed, month, purpose)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32), st.integers(-1, 200), st.lists(st.integers(0, 10**9), min_size=1,
                                                             max_size=30, unique=True))
def test_a_draw_depends_only_on_its_coordinates(seed: int, month: int, hist: list[int]) -> None:
    idx = np.array(hist, dtype=np.int64)
    whole = rng.uniforms(seed, idx, month, "vote", 3)
    for k, h in enumerate(hist):
        alone = rng.uniforms(seed, np.array([h]), month, "vote", 3)
        assert np.array_equal(alone[0], whole[k])


def test_purposes_months_and_seeds_give_different_streams() -> None:
    idx = np.arange(1000)
    a = rng.uniforms(1, idx, 5, "a")
    assert not np.array_equal(a, rng.uniforms(1, idx, 5, "b"))
    assert not np.array_equal(a, rng.uniforms(1, idx, 6, "a"))
    assert not np.array_equal(a, rng.uniforms(2, idx, 5, "a"))


def test_uniforms_are_uniform_and_normals_normal() -> None:
    u = rng.uniforms(9, np.arange(200_000), 0, "test", 1)[:, 0]
    assert 0 < u.min() and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 0.001
    z = rng.normals(9, np.arange(200_000), 0, "test", 1)[:, 0]
    assert np.allclose(z, ndtri(u), atol=1e-12)  # AS 241 agrees with SciPy's quantile
    assert stats.kstest(z, "norm").pvalue > 0.001


def test_normals_in_two_passes_are_the_quantiles_of_the_uniforms() -> None:
    """The batch kernel (central branch for all, then the tails) gives the bits of the one-draw
    quantile on each uniform, for widths 1, 7 and 10 and both branches."""
    idx = np.arange(20_000, dtype=np.int64) * 31 + 5
    for width in (1, 7, 10):
        u = rng.uniforms(4, idx, 12, "policy:x", width)
        z = rng.normals(4, idx, 12, "policy:x", width)
        one = np.array([[rng._ppnd16(x) for x in row] for row in u])
        assert z.tobytes() == one.tobytes()
        assert (np.abs(u - 0.5) > 0.425).any() and (np.abs(u - 0.5) <= 0.425).any()
