"""What a batch of histories produces (``Histories``), and the record of rises that the month
writes into it (``record_rises``): plain arrays that every layer above the engine reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine.state import RUNG
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import RISE_STEPS


@dataclass(frozen=True)
class Histories:
    """What a batch of histories produced. Steps count months from the scenario's start."""

    seed: int
    index: NDArray[np.int64]  # (H,)
    params: NDArray[np.float64]  # (H, D) parameter values used
    winner: NDArray[np.int64]  # (H,) principal index, P for no one
    consolidation: NDArray[np.int64]  # (H,) step since which the winner ruled, -1 none
    falls: NDArray[np.int64]  # (H, P, len(LADDER)) first step of each rung, -1 never
    tallies: NDArray[np.float64]  # (H, n_assemblies) share backing the leadership
    coalition: NDArray[np.integer[Any]]  # (H, T) ruling coalition at each month's end, bitmask
    power: NDArray[np.float32] | None  # (H, T, P) monthly power shares, when kept
    log: list[list[dict[str, Any]]] | None  # per-history events, when recorded
    first_rule: NDArray[np.int64] | None = None  # (H,) first step anyone ruled alone, -1 never
    rises: NDArray[np.int64] | None = None  # (H, P, len(RISE_STEPS) + O), see ``record_rises``

    @property
    def H(self) -> int:
        return int(self.index.shape[0])


def coalition_dtype(P: int) -> np.dtype[Any]:
    """The narrowest unsigned integer that holds a bitmask over ``P`` principals."""
    return np.min_scalar_type((1 << P) - 1)


def record_rises(out: NDArray[np.integer[Any]], model: Compiled, t: int,
                 holder: NDArray[np.integer[Any]],
                 rung: NDArray[np.integer[Any]], falls: NDArray[np.integer[Any]],
                 rung0: NDArray[np.int64] | None = None) -> None:
    """Mark the first step of each rise in ``out`` (H, P, len(RISE_STEPS) + O), -1 never.

    Column 0: he holds an office he did not hold at the start; columns 1-3: he is back in the
    leadership body, the committee, the party after a fall from it or after starting outside
    it (``rung0``, each principal's starting rung); then one column per
    office: he holds that office, not having held it at the start. The mechanisms decide who
    rises; this only reads the office holders and the ladder at the end of a month."""
    P = model.P
    holds = holder[:, :, None] == np.arange(P)[None, None, :]  # (H, O, P)
    new = np.transpose(holds & (model.holder0[None, :, None] != np.arange(P)), (0, 2, 1))
    first = out[:, :, len(RISE_STEPS):]
    first[(first < 0) & new] = t
    out[:, :, 0] = np.where((out[:, :, 0] < 0) & new.any(axis=2), t, out[:, :, 0])
    for k, step in enumerate(RISE_STEPS[1:], start=1):
        r = RUNG[step]
        was_out = falls[:, :, r - 1] >= 0
        if rung0 is not None and (rung0 >= r).any():
            was_out = was_out | (rung0 >= r)[None, :]
        back = (rung < r) & was_out
        out[:, :, k] = np.where((out[:, :, k] < 0) & back, t, out[:, :, k])
