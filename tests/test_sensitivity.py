"""Tests for politburo.experiment.sensitivity: Sobol' indices through SALib."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

try:
    import politburo  # noqa: F401
except ModuleNotFoundError:  # package not installed: import it from the src layout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from politburo.experiment.sensitivity import SobolResult, sobol_indices

PI_BOUNDS = [(-math.pi, math.pi)] * 3
TOL = 0.05  # absolute tolerance at n_base = 2**12; observed errors < 0.002 over seeds


def _ishigami_analytic(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Closed-form S1 and ST of the Ishigami function on [-pi, pi]^3."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def ishigami(x: NDArray[np.float64], a: float = 7.0, b: float = 0.1) -> NDArray[np.float64]:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_analytic_reference_values() -> None:
    s1, st = _ishigami_analytic()
    np.testing.assert_allclose(s1, [0.314, 0.442, 0.0], atol=1e-3)
    np.testing.assert_allclose(st, [0.558, 0.442, 0.244], atol=1e-3)


def test_ishigami_indices_match_closed_form() -> None:
    res = sobol_indices(["x1", "x2", "x3"], PI_BOUNDS, ishigami, n_base=2**12, seed=42)
    s1, st = _ishigami_analytic()
    np.testing.assert_allclose(res.S1, s1, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.ST, st, rtol=0, atol=TOL)
    assert res.n_evaluations == 2**12 * (3 + 2)
    assert np.all(res.S1_conf > 0) and np.all(res.ST_conf > 0)
    assert res.S2 is None and res.S2_conf is None


def test_ishigami_second_order() -> None:
    """Only x1-x3 interact: S2[0, 2] = V13 / V ~ 0.244, the other pairs ~ 0."""
    res = sobol_indices(
        ["x1", "x2", "x3"], PI_BOUNDS, ishigami, n_base=2**12, seed=3, calc_second_order=True
    )
    assert res.n_evaluations == 2**12 * (2 * 3 + 2)
    assert res.S2 is not None
    st = _ishigami_analytic()[1]
    assert res.S2[0, 2] == pytest.approx(st[2], abs=TOL)
    assert res.S2[0, 1] == pytest.approx(0.0, abs=TOL)
    assert res.S2[1, 2] == pytest.approx(0.0, abs=TOL)


def test_single_active_variable() -> None:
    def only_second(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.exp(x[:, 1]) + x[:, 1] ** 3

    bounds = [(0.0, 1.0), (-1.0, 2.0), (5.0, 10.0), (0.0, 1.0)]
    res = sobol_indices(["a", "b", "c", "d"], bounds, only_second, n_base=2**10, seed=1)
    np.testing.assert_allclose(res.S1[1], 1.0, atol=TOL)
    np.testing.assert_allclose(res.ST[1], 1.0, atol=TOL)
    inactive = [0, 2, 3]
    np.testing.assert_allclose(res.S1[inactive], 0.0, atol=1e-12)  # f(A_B^i) == f(A) exactly
    np.testing.assert_allclose(res.ST[inactive], 0.0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_identical_result(seed: int) -> None:
    args = (["x1", "x2", "x3"], PI_BOUNDS, ishigami)
    a = sobol_indices(*args, n_base=2**8, seed=seed)
    b = sobol_indices(*args, n_base=2**8, seed=seed)
    for field in ("S1", "S1_conf", "ST", "ST_conf"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.to_dict() == b.to_dict()
    c = sobol_indices(*args, n_base=2**8, seed=seed + 1)
    assert not np.array_equal(a.S1, c.S1)


def test_to_dict_is_plot_ready_json() -> None:
    res = sobol_indices(["x1", "x2", "x3"], PI_BOUNDS, ishigami, n_base=2**6, seed=5)
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["n_evaluations"] == res.n_evaluations
    assert [p["name"] for p in d["parameters"]] == ["x1", "x2", "x3"]
    assert set(d["parameters"][0]) == {"name", "S1", "S1_conf", "ST", "ST_conf"}
    assert d["parameters"][1]["ST"] == float(res.ST[1])
    assert isinstance(res, SobolResult)
    with pytest.raises(ValueError):
        res.S1[0] = 0.0  # read-only


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="power of two"):
        sobol_indices(["x"], [(0.0, 1.0)], lambda x: x[:, 0], n_base=100, seed=0)
    with pytest.raises(ValueError, match="bound"):
        sobol_indices(["x", "y"], [(0.0, 1.0)], lambda x: x[:, 0], n_base=64, seed=0)
    with pytest.raises(ValueError, match="constant"):
        sobol_indices(["x"], [(0.0, 1.0)], lambda x: np.ones(len(x)), n_base=64, seed=0)
    with pytest.raises(ValueError, match="outputs"):
        sobol_indices(["x"], [(0.0, 1.0)], lambda x: x[:3, 0], n_base=64, seed=0)
