"""Prior distributions of the uncertain parameters, as one vectorised object.

Each uncertain quantity in a scenario names a distribution family and its parameters (see
``scenario.schema.PriorSpec``). ``PriorSet`` turns them into SciPy frozen distributions and
offers the three operations the rest of politburo needs, all vectorised over rows:

- ``ppf(u)`` maps uniforms of shape ``(n, d)`` to parameter values, which is how the engine
  draws per-history parameters from counter-based uniforms (``politburo.engine.rng``);
- ``logpdf(theta)`` sums the log densities over columns (used by ABC-SMC weights);
- ``sample(rng, n)`` draws with a passed-in ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FAMILIES = ("normal", "lognormal", "beta", "uniform", "truncnormal")


def frozen(family: str, params: dict[str, float]) -> Any:
    """A SciPy frozen distribution for one prior."""
    if family == "normal":
        return stats.norm(loc=params["mean"], scale=params["sd"])
    if family == "lognormal":
        return stats.lognorm(s=params["sigma"], scale=params["median"])
    if family == "beta":
        return stats.beta(params["a"], params["b"])
    if family == "uniform":
        return stats.uniform(loc=params["low"], scale=params["high"] - params["low"])
    if family == "truncnormal":
        mean, sd = params["mean"], params["sd"]
        a, b = (params["low"] - mean) / sd, (params["high"] - mean) / sd
        return stats.truncnorm(a, b, loc=mean, scale=sd)
    raise ValueError(f"unknown prior family {family!r}; expected one of {FAMILIES}")


@lru_cache(maxsize=256)
def _frozen_once(family: str, params: tuple[tuple[str, float], ...]) -> Any:
    """``frozen``, made once per prior and kept: building SciPy's frozen distributions took
    about 20 ms and left about half a MB of cyclic garbage for every batch of histories that
    drew its parameters (``PriorSet.ppf``). Their methods keep no state between calls."""
    return frozen(family, dict(params))


@dataclass(frozen=True)
class PriorSet:
    """An ordered set of independent priors, one column per parameter."""

    names: tuple[str, ...]
    families: tuple[str, ...]
    params: tuple[dict[str, float], ...]

    @property
    def dim(self) -> int:
        return len(self.names)

    def _dists(self) -> list[Any]:
        return [_frozen_once(f, tuple(sorted(p.items())))
                for f, p in zip(self.families, self.params, strict=True)]

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Parameter values for uniforms ``u`` of shape ``(n, dim)``."""
        out = np.empty_like(u, dtype=np.float64)
        for j, dist in enumerate(self._dists()):
            out[:, j] = dist.ppf(u[:, j])
        return out

    def logpdf(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum of log densities over columns, shape ``(n,)``; ``-inf`` outside the support."""
        total = np.zeros(theta.shape[0])
        for j, dist in enumerate(self._dists()):
            total += dist.logpdf(theta[:, j])
        return total

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """``n`` draws using a passed-in generator."""
        return self.ppf(rng.uniform(size=(n, self.dim)))

    def index(self, name: str) -> int:
        return self.names.index(name)

    def mean(self) -> NDArray[np.float64]:
        return np.array([d.mean() for d in self._dists()])

    def interval(self, q: float = 0.9) -> NDArray[np.float64]:
        """Central interval holding ``q`` of the prior mass, shape ``(dim, 2)``."""
        return np.array([d.interval(q) for d in self._dists()])
