"""The simulation state: a handful of arrays with the history axis first.

``State`` is mutable inside one engine run and never escapes it; results are copied out into
``Histories``. ``Context`` holds what does not change during a run: the compiled scenario, the
per-history parameter draws, the seed and the history indices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine import rng
from politburo.scenario.compile import Compiled

LADDER = ("censure", "office", "politburo", "central_committee", "party", "exile", "deportation")
RUNG = {name: i + 1 for i, name in enumerate(LADDER)}  # rung 0: in good standing

# The state's integer arrays are as narrow as the values they can hold (memory per history in
# flight, issue 16); arithmetic on them gives the same numbers at any width, and every float
# stays float64. A rung is 0 to len(LADDER).
RUNG_DTYPE = np.dtype(np.int8)
NEVER_STEPPED = -1000  # ``last_step`` of a man never moved down the ladder


def step_dtype(steps: int, never: int = -1) -> np.dtype[Any]:
    """The narrowest signed integer for the month indices of a run of ``steps`` months and the
    mark ``never`` (falls and rises: -1; the last step down the ladder: ``NEVER_STEPPED``),
    which also holds the gap ``t - never`` that the ladder compares."""
    for kind in (np.int8, np.int16, np.int32):
        if steps - 1 - never <= np.iinfo(kind).max and never >= np.iinfo(kind).min:
            return np.dtype(kind)
    return np.dtype(np.int64)


def who_dtype(P: int, C: int) -> np.dtype[Any]:
    """The narrowest signed integer for a principal index (a client's patron) or an office
    holder's code (a principal, -1 vacant, -2 the founder, -3 - c named client c, and the
    bound -3 - C that the clients' mechanism compares with) among ``P`` principals and ``C``
    named clients."""
    top = max(P, 3 + C)
    for t in (np.int8, np.int16, np.int32):
        if top <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.int64)


@dataclass
class State:
    sec: NDArray[np.float64]  # (H, P+1) provincial secretaries by loyalty; last column unaligned
    cc: NDArray[np.float64]  # (H, P+1) Central Committee by loyalty
    standing: NDArray[np.float64]  # (H, P) prestige with the party
    position: NDArray[np.float64]  # (H, P, 2) policy positions
    ideal: NDArray[np.float64]  # (H, P, 2) convictions: the starting position
    line: NDArray[np.float64]  # (H, 2) the party line
    salience: NDArray[np.float64]  # (H, 2) weight of each axis in policy distances
    # (H, O) office holders: principal index, -1 vacant, -2 the founder, -3 - c named client c
    # (``who_dtype``)
    holder: NDArray[np.integer[Any]]
    rung: NDArray[np.int8]  # (H, P) current step on the removal ladder (0 = none)
    # (H, P) step index of the last move down the ladder, ``NEVER_STEPPED`` never (``step_dtype``)
    last_step: NDArray[np.integer[Any]]
    # (H, P, len(LADDER)) first step index of each rung, -1 never (``step_dtype``)
    falls: NDArray[np.integer[Any]]
    recanted: NDArray[np.bool_]  # (H, P) expelled, has capitulated (cleared on readmission)
    recant_used: NDArray[np.bool_]  # (H, P) has recanted before expulsion (allowed once)
    # (H, P) an assembly condemned a platform of his: he stands charged (votes.targets) until
    # the party readmits him
    condemned: NDArray[np.bool_]
    coalition: NDArray[np.int64]  # (H,) ruling coalition as a bitmask over principals
    sole: NDArray[np.int64]  # (H,) the member who could rule without partners, -1 none
    core: NDArray[np.int64]  # (H,) the winning core of the ruling coalition, before the like-minded
    threatened: NDArray[np.bool_]  # (H, P) in the coalition, but the core would win without him
    players: NDArray[np.int64]  # (H,) who played the AES game when it was last played
    bloc: NDArray[np.int64]  # (H,) organised opposition as a bitmask
    # (H, P*(P-1)/2) enmity of each pair of principals, the strict upper triangle of the
    # symmetric (P, P) matrix in the order of ``np.triu_indices(P, 1)`` (``pair``, ``square``)
    enmity: NDArray[np.float64]
    # (H, C) each named client's patron (principal index, ``who_dtype``)
    client_patron: NDArray[np.integer[Any]]
    client_loyalty: NDArray[np.float64]  # (H, C) chance he votes with his patron
    client_seat: NDArray[np.bool_]  # (H, C) holds a full Politburo seat
    client_alive: NDArray[np.bool_]  # (H, C) not yet dead (a scenario's death event)
    pb_size: NDArray[np.int64]  # (H,) full Politburo seats
    cc_size: NDArray[np.float64]  # (H,)
    blind: NDArray[np.float64]  # (H,) current apparatus blindness of rivals
    old_guard: NDArray[np.float64]  # (H,) share of members from before mass recruitment
    members: NDArray[np.float64]  # (H,)
    power: NDArray[np.float64]  # (H, P) real power shares this month
    cons_who: NDArray[np.int64]  # (H,) consolidated ruler, -1 none
    cons_since: NDArray[np.int64]  # (H,) step since which he has ruled, -1 none
    first_rule: NDArray[np.int64]  # (H,) first step anyone ruled alone, -1 never
    arrested: NDArray[np.bool_]  # (H, P) detained by the security forces (mechanisms/arrest)
    # (H, P) seated in the inner body of the leadership (mechanisms/inner); all False, and
    # read by nothing, where the scenario has none
    inner: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    # The founder, while he plays in the coalition game (mechanisms/coalitions.py): where he
    # stands (H, 2), whether he acts this month, and whether he is in the ruling coalition (H,).
    founder_pos: NDArray[np.float64] | None = None
    founder_on: bool = False
    founder_in: NDArray[np.bool_] | None = None
    log: list[list[dict[str, Any]]] | None = None  # per-history event records when recording
    memo: dict[str, Any] = field(default_factory=dict)  # results that depend only on `holder`
    # (H,) per crisis id: the index of the answer the ruling coalition adopted (policy.respond)
    adopted: dict[str, NDArray[np.int64]] = field(default_factory=dict)

    def by_holder(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, remembered until the office holders change (they change only when a
        motion passes or Lenin's offices are shared out, so most months reuse it)."""
        if not np.array_equal(self.memo.get("holder", ()), self.holder):
            self.memo.clear()
            self.memo["holder"] = self.holder.copy()
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @property
    def H(self) -> int:
        return int(self.rung.shape[0])

    def in_party(self) -> NDArray[np.bool_]:
        return self.rung < RUNG["party"]

    def in_politburo(self) -> NDArray[np.bool_]:
        return self.rung < RUNG["politburo"]


@dataclass(frozen=True)
class Context:
    model: Compiled
    seed: int
    index: NDArray[np.int64]  # (H,) history indices
    params: dict[str, NDArray[np.float64]]  # name -> (H,) draws
    const: dict[str, float] = field(default_factory=dict)
    attrs: dict[str, NDArray[np.float64]] | None = None  # name -> (H, P) per-history values

    def attr(self, name: str) -> NDArray[np.float64]:
        """A principal attribute for every history, (H, P): this history's draw when the
        engine drew one, else the scenario's value."""
        if self.attrs is not None:
            return self.attrs[name]
        return np.broadcast_to(self.model.attrs[name], (self.index.shape[0], self.model.P))

    def u(self, step: int, purpose: str, width: int = 1) -> NDArray[np.float64]:
        """Uniforms for this batch: a pure function of (seed, history, step, purpose)."""
        return rng.uniforms(self.seed, self.index, step, purpose, width)

    def z(self, step: int, purpose: str, width: int = 1) -> NDArray[np.float64]:
        return rng.normals(self.seed, self.index, step, purpose, width)

    def u_actors(self, step: int, purpose: str) -> NDArray[np.float64]:
        """Uniforms (H, P), one per principal. Principals are compiled in id order, so a
        column always belongs to the same actor whatever order the file lists them in."""
        return rng.uniforms(self.seed, self.index, step, purpose, self.model.P)

    def z_actors(self, step: int, purpose: str) -> NDArray[np.float64]:
        return rng.normals(self.seed, self.index, step, purpose, self.model.P)


def pair(i: int, j: int, P: int) -> int:
    """The column of ``State.enmity`` that holds the enmity between principals ``i != j``, in
    either order.

    Enmity is symmetric and nobody is his own enemy: a rivalry starts both ways
    (``compile_scenario``), an attack adds to both ways alike, and the decay and the clip
    treat every pair the same; so only the pairs ``i < j`` are stored (memory per history in
    flight, issue 16). The kernels call this too, so it stays plain arithmetic."""
    if i > j:
        i, j = j, i
    return i * (2 * P - i - 1) // 2 + j - i - 1


def square(enmity: NDArray[np.float64], P: int) -> NDArray[np.float64]:
    """The enmity of rows ``enmity`` (n, P*(P-1)/2) as the (n, P, P) symmetric matrix with a
    zero diagonal: a copy, for the NumPy mechanisms that read it by pairs of leaders."""
    i, j = np.triu_indices(P, 1)
    out = np.zeros((enmity.shape[0], P, P))
    out[:, i, j] = enmity
    out[:, j, i] = enmity
    return out


def toward(enmity: NDArray[np.float64], k: int, P: int) -> NDArray[np.float64]:
    """(n, P) each principal's enmity toward principal ``k`` (zero for ``k`` himself): the
    column ``k`` of ``square(enmity, P)``, without the rest of the matrix."""
    out = np.zeros((enmity.shape[0], P))
    others = [j for j in range(P) if j != k]
    out[:, others] = enmity[:, [pair(j, k, P) for j in others]]
    return out


def bits(mask: NDArray[np.int64], P: int) -> NDArray[np.bool_]:
    """Expand bitmasks (H,) into booleans (H, P)."""
    return ((mask[:, None] >> np.arange(P)[None, :]) & 1).astype(bool)


def to_mask(members: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Collapse booleans (H, P) into bitmasks (H,)."""
    P = members.shape[1]
    out = np.zeros(members.shape[0], dtype=np.int64)
    for j in range(P):
        out |= members[:, j].astype(np.int64) << j
    return out


def listed(names: list[str]) -> str:
    """Names for a log's ``because``: 'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def record(state: State, ctx: Context, where: NDArray[np.bool_], event: dict[str, Any]) -> None:
    """Append an event to the log of each history in ``where`` (only when recording)."""
    if state.log is None:
        return
    for h in np.flatnonzero(where):
        state.log[h].append({k: (v(h) if callable(v) else v) for k, v in event.items()})
