"""Variance-based (Sobol') sensitivity of a model output to continuous parameters.

Thin, reproducible wrapper around SALib: inputs come from Saltelli's extension of the scrambled
Sobol' sequence (``SALib.sample.sobol.sample``; Saltelli 2002, Campolongo et al. 2011) and the
first-order (``S1``) and total (``ST``) indices from ``SALib.analyze.sobol.analyze`` (Saltelli
et al. 2010, *Computer Physics Communications* 181, 259-270), with bootstrap confidence
half-widths. ``S1`` is the share of output variance explained by a parameter alone; ``ST``
also counts every interaction it takes part in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

BatchedModel = Callable[[NDArray[np.float64]], NDArray[np.floating]]


@dataclass(frozen=True, eq=False)
class SobolResult:
    """Sobol' indices; entry ``k`` of each array belongs to ``names[k]``.

    ``*_conf`` are half-widths of 95% bootstrap intervals. ``S2``/``S2_conf`` (``D x D``, upper
    triangle) are only filled when second-order indices were requested.
    """

    names: tuple[str, ...]
    S1: NDArray[np.float64]
    S1_conf: NDArray[np.float64]
    ST: NDArray[np.float64]
    ST_conf: NDArray[np.float64]
    n_evaluations: int
    S2: NDArray[np.float64] | None = None
    S2_conf: NDArray[np.float64] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plot-ready, JSON-serialisable summary (plain Python floats and ints)."""
        params = [
            {
                "name": name,
                "S1": float(self.S1[k]),
                "S1_conf": float(self.S1_conf[k]),
                "ST": float(self.ST[k]),
                "ST_conf": float(self.ST_conf[k]),
            }
            for k, name in enumerate(self.names)
        ]
        return {"parameters": params, "n_evaluations": int(self.n_evaluations)}


def _analyser_seed(seed: int) -> int:
    """The seed handed to ``analyze``: ``seed`` itself unless it is 0.

    SALib's analyser tests ``if seed:``, so 0 would silently fall back to the global
    ``np.random`` state; 0 is replaced by a fixed nonzero value derived from it.
    """
    if seed:
        return seed
    return int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint32)[0]) | 1


def _frozen(values: Any) -> NDArray[np.float64]:
    out = np.array(values, dtype=np.float64)
    out.setflags(write=False)
    return out


def sobol_indices(
    names: Sequence[str],
    bounds: Sequence[tuple[float, float]],
    func: BatchedModel,
    *,
    n_base: int,
    seed: int,
    calc_second_order: bool = False,
    num_resamples: int = 100,
) -> SobolResult:
    """First-order and total Sobol' indices of ``func`` over the box ``bounds``.

    ``func(X)`` maps an ``(N, D)`` array of parameter rows to ``N`` outputs. ``n_base`` is the
    Saltelli base sample size and must be a power of two (the balance properties of Sobol'
    points need it, and scipy warns otherwise); the model is evaluated
    ``n_base * (D + 2)`` times, or ``n_base * (2D + 2)`` with second-order indices. ``seed``
    fixes both the scrambling of the Sobol' sequence and the bootstrap of the confidence
    intervals, so equal arguments give identical results.
    """
    names = tuple(names)
    if len(names) == 0 or len(bounds) != len(names):
        raise ValueError(f"need one (low, high) bound per name, got {len(bounds)} for {names}")
    if n_base < 2 or n_base & (n_base - 1):
        raise ValueError(f"n_base must be a power of two >= 2, got {n_base}")
    problem = {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [[float(lo), float(hi)] for lo, hi in bounds],
    }
    try:  # SALib is an optional extra: the engine installs without it
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import sobol as sobol_sample
    except ModuleNotFoundError as exc:
        raise ImportError("Sobol indices need SALib: pip install 'politburo[analysis]'") from exc
    x = sobol_sample.sample(problem, n_base, calc_second_order=calc_second_order, seed=seed)
    y = np.asarray(func(x), dtype=np.float64).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"func returned {y.shape[0]} outputs for {x.shape[0]} input rows")
    if not np.all(np.isfinite(y)):
        raise ValueError("func returned non-finite outputs")
    if np.ptp(y) == 0.0:
        raise ValueError("func is constant over the sample; Sobol' indices are undefined")
    si = sobol_analyze.analyze(
        problem,
        y,
        calc_second_order=calc_second_order,
        num_resamples=num_resamples,
        seed=_analyser_seed(seed),
    )
    return SobolResult(
        names=names,
        S1=_frozen(si["S1"]),
        S1_conf=_frozen(si["S1_conf"]),
        ST=_frozen(si["ST"]),
        ST_conf=_frozen(si["ST_conf"]),
        n_evaluations=int(y.shape[0]),
        S2=_frozen(si["S2"]) if calc_second_order else None,
        S2_conf=_frozen(si["S2_conf"]) if calc_second_order else None,
    )
