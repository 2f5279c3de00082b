"""Tests of politburo.calibration.abc_smc on small synthetic batched simulators with known
answers."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

if importlib.util.find_spec("politburo") is None:  # package not installed: use the src layout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import pytest  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from politburo.calibration.abc_smc import (  # noqa: E402
    FORMAT,
    Posterior,
    PosteriorError,
    abc_rejection,
    abc_smc,
    read_posterior,
    weighted_quantile,
    write_posterior,
)
from politburo.engine.rng import normals  # noqa: E402
from politburo.scenario.priors import PriorSet  # noqa: E402

# Synthetic problem: 50 observations from Normal(mu=1.5, sigma=0.7) drawn with a fixed seed
# (sample mean 1.508, sample sd 0.691); theta = (mu, sigma).
TRUE = np.array([1.5, 0.7])
N_OBS = 50
OBS = np.random.default_rng(2024).normal(TRUE[0], TRUE[1], N_OBS)
OBS_STATS = np.array([OBS.mean(), OBS.std(ddof=1)])
PRIOR = PriorSet(
    ("mu", "sigma"),
    ("uniform", "uniform"),
    ({"low": -3.0, "high": 5.0}, {"low": 0.05, "high": 3.0}),
)
RECOVERY_TOL = 0.1  # |posterior weighted mean - truth| per parameter (observed errors <= 0.02)


def normal_sim(theta: NDArray[np.float64], seed: int, indices: NDArray[np.int64]) -> Any:
    """Each row draws its own 50 observations from counter-based normals keyed by (seed, index);
    distance = Euclidean distance between (mean, sd) and the observed summaries."""
    z = normals(seed, indices, 0, "test/normal-obs", N_OBS)
    x = theta[:, :1] + theta[:, 1:2] * z
    stats = np.column_stack([x.mean(axis=1), x.std(axis=1, ddof=1)])
    return np.sqrt(((stats - OBS_STATS) ** 2).sum(axis=1))


def smc(seed: int = 7, batch_size: int = 2000, **kw: Any) -> Posterior:
    args: dict[str, Any] = dict(n_particles=1000, generations=10, max_simulations=100_000)
    args.update(kw)
    return abc_smc(normal_sim, PRIOR, seed=seed, batch_size=batch_size, **args)


def rejection(seed: int = 7, batch_size: int = 5000, **kw: Any) -> Posterior:
    args: dict[str, Any] = dict(n=20_000, quantile=0.05)
    args.update(kw)
    return abc_rejection(normal_sim, PRIOR, seed=seed, batch_size=batch_size, **args)


@pytest.fixture(scope="module")
def smc_post() -> Posterior:
    return smc(meta={"scenario_hash": "abc123", "version": "0.1.0"})


@pytest.fixture(scope="module")
def rej_post() -> Posterior:
    return rejection()


def wmean(p: Posterior) -> NDArray[np.float64]:
    return np.asarray(p.weights @ p.theta)


# --- recovery ---------------------------------------------------------------------------------


def test_rejection_recovers_truth(rej_post: Posterior) -> None:
    assert rej_post.theta.shape == (1000, 2)
    assert np.all(np.abs(wmean(rej_post) - TRUE) < RECOVERY_TOL)
    assert rej_post.n_simulated == 20_000 and rej_post.acceptance_rate == pytest.approx(0.05)


def test_smc_recovers_truth_and_beats_rejection_at_equal_budget(smc_post: Posterior) -> None:
    assert not smc_post.stopped_early and len(smc_post.generations) == 10
    assert np.all(np.abs(wmean(smc_post) - TRUE) < RECOVERY_TOL)
    eps = [g["epsilon"] for g in smc_post.generations]
    assert all(a >= b for a, b in zip(eps, eps[1:], strict=False))
    n = smc_post.n_simulated
    assert n == sum(g["n_simulated"] for g in smc_post.generations) <= 100_000
    rej = rejection(n=n, quantile=1000 / n)
    assert len(rej.weights) == 1000
    assert smc_post.epsilon < 0.5 * rej.epsilon  # observed: 0.12 vs 0.45


def test_smc_weights_target_conjugate_posterior() -> None:
    """Prior N(0,1), one observation y=2 with N(mu,1) noise: posterior N(1, 1/2)."""
    prior = PriorSet(("mu",), ("normal",), ({"mean": 0.0, "sd": 1.0},))

    def sim(theta: NDArray[np.float64], seed: int, idx: NDArray[np.int64]) -> Any:
        return np.abs(theta[:, 0] + normals(seed, idx, 0, "test/conj")[:, 0] - 2.0)

    p = abc_smc(
        sim,
        prior,
        n_particles=2000,
        generations=5,
        seed=3,
        batch_size=4000,
        max_simulations=100_000,
    )
    mean = p.weights @ p.theta[:, 0]
    sd = np.sqrt(p.weights @ (p.theta[:, 0] - mean) ** 2)
    assert abs(mean - 1.0) < 0.08 and abs(sd - np.sqrt(0.5)) < 0.08


# --- determinism and identity -------------------------------------------------------------------


def test_same_seed_identical_and_other_seed_differs(smc_post: Posterior) -> None:
    again = smc(meta={"scenario_hash": "abc123", "version": "0.1.0"})
    assert again == smc_post
    np.testing.assert_array_equal(again.theta, smc_post.theta)
    assert not np.array_equal(smc(seed=8, generations=3).theta, smc(generations=3).theta)
    assert rejection(n=3000) == rejection(n=3000)


@pytest.mark.parametrize("batch_size", [1, 37, 4096])
def test_batch_size_does_not_change_result(batch_size: int) -> None:
    kw: dict[str, Any] = dict(n_particles=60, generations=4, max_simulations=20_000)
    assert smc(batch_size=batch_size, **kw) == smc(**kw)
    assert rejection(batch_size=batch_size, n=1000) == rejection(n=1000)


def test_batch_size_does_not_change_early_stop() -> None:
    base = smc(n_particles=200, generations=10, max_simulations=3000)
    assert base.stopped_early
    assert smc(batch_size=77, n_particles=200, generations=10, max_simulations=3000) == base


@pytest.mark.parametrize("which", ["smc", "rejection"])
def test_history_indices_unique_and_rerun_reproduces_distance(
    which: str, smc_post: Posterior, rej_post: Posterior
) -> None:
    p = smc_post if which == "smc" else rej_post
    assert p.history_index.dtype == np.int64
    assert len(np.unique(p.history_index)) == len(p.history_index)
    for k in (0, 17, len(p.weights) - 1):
        d = normal_sim(p.theta[k : k + 1], p.seed, p.history_index[k : k + 1])
        assert d[0] == p.distance[k]
    np.testing.assert_array_equal(normal_sim(p.theta, p.seed, p.history_index), p.distance)
    assert np.all(p.distance <= p.epsilon)


def test_history_indices_never_reused_across_generations() -> None:
    seen: list[NDArray[np.int64]] = []

    def recording(theta: NDArray[np.float64], seed: int, idx: NDArray[np.int64]) -> Any:
        seen.append(idx.copy())
        return normal_sim(theta, seed, idx)

    abc_smc(
        recording,
        PRIOR,
        n_particles=200,
        generations=5,
        seed=1,
        batch_size=500,
        max_simulations=50_000,
    )
    all_idx = np.concatenate(seen)
    assert len(np.unique(all_idx)) == len(all_idx)


# --- posterior object ---------------------------------------------------------------------------


def test_ess_between_one_and_n(smc_post: Posterior, rej_post: Posterior) -> None:
    assert len(smc_post.weights) >= smc_post.ess() >= 1.0
    assert rej_post.ess() == pytest.approx(len(rej_post.weights))
    assert smc_post.weights.sum() == pytest.approx(1.0, abs=1e-12)
    for g in smc_post.generations:
        assert 1000 >= g["ess"] >= 1.0


def test_summary(smc_post: Posterior) -> None:
    df = smc_post.summary(PRIOR)
    assert list(df["name"]) == ["mu", "sigma"]
    np.testing.assert_allclose(df["prior_mean"], [1.0, 1.525])
    np.testing.assert_allclose(df["prior_q05"], [-2.6, 0.1975])
    np.testing.assert_allclose(df["posterior_mean"], wmean(smc_post))
    assert np.all(df["posterior_q05"] < TRUE) and np.all(TRUE < df["posterior_q95"])
    assert np.all(df["posterior_q95"] - df["posterior_q05"] < 0.5)


def test_weighted_quantile() -> None:
    x = np.array([3.0, 1.0, 2.0])
    assert weighted_quantile(x, np.ones(3), 0.5) == 2.0
    assert weighted_quantile(x, [0.0, 0.0, 1.0], [0.05, 0.95]).tolist() == [2.0, 2.0]
    q = weighted_quantile(np.arange(100.0), np.ones(100), np.linspace(0, 1, 11))
    assert np.all(np.diff(q) >= 0) and q[0] == 0.0 and q[-1] == 99.0


def test_resample_is_systematic(smc_post: Posterior) -> None:
    n = 5000
    idx = smc_post.resample(np.random.default_rng(0), n)
    counts = np.bincount(idx, minlength=len(smc_post.weights))
    expected = n * smc_post.weights
    assert np.all(np.abs(counts - expected) < 1.0 + 1e-9)


def test_rejection_epsilon_mode_and_arguments() -> None:
    p = rejection(n=5000, quantile=None, epsilon=0.4)
    assert np.all(p.distance <= 0.4) and p.epsilon == 0.4
    assert p.acceptance_rate == len(p.weights) / 5000
    with pytest.raises(ValueError, match="exactly one"):
        rejection(n=10, quantile=0.1, epsilon=0.1)
    with pytest.raises(ValueError, match="no simulation"):
        rejection(n=100, quantile=None, epsilon=0.0)


def test_smc_stops_early_when_budget_runs_out() -> None:
    p = smc(n_particles=200, generations=10, max_simulations=3000)
    assert p.stopped_early and p.n_simulated <= 3000
    assert p.generations[-1]["complete"] is False
    assert all(g["complete"] for g in p.generations[:-1])
    assert p.epsilon == p.generations[-2]["epsilon"]
    assert len(p.weights) == 200


def test_progress_callback() -> None:
    calls: list[tuple[int, int]] = []
    rejection(n=2500, batch_size=1000, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]
    calls.clear()
    smc(
        n_particles=100,
        generations=3,
        max_simulations=5000,
        progress=lambda d, t: calls.append((d, t)),
    )
    done = [d for d, _ in calls]
    assert done == sorted(done) and all(t == 5000 and d <= t for d, t in calls)


def test_bad_simulator_output_is_an_error() -> None:
    with pytest.raises(ValueError, match="shape"):
        abc_rejection(lambda th, s, i: np.zeros(1), PRIOR, n=10, seed=0, quantile=0.5)
    with pytest.raises(ValueError, match="negative"):
        abc_rejection(lambda th, s, i: -np.ones(len(i)), PRIOR, n=10, seed=0, quantile=0.5)


# --- storage ------------------------------------------------------------------------------------


def test_round_trip(tmp_path: Path, smc_post: Posterior, rej_post: Posterior) -> None:
    for p in (smc_post, rej_post, smc(n_particles=200, max_simulations=3000)):
        path = tmp_path / f"{p.method}.parquet"
        write_posterior(path, p)
        back = read_posterior(path, expected_names=("mu", "sigma"), expected_meta=p.meta)
        assert back == p


def test_atomic_write_leaves_no_temp_file(tmp_path: Path, smc_post: Posterior) -> None:
    path = tmp_path / "post.parquet"
    path.write_bytes(b"old contents")
    write_posterior(path, smc_post)
    write_posterior(path, smc_post)
    assert os.listdir(tmp_path) == ["post.parquet"]
    assert read_posterior(path) == smc_post


def _rewrite(path: Path, table: pa.Table, info: dict[str, Any] | None) -> None:
    meta = None if info is None else {b"politburo": json.dumps(info).encode()}
    pq.write_table(table.replace_schema_metadata(meta), path)


def _corrupt(case: str, path: Path) -> None:
    table = pq.read_table(path)
    info = json.loads(table.schema.metadata[b"politburo"])
    if case == "garbage":
        path.write_bytes(b"this is not parquet at all" * 10)
    elif case == "truncated":
        path.write_bytes(path.read_bytes()[:-40])
    elif case == "no_metadata":
        _rewrite(path, table, None)
    elif case == "bad_json":
        pq.write_table(table.replace_schema_metadata({b"politburo": b"{nope"}), path)
    elif case == "wrong_version":
        _rewrite(path, table, info | {"format": "politburo-posterior/0"})
    elif case == "missing_field":
        _rewrite(path, table, {k: v for k, v in info.items() if k != "seed"})
    elif case == "missing_column":
        _rewrite(path, table.drop_columns(["distance"]), info)
    else:
        w = table["weight"].to_numpy().copy()
        if case == "negative_weight":
            w[0] = -w[0]
        elif case == "nan_weight":
            w[3] = np.nan
        else:  # weights_sum
            w = w * 2.0
        col = table.column_names.index("weight")
        _rewrite(path, table.set_column(col, "weight", pa.array(w)), info)


CORRUPT = {
    "garbage": "not a readable Parquet file",
    "truncated": "not a readable Parquet file",
    "no_metadata": "no politburo metadata",
    "bad_json": "not a valid JSON object",
    "wrong_version": "format version 'politburo-posterior/0'",
    "missing_field": "'seed'",
    "missing_column": "missing columns ['distance']",
    "negative_weight": "negative or not finite",
    "nan_weight": "negative or not finite",
    "weights_sum": "sum to 2, not 1",
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_file_raises_posterior_error(
    case: str, tmp_path: Path, smc_post: Posterior
) -> None:
    path = tmp_path / f"corrupt-{case}.parquet"
    write_posterior(path, smc_post)
    _corrupt(case, path)
    with pytest.raises(PosteriorError) as err:
        read_posterior(path)
    msg = str(err.value)
    assert path.name in msg and CORRUPT[case] in msg and "\n" not in msg
    assert FORMAT == "politburo-posterior/1"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PosteriorError, match="nowhere.parquet: no such file"):
        read_posterior(tmp_path / "nowhere.parquet")


def test_names_and_meta_mismatch(tmp_path: Path, smc_post: Posterior) -> None:
    path = tmp_path / "post.parquet"
    write_posterior(path, smc_post)
    names_msg = r"post.parquet: .*missing \['tau'\], extra \['sigma'\]"
    with pytest.raises(PosteriorError, match=names_msg):
        read_posterior(path, expected_names=("mu", "tau"))
    with pytest.raises(PosteriorError, match="order differs"):
        read_posterior(path, expected_names=("sigma", "mu"))
    with pytest.raises(PosteriorError, match="'scenario_hash' is 'abc123' in the file but 'fff'"):
        read_posterior(path, expected_meta={"scenario_hash": "fff"})
    with pytest.raises(PosteriorError, match="'git' absent"):
        read_posterior(path, expected_meta={"git": "x"})
    assert isinstance(PosteriorError("x"), ValueError)
