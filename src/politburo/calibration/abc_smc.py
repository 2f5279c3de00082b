"""Approximate Bayesian Computation over a batched, vectorised simulator.

Two samplers calibrate a scenario's uncertain parameters against historical milestones:

- ``abc_rejection``: rejection ABC (Pritchard, Seielstad, Perez-Lezaun and Feldman 1999,
  *Mol. Biol. Evol.* 16:1791) -- draw from the prior, keep the closest fraction.
- ``abc_smc``: ABC-SMC after Beaumont, Cornuet, Marin and Robert 2009 ("Adaptive approximate
  Bayesian computation", *Biometrika* 96:983), with the adaptive tolerance schedule of Del Moral,
  Doucet and Jasra 2012 (*Stat. Comput.* 22:1009): each tolerance is the ``alpha``-quantile of
  the previous generation's distances, proposals perturb weighted particles with a Gaussian kernel
  of twice their weighted covariance, and importance weights are prior / mixture-of-kernels.

Why not pyabc: its model interface simulates one particle per call through its own sampler and
database machinery, which would lose the vectorised engine's speed by orders of magnitude, and
its own RNG handling cannot give the (seed, history index) identity the counterfactual re-runs
need. Here every simulated history is named by ``(seed, history index)``; indices are handed out
from a counter and never reused. All ABC randomness (prior draws, parent choice, perturbation)
is counter-based too (``politburo.engine.rng.uniforms`` keyed by the same seed and history
index, under purposes of its own), so results do not depend on ``batch_size``. Indices are
``index = 0..n-1`` for rejection and for SMC's generation 0, and ``(g << 40) + k`` for
proposal ``k`` of SMC generation ``g``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray
from scipy.special import logsumexp, ndtri

from politburo.engine.rng import uniforms
from politburo.scenario.priors import PriorSet

FORMAT = "politburo-posterior/1"
_META_KEY = b"politburo"
_RESERVED = ("weight", "distance", "history_index")
_GEN_SHIFT = 40
_CHUNK_ELEMS = 1 << 22  # new x old particle pairs per chunk of the weight computation

Progress = Callable[[int, int], None]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ArrayLike = FloatArray | float | list[float]


class BatchSimulator(Protocol):
    def __call__(self, theta: FloatArray, seed: int, indices: IntArray, /) -> FloatArray:
        """Distances (n,) >= 0 of histories ``indices`` of ``seed`` run with rows ``theta``.

        Called positionally; history ``indices[i]`` must use only its own random numbers, so a
        row's distance does not depend on which other rows share its batch.
        """
        ...


class PosteriorError(ValueError):
    """A stored posterior is missing, unreadable, malformed or does not fit the scenario."""


def weighted_quantile(x: ArrayLike, w: ArrayLike, q: ArrayLike) -> Any:
    """Quantiles of ``x`` under weights ``w``; plotting positions (cum. weight - w/2) / total.

    With equal weights this is the Hazen definition (the median of an odd sample is its middle).
    """
    xs, ws = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    keep = ws > 0
    xs, ws = xs[keep], ws[keep]
    order = np.argsort(xs, kind="stable")
    xs, ws = xs[order], ws[order]
    cw = np.cumsum(ws)
    return np.interp(q, (cw - 0.5 * ws) / cw[-1], xs)


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
    return bool(a == b)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@dataclass(frozen=True, eq=False)
class Posterior:
    """Weighted particles approximating the ABC posterior, with their provenance."""

    names: tuple[str, ...]
    theta: FloatArray
    weights: FloatArray
    distance: FloatArray
    seed: int
    history_index: IntArray
    epsilon: float
    n_simulated: int
    acceptance_rate: float
    method: str
    generations: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    stopped_early: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.names))
        for name, dtype, ndim in (
            ("theta", np.float64, 2),
            ("weights", np.float64, 1),
            ("distance", np.float64, 1),
            ("history_index", np.int64, 1),
        ):
            arr: NDArray[Any] = np.array(getattr(self, name), dtype=dtype)  # a private copy
            if arr.ndim != ndim:
                raise ValueError(f"Posterior.{name} must have {ndim} dimensions")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        n, d = self.theta.shape
        if d != len(self.names) or {
            len(self.weights),
            len(self.distance),
            len(self.history_index),
        } != {n}:
            raise ValueError("Posterior arrays disagree in shape")
        if self.method not in ("rejection", "smc"):
            raise ValueError(f"unknown ABC method {self.method!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Posterior):
            return NotImplemented
        return all(_eq(getattr(self, f), getattr(other, f)) for f in self.__dataclass_fields__)

    __hash__ = None  # type: ignore[assignment]

    def ess(self) -> float:
        """Effective sample size 1 / sum(w^2) of the normalised weights."""
        return float(1.0 / np.sum(self.weights**2))

    def summary(self, prior: PriorSet) -> pd.DataFrame:
        """One row per parameter: prior mean and 5%/95%, posterior weighted mean and 5%/95%."""
        if tuple(prior.names) != self.names:
            raise ValueError(f"prior names {prior.names} differ from posterior {self.names}")
        interval = prior.interval(0.9)
        post_q = [
            weighted_quantile(self.theta[:, j], self.weights, [0.05, 0.95])
            for j in range(len(self.names))
        ]
        return pd.DataFrame(
            {
                "name": list(self.names),
                "prior_mean": prior.mean(),
                "prior_q05": interval[:, 0],
                "prior_q95": interval[:, 1],
                "posterior_mean": self.weights @ self.theta,
                "posterior_q05": [q[0] for q in post_q],
                "posterior_q95": [q[1] for q in post_q],
            }
        )

    def resample(self, rng: np.random.Generator, n: int) -> IntArray:
        """``n`` particle indices by systematic resampling with the weights."""
        cdf = np.cumsum(self.weights)
        u = (rng.uniform() + np.arange(n)) / n
        idx = np.searchsorted(cdf, u * cdf[-1], side="right")
        return np.minimum(idx, len(self.weights) - 1).astype(np.int64)


def _simulate(simulate: BatchSimulator, theta: FloatArray, seed: int, idx: IntArray) -> FloatArray:
    if len(idx) == 0:
        return np.empty(0)
    d = np.asarray(simulate(theta, seed, idx), dtype=np.float64)
    if d.shape != idx.shape:
        raise ValueError(f"simulator returned shape {d.shape}, expected {idx.shape}")
    if np.isnan(d).any() or (d < 0).any():
        raise ValueError("simulator returned NaN or negative distances")
    return d


def _prior_draws(prior: PriorSet, seed: int, idx: IntArray) -> FloatArray:
    return prior.ppf(uniforms(seed, idx, 0, "abc/prior", prior.dim))


def _gen(g: int, eps: float, sims: int, acc: int, ess: float | None, done: bool) -> dict[str, Any]:
    return {
        "generation": g,
        "epsilon": eps,
        "n_simulated": sims,
        "n_accepted": acc,
        "acceptance_rate": acc / max(sims, 1),
        "ess": ess,
        "complete": done,
    }


def abc_rejection(
    simulate: BatchSimulator,
    prior: PriorSet,
    *,
    n: int,
    seed: int,
    quantile: float | None = None,
    epsilon: float | None = None,
    batch_size: int = 10_000,
    progress: Progress | None = None,
    meta: Mapping[str, str] | None = None,
) -> Posterior:
    """Rejection ABC: simulate ``n`` prior draws (histories 0..n-1), keep the closest ones.

    Give exactly one of ``quantile`` (keep that fraction, at least one, ties broken by history
    index) or ``epsilon`` (keep distance <= epsilon). Memory is bounded by the kept particles.
    """
    if (quantile is None) == (epsilon is None):
        raise ValueError("give exactly one of quantile and epsilon")
    if n < 1 or batch_size < 1:
        raise ValueError("n and batch_size must be positive")
    if quantile is not None and not 0 < quantile <= 1:
        raise ValueError("quantile must lie in (0, 1]")
    keep = max(1, round(quantile * n)) if quantile is not None else None
    cut = float(epsilon) if epsilon is not None else np.inf
    th, dist, idx = np.empty((0, prior.dim)), np.empty(0), np.empty(0, dtype=np.int64)
    for start in range(0, n, batch_size):
        b_idx = np.arange(start, min(start + batch_size, n), dtype=np.int64)
        b_th = _prior_draws(prior, seed, b_idx)
        b_d = _simulate(simulate, b_th, seed, b_idx)
        if keep is None:
            ok = b_d <= cut
            b_th, b_d, b_idx = b_th[ok], b_d[ok], b_idx[ok]
        th, dist = np.vstack([th, b_th]), np.concatenate([dist, b_d])
        idx = np.concatenate([idx, b_idx])
        if keep is not None and len(dist) > keep:
            best = np.lexsort((idx, dist))[:keep]
            th, dist, idx = th[best], dist[best], idx[best]
        if progress is not None:
            progress(min(start + batch_size, n), n)
    if len(dist) == 0:
        raise ValueError(f"no simulation out of {n} came within epsilon={epsilon}")
    order = np.argsort(idx, kind="stable")
    th, dist, idx = th[order], dist[order], idx[order]
    eps = float(dist.max()) if keep is not None else cut
    m = len(dist)
    return Posterior(
        prior.names,
        th,
        np.full(m, 1.0 / m),
        dist,
        seed,
        idx,
        eps,
        n,
        m / n,
        "rejection",
        [_gen(0, eps, n, m, float(m), True)],
        dict(meta or {}),
    )


def _kernel_chol(theta: FloatArray, w: FloatArray) -> FloatArray:
    """Cholesky factor of 2 x the weighted covariance (Beaumont et al. 2009), jittered if needed."""
    centred = theta - w @ theta
    cov = 2.0 * (centred.T * w) @ centred
    scale = max(float(np.mean(np.diag(cov))), 1e-300)
    for jitter in [0.0] + [scale * 10.0**k for k in range(-12, 1)]:
        try:
            return np.linalg.cholesky(cov + jitter * np.eye(len(cov)))
        except np.linalg.LinAlgError:
            continue
    return np.eye(len(cov)) * np.sqrt(scale)


def _smc_log_weights(
    prior: PriorSet, new: FloatArray, old: FloatArray, w_old: FloatArray, chol: FloatArray
) -> FloatArray:
    """log prior(new) - log sum_j w_j K(new | old_j), chunked over new particles."""
    centre = w_old @ old
    white_old = np.linalg.solve(chol, (old - centre).T).T
    white_new = np.linalg.solve(chol, (new - centre).T).T
    sq_old = np.sum(white_old**2, axis=1)
    log_norm = -0.5 * old.shape[1] * np.log(2 * np.pi) - np.sum(np.log(np.diag(chol)))
    with np.errstate(divide="ignore"):
        log_w_old = np.log(w_old)
    out = np.empty(len(new))
    step = max(1, _CHUNK_ELEMS // len(old))
    for s in range(0, len(new), step):
        wn = white_new[s : s + step]
        sq = np.sum(wn**2, axis=1)[:, None] + sq_old[None, :] - 2.0 * wn @ white_old.T
        log_k = log_norm - 0.5 * np.maximum(sq, 0.0)
        out[s : s + step] = logsumexp(log_k + log_w_old[None, :], axis=1)
    return prior.logpdf(new) - out


def _normalise(logw: FloatArray) -> FloatArray:
    w = np.exp(logw - logsumexp(logw))
    return w / w.sum()


def abc_smc(
    simulate: BatchSimulator,
    prior: PriorSet,
    *,
    n_particles: int,
    generations: int,
    seed: int,
    alpha: float = 0.5,
    batch_size: int = 10_000,
    max_simulations: int,
    progress: Progress | None = None,
    meta: Mapping[str, str] | None = None,
) -> Posterior:
    """ABC-SMC with adaptive tolerances; ``generations`` counts the initial prior generation.

    Generation 0 simulates ``n_particles`` prior draws and accepts them all. Generation ``g``
    proposes in counter order, simulates in batches and keeps the first ``n_particles`` with
    distance <= epsilon_g. ``n_simulated`` counts simulations up to each generation's last
    accepted proposal (a generation's last batch may run up to ``batch_size - 1`` more, which are
    discarded uncounted so that results do not depend on ``batch_size``). If ``max_simulations``
    runs out mid-generation, sampling stops, that generation is recorded with
    ``complete=False``, ``stopped_early`` is set and the last complete generation is returned.
    """
    if n_particles < 2 or generations < 1 or batch_size < 1 or not 0 < alpha < 1:
        raise ValueError("need n_particles >= 2, generations, batch_size >= 1, 0 < alpha < 1")
    if max_simulations < n_particles:
        raise ValueError("max_simulations must be at least n_particles")
    d_dim = prior.dim
    idx = np.arange(n_particles, dtype=np.int64)
    theta = _prior_draws(prior, seed, idx)
    dist = np.concatenate(
        [
            _simulate(simulate, theta[s : s + batch_size], seed, idx[s : s + batch_size])
            for s in range(0, n_particles, batch_size)
        ]
    )
    w = np.full(n_particles, 1.0 / n_particles)
    eps, total, ran, stopped = float(dist.max()), n_particles, n_particles, False
    if progress is not None:
        progress(total, max_simulations)
    records = [_gen(0, eps, n_particles, n_particles, float(n_particles), True)]
    for g in range(1, generations):
        eps_g = float(weighted_quantile(dist, w, alpha))
        chol = _kernel_chol(theta, w)
        cdf = np.cumsum(w)
        acc_th, acc_d, acc_i, acc_rank = [], [], [], []
        n_acc, k, sims, budget = 0, 0, 0, max_simulations - total
        while n_acc < n_particles and sims < budget:
            if k + batch_size > 1 << _GEN_SHIFT:
                raise RuntimeError("proposal counter overflow: prior support too narrow?")
            b_idx = (g << _GEN_SHIFT) + np.arange(k, k + batch_size, dtype=np.int64)
            k += batch_size
            u = uniforms(seed, b_idx, 0, "abc/smc/propose", 1 + d_dim)
            parent = np.minimum(
                np.searchsorted(cdf, u[:, 0] * cdf[-1], side="right"), n_particles - 1
            )
            z, prop = ndtri(u[:, 1:]), theta[parent]
            for j in range(d_dim):  # not a BLAS matmul, whose rounding depends on the batch
                prop = prop + z[:, j : j + 1] * chol[:, j]
            inside = np.flatnonzero(np.isfinite(prior.logpdf(prop)))[: budget - sims]
            b_d = _simulate(simulate, prop[inside], seed, b_idx[inside])
            ok = b_d <= eps_g
            acc_th.append(prop[inside][ok])
            acc_d.append(b_d[ok])
            acc_i.append(b_idx[inside][ok])
            acc_rank.append(sims + 1 + np.flatnonzero(ok))
            sims, ran, n_acc = sims + len(inside), ran + len(inside), n_acc + int(ok.sum())
            if progress is not None:  # counts every simulation run, discarded ones included
                progress(min(ran, max_simulations), max_simulations)
        if n_acc < n_particles:
            total, stopped = total + sims, True
            records.append(_gen(g, eps_g, sims, n_acc, None, False))
            break
        new_th = np.vstack(acc_th)[:n_particles]
        used = int(np.concatenate(acc_rank)[n_particles - 1])
        w = _normalise(_smc_log_weights(prior, new_th, theta, w, chol))
        theta, dist = new_th, np.concatenate(acc_d)[:n_particles]
        idx = np.concatenate(acc_i)[:n_particles]
        eps, total = eps_g, total + used
        records.append(_gen(g, eps, used, n_particles, float(1.0 / np.sum(w**2)), True))
    last = [r for r in records if r["complete"]][-1]
    return Posterior(
        prior.names,
        theta,
        w,
        dist,
        seed,
        idx,
        eps,
        total,
        float(last["acceptance_rate"]),
        "smc",
        records,
        dict(meta or {}),
        stopped,
    )


def write_posterior(path: str | os.PathLike[str], posterior: Posterior) -> None:
    """Store ``posterior`` as one Parquet file, atomically (temp file, fsync, os.replace)."""
    path = Path(path)
    clash = set(posterior.names) & set(_RESERVED)
    if clash:
        raise ValueError(f"parameter names {sorted(clash)} clash with reserved columns")
    cols: dict[str, Any] = {n: posterior.theta[:, j] for j, n in enumerate(posterior.names)}
    cols.update(
        weight=posterior.weights, distance=posterior.distance, history_index=posterior.history_index
    )
    info = {
        "format": FORMAT,
        "names": list(posterior.names),
        "seed": int(posterior.seed),
        "epsilon": float(posterior.epsilon),
        "n_simulated": int(posterior.n_simulated),
        "acceptance_rate": float(posterior.acceptance_rate),
        "method": posterior.method,
        "generations": posterior.generations,
        "meta": dict(posterior.meta),
        "stopped_early": bool(posterior.stopped_early),
    }
    table = pa.table(cols)
    table = table.replace_schema_metadata({_META_KEY: json.dumps(info).encode()})
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename durable (POSIX; not on Windows)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def read_posterior(
    path: str | os.PathLike[str],
    *,
    expected_names: tuple[str, ...] | None = None,
    expected_meta: Mapping[str, str] | None = None,
) -> Posterior:
    """Read a posterior written by :func:`write_posterior`, checking it thoroughly.

    Raises :class:`PosteriorError` (one line, naming the file) when the file is missing or
    unreadable, its metadata or columns are missing or malformed, its weights are invalid, or it
    does not match ``expected_names`` / ``expected_meta``.
    """
    path = Path(path)

    def fail(msg: str) -> PosteriorError:
        return PosteriorError(f"{path}: {msg}")

    if not path.is_file():
        raise fail("no such file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise fail(f"not a readable Parquet file ({_first_line(exc)})") from None
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise fail("no politburo metadata; not a posterior file")
    try:
        info = json.loads(raw)
        fmt = info.get("format")
    except (ValueError, AttributeError):
        raise fail("politburo metadata is not a valid JSON object") from None
    if fmt != FORMAT:
        raise fail(f"format version {fmt!r} is not the supported {FORMAT!r}")
    try:
        names = tuple(str(n) for n in info["names"])
        scalars = (
            int(info["seed"]),
            float(info["epsilon"]),
            int(info["n_simulated"]),
            float(info["acceptance_rate"]),
            str(info["method"]),
        )
        gens, meta = list(info["generations"]), {str(k): str(v) for k, v in info["meta"].items()}
        stopped = bool(info.get("stopped_early", False))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise fail(f"metadata field missing or malformed ({exc!r})") from None
    missing = [c for c in (*names, *_RESERVED) if c not in table.column_names]
    if missing:
        raise fail(f"missing columns {missing}")
    if table.num_rows == 0:
        raise fail("holds no particles")
    try:
        theta = np.column_stack([table[n].to_numpy().astype(np.float64) for n in names])
        w, dist = (table[c].to_numpy().astype(np.float64) for c in ("weight", "distance"))
        hidx = table["history_index"].to_numpy()
        if hidx.dtype.kind not in "iu":
            raise TypeError(f"history_index has type {hidx.dtype}")
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise fail(f"columns of the wrong type ({_first_line(exc)})") from None
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise fail("weights are negative or not finite")
    if abs(w.sum() - 1.0) > 1e-6:
        raise fail(f"weights sum to {w.sum():.9g}, not 1")
    if not np.all(np.isfinite(theta)) or np.isnan(dist).any() or (dist < 0).any():
        raise fail("parameter values not finite or distances NaN/negative")
    if expected_names is not None and tuple(expected_names) != names:
        miss = [n for n in expected_names if n not in names]
        extra = [n for n in names if n not in expected_names]
        detail = f"missing {miss}, extra {extra}" if miss or extra else "order differs"
        raise fail(f"parameter names differ from the scenario's: {detail}")
    for key, want in (expected_meta or {}).items():
        if key not in meta:
            raise fail(f"meta {key!r} absent, expected {want!r}")
        if meta[key] != want:
            raise fail(f"meta {key!r} is {meta[key]!r} in the file but {want!r} is expected")
    try:
        return Posterior(
            names,
            theta,
            w,
            dist,
            scalars[0],
            hidx.astype(np.int64),
            scalars[1],
            scalars[2],
            scalars[3],
            scalars[4],
            gens,
            meta,
            stopped,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
