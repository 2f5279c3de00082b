"""Shapley attribution of a target's win probability to counterfactual levers.

A *coalition* of levers is a bitmask over ``L`` levers (bit ``j`` set: lever ``j`` switched on).
Every history is run in every world with the same random numbers (paired worlds), so a history's
outcomes across the ``2**L`` worlds form a cooperative game ``v_h(S)`` and the quantity of
interest, the win probability, is the game ``v(S) = mean_h v_h(S)``.

* Each lever's weight is its Shapley value (Shapley, L. S. 1953, "A value for n-person games",
  in *Contributions to the Theory of Games II*, Annals of Mathematics Studies 28, 307-317):
  ``phi_i = sum_{S ⊆ N\\{i}} |S|!(L-|S|-1)!/L! [v(S ∪ {i}) - v(S)]``. The values add up to
  ``v(N) - v(∅)`` (efficiency), give a lever that never matters exactly zero and give levers
  that act alike equal weight.
* Pairs of levers get the Shapley interaction index (Grabisch, M. and Roubens, M. 1999, "An
  axiomatic approach to the concept of interaction among players in cooperative games",
  *International Journal of Game Theory* 28, 547-565):
  ``I_ij = sum_{S ⊆ N\\{i,j}} |S|!(L-|S|-2)!/(L-1)! [v(S∪ij) - v(S∪i) - v(S∪j) + v(S)]``.
  Positive: the two levers reinforce each other; negative: they substitute for each other.

Both are linear in ``v``, so they are a fixed ``(2**L, k)`` weight matrix applied to the world
outcomes, and per-history contributions ``values @ W`` average to the population values. That
makes a bootstrap over histories (resampling rows of the contributions) valid and cheap.

Exact enumeration is fine up to 12 levers: 2**12 = 4096 worlds, a 4096 x 12 weight matrix
(~0.4 MB) and, for 1000 histories, a 1000 x 4096 outcome matrix (~33 MB). Every extra lever
doubles the number of simulated worlds, so beyond 12 levers :func:`sampled_shapley` estimates
the values from random permutations (Castro, J., Gómez, D. and Tejada, J. 2009, "Polynomial
calculation of the Shapley value based on sampling", *Computers & Operations Research* 36(5),
1726-1730), with antithetic (reversed) permutations as in Mitchell, R., Cooper, J., Frank, E.
and Holmes, G. 2022, "Sampling permutations for Shapley value estimation", *JMLR* 23(43).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

MAX_EXACT_LEVERS = 12
"""Largest lever count for which the exact ``2**L``-world enumeration is offered."""

_BOOT_CELLS = 1 << 22  # bootstrap count-matrix cells held at once (~32 MB of float64)

Interaction = tuple[str, str, float, tuple[float, float]]


@dataclass(frozen=True, eq=False)
class ShapleyResult:
    """Shapley weights of levers on one target's win probability.

    ``value[i]`` and ``ci[i]`` belong to ``names[i]``; ``interactions`` holds
    ``(name_i, name_j, index, (lo, hi))`` sorted by ``|index|``, largest first.
    """

    names: tuple[str, ...]
    value: NDArray[np.float64]
    ci: NDArray[np.float64]
    total_effect: float
    total_effect_ci: tuple[float, float]
    interactions: list[Interaction]
    n_histories: int


def _check_levers(n_levers: int) -> None:
    if not 1 <= n_levers <= MAX_EXACT_LEVERS:
        msg = f"exact enumeration supports 1..{MAX_EXACT_LEVERS} levers, got {n_levers}"
        raise ValueError(msg)


def _bits(n_levers: int) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Membership matrix ``(2**L, L)`` of every mask, and every mask's size."""
    masks = np.arange(1 << n_levers, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(n_levers)) & 1).astype(bool)
    return bits, bits.sum(axis=1)


def _shapley_coefficients(n_levers: int) -> NDArray[np.float64]:
    """``w[s] = s!(L-s-1)!/L!`` for ``s = 0..L-1``, with ``w[L] = 0`` as padding."""
    w = np.zeros(n_levers + 1)
    w[:n_levers] = [1.0 / (n_levers * math.comb(n_levers - 1, s)) for s in range(n_levers)]
    return w


def shapley_weights(n_levers: int) -> NDArray[np.float64]:
    """Signed weight matrix ``W`` of shape ``(2**L, L)`` with ``phi = v @ W``.

    ``W[T, i] = +w(|T|-1)`` if ``i ∈ T`` (T is some ``S ∪ {i}``) and ``-w(|T|)`` if not
    (T is some ``S`` without ``i``), where ``w(s) = s!(L-s-1)!/L!``.
    """
    _check_levers(n_levers)
    bits, size = _bits(n_levers)
    w = _shapley_coefficients(n_levers)
    plus = w[np.maximum(size - 1, 0)][:, None]
    minus = w[size][:, None]
    return np.where(bits, plus, -minus)


def interaction_pairs(n_levers: int) -> list[tuple[int, int]]:
    """Lever pairs ``(i, j)``, ``i < j``, in the column order of :func:`interaction_weights`."""
    return list(combinations(range(n_levers), 2))


def interaction_weights(n_levers: int) -> NDArray[np.float64]:
    """Weight matrix ``(2**L, L(L-1)/2)`` of the pairwise Shapley interaction index.

    Column ``k`` belongs to ``interaction_pairs(L)[k] = (i, j)``. A mask ``T`` with
    ``t = |T \\ {i, j}|`` weighs ``t!(L-t-2)!/(L-1)!``, signed ``+`` if ``T`` holds both or
    neither of ``i, j`` and ``-`` if it holds exactly one.
    """
    _check_levers(n_levers)
    bits, size = _bits(n_levers)
    pairs = interaction_pairs(n_levers)
    out = np.zeros((1 << n_levers, len(pairs)))
    if not pairs:
        return out
    w = np.array([1.0 / ((n_levers - 1) * math.comb(n_levers - 2, t)) for t in range(n_levers - 1)])
    for k, (i, j) in enumerate(pairs):
        inside = bits[:, i].astype(np.int64) + bits[:, j]
        sign = np.where(inside == 1, -1.0, 1.0)
        out[:, k] = sign * w[size - inside]
    return out


def _exact_values(mean_values: NDArray[np.float64], n_levers: int) -> NDArray[np.float64]:
    """Shapley values from marginal differences, summed with ``math.fsum``.

    Differences make a dummy lever exactly zero; the correctly rounded ``fsum`` does not depend
    on the order of terms, so levers that act alike (or relabelled levers) get bit-identical
    values.
    """
    masks = np.arange(1 << n_levers, dtype=np.int64)
    _, size = _bits(n_levers)
    w = _shapley_coefficients(n_levers)
    phi = np.empty(n_levers)
    for i in range(n_levers):
        without = masks[(masks >> i) & 1 == 0]
        terms = w[size[without]] * (mean_values[without | (1 << i)] - mean_values[without])
        phi[i] = math.fsum(terms.tolist())
    return phi


def _bootstrap_means(
    stats: NDArray[np.float64], rng: np.random.Generator, n_boot: int
) -> NDArray[np.float64]:
    """``n_boot`` bootstrap replicates of the column means of ``stats`` (rows resampled)."""
    n_rows = stats.shape[0]
    chunk = max(1, _BOOT_CELLS // n_rows)
    probs = np.full(n_rows, 1.0 / n_rows)
    out = np.empty((n_boot, stats.shape[1]))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        counts = rng.multinomial(n_rows, probs, size=stop - start).astype(np.float64)
        out[start:stop] = counts @ stats / n_rows
    return out


def _check_boot(n_boot: int, ci: float) -> None:
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must lie in (0, 1), got {ci}")


def _percentile(boot: NDArray[np.float64], ci: float) -> NDArray[np.float64]:
    """Percentile intervals, shape ``(k, 2)``, of bootstrap replicates ``(n_boot, k)``."""
    return np.quantile(boot, [(1.0 - ci) / 2.0, (1.0 + ci) / 2.0], axis=0).T


def _frozen(a: NDArray[np.float64]) -> NDArray[np.float64]:
    a.setflags(write=False)
    return a


def exact_shapley(
    values: NDArray[np.floating] | NDArray[np.bool_],
    lever_names: Sequence[str],
    *,
    rng: np.random.Generator,
    n_boot: int = 1000,
    ci: float = 0.95,
) -> ShapleyResult:
    """Exact Shapley values and pairwise interactions of ``L <= 12`` levers.

    ``values[h, mask]`` is history ``h``'s outcome (1.0 if the target won) in the world with
    exactly the levers of ``mask`` switched on, for all ``2**L`` masks. Intervals are percentile
    bootstrap intervals over histories: rows of the per-history contributions
    ``values @ W`` (and of ``v_h(N) - v_h(∅)``) are resampled jointly, ``n_boot`` times.
    """
    names = tuple(lever_names)
    n_levers = len(names)
    _check_levers(n_levers)
    _check_boot(n_boot, ci)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 1 << n_levers or v.shape[0] < 1:
        msg = f"values must have shape (H >= 1, {1 << n_levers}), got {v.shape}"
        raise ValueError(msg)

    mean_v = v.mean(axis=0)
    phi = _exact_values(mean_v, n_levers)
    iw = interaction_weights(n_levers)
    pair_index = mean_v @ iw
    total = float(mean_v[-1] - mean_v[0])

    stats = np.hstack([v @ shapley_weights(n_levers), (v[:, -1] - v[:, 0])[:, None], v @ iw])
    intervals = _percentile(_bootstrap_means(stats, rng, n_boot), ci)

    interactions: list[Interaction] = []
    for k, (i, j) in enumerate(interaction_pairs(n_levers)):
        p_lo, p_hi = intervals[n_levers + 1 + k]
        interactions.append((names[i], names[j], float(pair_index[k]), (float(p_lo), float(p_hi))))
    interactions.sort(key=lambda row: -abs(row[2]))
    lo, hi = intervals[n_levers]
    return ShapleyResult(
        names=names,
        value=_frozen(phi),
        ci=_frozen(intervals[:n_levers].copy()),
        total_effect=total,
        total_effect_ci=(float(lo), float(hi)),
        interactions=interactions,
        n_histories=v.shape[0],
    )


def _permutation_batch(
    perms: NDArray[np.int64], value_fn: Callable[[NDArray[np.int64]], NDArray[np.floating]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-history marginals ``(H, P, L)`` along ``perms (P, L)``, and ``v_h(N) - v_h(∅)``."""
    n_perm, n_levers = perms.shape
    prefixes = np.zeros((n_perm, n_levers + 1), dtype=np.int64)
    prefixes[:, 1:] = np.cumsum(np.left_shift(np.int64(1), perms), axis=1)
    masks, inverse = np.unique(prefixes, return_inverse=True)
    outcomes = np.asarray(value_fn(masks), dtype=np.float64)
    if outcomes.ndim != 2 or outcomes.shape[1] != masks.size:
        msg = f"value_fn must return shape (H, {masks.size}), got {outcomes.shape}"
        raise ValueError(msg)
    path = outcomes[:, inverse.reshape(prefixes.shape)]  # (H, P, L+1)
    steps = np.diff(path, axis=2)  # steps[h, p, k]: marginal of lever perms[p, k]
    position = np.argsort(perms, axis=1)  # position[p, i]: where lever i enters perm p
    marginals = np.take_along_axis(steps, position[None, :, :], axis=2)
    return marginals, path[:, 0, -1] - path[:, 0, 0]


def sampled_shapley(
    value_fn: Callable[[NDArray[np.int64]], NDArray[np.floating]],
    n_levers: int,
    lever_names: Sequence[str],
    *,
    n_permutations: int,
    rng: np.random.Generator,
    n_boot: int = 1000,
    ci: float = 0.95,
    batch_pairs: int = 32,
) -> ShapleyResult:
    """Shapley values by antithetic permutation sampling, for many levers.

    Estimator: ApproShapley of Castro, Gómez and Tejada (2009): for a uniformly random order of
    the levers, each lever's marginal contribution when it joins its predecessors is an unbiased
    draw of its Shapley value. Each sampled permutation is paired with its reverse (antithetic
    sampling, Mitchell et al. 2022), so ``n_permutations`` must be even. ``value_fn(masks)`` gets
    each distinct mask of a batch of ``batch_pairs`` pairs once and returns per-history outcomes
    ``(H, len(masks))``, the same H histories (same random numbers) on every call.

    Intervals: the estimate is a mean over histories ``h`` and permutation pairs ``q`` of
    ``c[h, q]``. Its variance is approximated by ``Var_boot + Var_perm``, where ``Var_boot`` is
    the variance of ``n_boot`` bootstrap replicates over histories of the per-history estimates
    (history noise with the permutations held fixed) and ``Var_perm = s_q^2 / Q``, ``s_q^2``
    being the sample variance across the ``Q`` antithetic pairs of their history-averaged
    contributions (permutation noise with histories held fixed). The sum counts the
    history-by-permutation residual twice, so it is slightly conservative, by ``O(1/(H Q))``.
    Intervals are normal, ``value ± z * sqrt(Var_boot + Var_perm)``. ``total_effect`` needs no
    sampling (every permutation runs from ``∅`` to ``N``); its interval is the percentile
    bootstrap over histories, and efficiency ``sum(value) = total_effect`` holds per permutation.
    ``interactions`` is empty.
    """
    names = tuple(lever_names)
    if len(names) != n_levers or n_levers < 1 or n_levers > 62:
        raise ValueError(f"need 1..62 lever names matching n_levers={n_levers}, got {len(names)}")
    if n_permutations < 4 or n_permutations % 2:
        msg = f"n_permutations must be even and >= 4 (two antithetic pairs), got {n_permutations}"
        raise ValueError(msg)
    if batch_pairs < 1:
        raise ValueError(f"batch_pairs must be positive, got {batch_pairs}")
    _check_boot(n_boot, ci)

    n_pairs = n_permutations // 2
    per_history: NDArray[np.float64] | None = None
    totals: NDArray[np.float64] | None = None
    pair_means = np.empty((n_pairs, n_levers))
    for start in range(0, n_pairs, batch_pairs):
        size = min(batch_pairs, n_pairs - start)
        forward = rng.permuted(np.tile(np.arange(n_levers, dtype=np.int64), (size, 1)), axis=1)
        contrib, totals = _permutation_batch(np.vstack([forward, forward[:, ::-1]]), value_fn)
        per_perm = contrib.mean(axis=0)  # (2 * size, L), averaged over histories
        pair_means[start : start + size] = 0.5 * (per_perm[:size] + per_perm[size:])
        batch_sum = contrib.sum(axis=1)
        per_history = batch_sum if per_history is None else per_history + batch_sum
    assert per_history is not None and totals is not None
    per_history /= 2 * n_pairs  # (H, L): each history's estimate over all permutations

    phi = pair_means.mean(axis=0)
    boot = _bootstrap_means(np.hstack([per_history, totals[:, None]]), rng, n_boot)
    var = boot[:, :n_levers].var(axis=0, ddof=1) + pair_means.var(axis=0, ddof=1) / n_pairs
    half = norm.ppf(0.5 + ci / 2.0) * np.sqrt(var)
    lo, hi = _percentile(boot[:, n_levers:], ci)[0]
    return ShapleyResult(
        names=names,
        value=_frozen(phi),
        ci=_frozen(np.column_stack([phi - half, phi + half])),
        total_effect=float(totals.mean()),
        total_effect_ci=(float(lo), float(hi)),
        interactions=[],
        n_histories=per_history.shape[0],
    )
