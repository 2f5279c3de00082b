"""Counter-based randomness: every draw is a pure function of its coordinates.

The model brief (section 3) asks that each random draw be a pure function of (seed, history
index, month, purpose). A stateful generator cannot give that once histories are split into
batches or spread over workers, so politburo uses a stateless hash instead: the coordinates
are mixed with the SplitMix64 finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom
number generators", OOPSLA 2014), the same mixer NumPy uses to seed its own generators. History
*k* of seed *s* therefore sees the same numbers whether it runs alone or among a million, and a
counterfactual world that asks for the same coordinates gets the same numbers (common random
numbers).

Purposes are short strings hashed once to a 64-bit tag, so the tag of a purpose never depends on
the order in which purposes are first used.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / float(1 << 53)


@lru_cache(maxsize=4096)
def purpose_tag(purpose: str) -> int:
    """A stable 64-bit tag for a purpose string."""
    return int.from_bytes(hashlib.blake2b(purpose.encode(), digest_size=8).digest(), "little")


def _mix(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def uniforms(
    seed: int, histories: NDArray[np.int64], month: int, purpose: str, width: int = 1
) -> NDArray[np.float64]:
    """Uniform draws in (0, 1), shape ``(len(histories), width)``.

    Column ``j`` of row ``i`` depends only on (seed, histories[i], month, purpose, j).
    """
    with np.errstate(over="ignore"):
        base = np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _M2 ^ np.uint64(purpose_tag(purpose))
        base = _mix(np.array([base], dtype=np.uint64))[0]
        base = base ^ (np.uint64(month & 0xFFFFFFFF) * _M1)
        h = _mix(histories.astype(np.uint64) ^ base)
        cols = np.arange(width, dtype=np.uint64) * _GOLDEN
        z = _mix(h[:, None] ^ cols[None, :])
    # 53 high bits, shifted by half a step so that 0 and 1 never occur (safe for ppf and log).
    return ((z >> _S11).astype(np.float64) + 0.5) * _INV53


def normals(
    seed: int, histories: NDArray[np.int64], month: int, purpose: str, width: int = 1
) -> NDArray[np.float64]:
    """Standard normal draws by the inverse CDF of :func:`uniforms`."""
    from scipy.special import ndtri

    return np.asarray(ndtri(uniforms(seed, histories, month, purpose, width)))
