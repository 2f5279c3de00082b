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

import numba
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


def _base_reference(seed: int, month: int, purpose: str) -> np.uint64:
    """:func:`_base` in NumPy's 64-bit unsigned arithmetic (the test of it)."""
    with np.errstate(over="ignore"):
        base = np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _M2 ^ np.uint64(purpose_tag(purpose))
        base = _mix(np.array([base], dtype=np.uint64))[0]
        return np.uint64(base ^ (np.uint64(month & 0xFFFFFFFF) * _M1))


_MASK = 0xFFFFFFFFFFFFFFFF


def _base(seed: int, month: int, purpose: str) -> np.uint64:
    """The key of (seed, month, purpose), in Python integers reduced modulo 2**64: the bits of
    :func:`_base_reference` at a small part of the cost (a month asks for hundreds of keys)."""
    z = ((seed & _MASK) * 0x94D049BB133111EB & _MASK) ^ purpose_tag(purpose)
    z = (z + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    z ^= z >> 31
    return np.uint64(z ^ ((month & 0xFFFFFFFF) * 0xBF58476D1CE4E5B9 & _MASK))


@numba.njit(cache=True, nogil=True)
def _mix1(z: np.uint64) -> np.uint64:
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def _uniform_kernel(base: np.uint64, histories: NDArray[np.int64], width: int
                    ) -> NDArray[np.float64]:
    out = np.empty((histories.shape[0], width))
    inv = 1.0 / 9007199254740992.0
    for i in range(histories.shape[0]):
        h = _mix1(np.uint64(histories[i]) ^ base)
        for j in range(width):
            z = _mix1(h ^ (np.uint64(j) * np.uint64(0x9E3779B97F4A7C15)))
            out[i, j] = (float(z >> np.uint64(11)) + 0.5) * inv
    return out


@numba.njit(cache=True, nogil=True)
def uniform_at(base: np.uint64, history: int, column: int) -> float:
    """One draw of :func:`uniforms`, inside a kernel: column ``column`` of history ``history``
    in the stream ``base`` (``stream``), the same bits as ``_uniform_kernel`` gives there. A
    kernel that needs few of a stream's draws takes just those."""
    h = _mix1(np.uint64(history) ^ base)
    z = _mix1(h ^ (np.uint64(column) * np.uint64(0x9E3779B97F4A7C15)))
    return (float(z >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _ppnd16_central(q: float) -> float:
    """AS 241's central branch, for ``q = p - 0.5`` with ``|q| <= 0.425`` (its denominator is
    at least 1, so NumPy's model of division by zero, which lets a loop of it be vectorised,
    changes no bit)."""
    r = 0.180625 - q * q
    return q * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                      + 67265.770927008700853) * r + 45921.953931549871457) * r
                    + 13731.693765509461125) * r + 1971.5909503065514427) * r
                  + 133.14166789178437745) * r + 3.387132872796366608) / (
        ((((((5226.495278852545925 * r + 28729.085735721942674) * r
             + 39307.89580009271061) * r + 21213.794301586595867) * r
           + 5394.1960214247511077) * r + 687.1870074920579083) * r
         + 42.313330701600911252) * r + 1.0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _ppnd16(p: float) -> float:
    """Wichura's AS 241 (Applied Statistics 37, 1988): the normal quantile to about 1e-16."""
    q = p - 0.5
    if abs(q) <= 0.425:
        return _ppnd16_central(q)
    r = p if q < 0 else 1.0 - p
    r = np.sqrt(-np.log(r))
    if r <= 5.0:
        r -= 1.6
        val = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734) / (
            ((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                 + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
               + 0.68976733498510000455) * r + 1.6763848301838038494) * r
             + 2.05319162663775882187) * r + 1.0)
    else:
        r -= 5.0
        val = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772) / (
            ((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                 + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
               + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
             + 0.59983220655588793769) * r + 1.0)
    return -val if q < 0 else val


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _normal_kernel(base: np.uint64, histories: NDArray[np.int64], width: int
                   ) -> NDArray[np.float64]:
    u = _uniform_kernel(base, histories, width)
    out = np.empty_like(u)
    flat_u = u.reshape(-1)
    flat = out.reshape(-1)
    # ``_ppnd16`` in two passes: the central branch for every draw, in a loop without branches
    # that the compiler vectorises, then the tails (about 15 in 100) over it
    for k in range(flat.shape[0]):
        flat[k] = _ppnd16_central(flat_u[k] - 0.5)
    for k in range(flat.shape[0]):
        if abs(flat_u[k] - 0.5) > 0.425:
            flat[k] = _ppnd16(flat_u[k])
    return out


@numba.njit(cache=True, nogil=True)
def normal_at(base: np.uint64, history: int, column: int) -> float:
    """One draw of :func:`normals`, inside a kernel: the normal quantile of
    :func:`uniform_at`, as ``_normal_kernel`` takes it."""
    return _ppnd16(uniform_at(base, history, column))


def stream(seed: int, month: int, purpose: str) -> np.uint64:
    """The key of the draws of (seed, month, purpose), for :func:`uniform_at` and
    :func:`normal_at` in a kernel."""
    return _base(seed, month, purpose)


def uniforms(
    seed: int, histories: NDArray[np.int64], month: int, purpose: str, width: int = 1
) -> NDArray[np.float64]:
    """Uniform draws in (0, 1), shape ``(len(histories), width)``.

    Column ``j`` of row ``i`` depends only on (seed, histories[i], month, purpose, j). The 53
    high bits are shifted by half a step so that 0 and 1 never occur (safe for ppf and log).
    """
    idx = np.ascontiguousarray(histories, dtype=np.int64)
    return _uniform_kernel(_base(seed, month, purpose), idx, int(width))


def normals(
    seed: int, histories: NDArray[np.int64], month: int, purpose: str, width: int = 1
) -> NDArray[np.float64]:
    """Standard normal draws: the normal quantile (AS 241) of :func:`uniforms`."""
    idx = np.ascontiguousarray(histories, dtype=np.int64)
    return _normal_kernel(_base(seed, month, purpose), idx, int(width))


def uniforms_reference(
    seed: int, histories: NDArray[np.int64], month: int, purpose: str, width: int = 1
) -> NDArray[np.float64]:
    """The same draws computed with NumPy array arithmetic (the kernel is tested against it)."""
    with np.errstate(over="ignore"):
        base = _base_reference(seed, month, purpose)
        h = _mix(histories.astype(np.uint64) ^ base)
        cols = np.arange(width, dtype=np.uint64) * _GOLDEN
        z = _mix(h[:, None] ^ cols[None, :])
    return ((z >> _S11).astype(np.float64) + 0.5) * _INV53
