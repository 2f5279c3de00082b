"""Compiled twins of ``standing.effective``, ``standing.drift`` and ``standing.decay_enmity``.

``standing.py`` is the specification; these kernels repeat its arithmetic operation for
operation, so both give the same bits (tests/test_engine_nb.py). The monthly shocks are drawn
in Python by ``politburo.engine.rng`` and passed in.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

from politburo.engine.state import Context, State


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _effective(standing: NDArray[np.float64], old_guard: NDArray[np.float64],
               outsider_penalty: NDArray[np.float64], outsider: NDArray[np.float64],
               prejudice_penalty: NDArray[np.float64], prejudice: NDArray[np.float64]
               ) -> NDArray[np.float64]:
    H, P = standing.shape
    out = np.empty((H, P))
    for h in range(H):
        og = old_guard[h]
        for p in range(P):
            x = standing[h, p] * (1 - outsider_penalty[h] * outsider[h, p] * og)
            x = x * (1 - prejudice_penalty[h] * prejudice[h, p] * (1 - og))
            out[h, p] = x if x > 0.0 else 0.0 if x <= 0.0 else x
    return out


def effective(state: State, ctx: Context) -> NDArray[np.float64]:
    """``standing.effective``, compiled."""
    return _effective(state.standing, state.old_guard, ctx.params["outsider_penalty"],
                      ctx.attr("outsider"), ctx.params["prejudice_penalty"],
                      ctx.attr("prejudice_target"))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _drift(standing: NDArray[np.float64], noise: NDArray[np.float64],
           z: NDArray[np.float64]) -> None:
    H, P = standing.shape
    for h in range(H):
        for p in range(P):
            x = standing[h, p] + noise[h] * z[h, p]
            standing[h, p] = 0.02 if x < 0.02 else 3.0 if x > 3.0 else x


def drift(state: State, ctx: Context, t: int) -> None:
    """``standing.drift``, compiled."""
    _drift(state.standing, ctx.params["standing_noise"], ctx.z_actors(t, "standing"))


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _decay(enmity: NDArray[np.float64], decay: NDArray[np.float64]) -> None:
    H, n = enmity.shape
    for h in range(H):
        k = 1 - decay[h]
        for q in range(n):
            enmity[h, q] = enmity[h, q] * k


def decay_enmity(state: State, ctx: Context) -> None:
    """``standing.decay_enmity``, compiled."""
    _decay(state.enmity, ctx.params["enmity_decay"])
