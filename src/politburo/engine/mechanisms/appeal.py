"""Appeal: a removal by the leadership body overturned by the committee that elects it.

The leadership body (Politburo, Presidium, Standing Committee) decides between the committee's
plenums, but the committee elects it and its officers: the CCP's statutes have the plenum elect
the Politburo, its Standing Committee and the party's chairman, and the Politburo act for the
committee only while it is not in session (so the Politburo's decision on Hua of December 1980
was a proposal to the 6th plenum, C144, and the plenum of July 1977 confirmed what the Politburo
had done in October 1976, C105); the Soviet party's rules gave the Central Committee the same
place above its Presidium. The textbook case is June 1957: seven of the eleven full members of
the Presidium voted to remove Khrushchev as First Secretary; he and his allies insisted that
only the Central Committee, which had elected him and where his supporters predominated, could
decide; the plenum convened within days, kept him, and removed Malenkov, Molotov, Kaganovich and
Shepilov from the Presidium and the committee as an "anti-party group", while others of the
seven kept their seats for a time (W. Taubman, "The Khrushchev period, 1953-1964", *Cambridge
History of Russia* vol. 3, 2006; W. Taubman, *Khrushchev: The Man and His Era*, 2003).

Read only where the file sets ``rules.appeal: at_once``. After a meeting of the leadership body
that took an office from a leader, he appeals, with chance ``appeal_rate`` times his defiance (a
leader who fights his removal; one who accepts it, as Hua accepted the Politburo's verdict of
1980 with a self-criticism, C37i, does not), unless he is under arrest. The committee is
convened at once and votes on upholding the removal with its own loyalties (``votes.yes_share``
on ``state.cc``, the movers as the coalition behind the motion, with ``vote_noise``). If it
upholds, nothing changes. If it overturns: he gets back the offices taken from him, his rung,
his record of falls and the step of his last fall are as before the meeting; the movers (the
ruling coalition that moved, those of it still in the leadership body) lose the share
``appeal_backlash`` of their standing and each faces at once a vote of the committee on his seat
in the leadership body, backed by the appellant; and the ruling coalition is the appellant
alone until the next meeting plays the game again (the committee has just given him the
majority it denied them). Draws: ``appeal:K`` (whether he appeals), ``appeal_vote:K`` (the
committee's vote on the removal) and ``appeal_exposed:K`` (its votes on the movers' seats), one
column per principal, ``K`` the meeting's place among the month's meetings of the leadership body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import standing, votes
from politburo.engine.state import RUNG, Context, State, bits
from politburo.scenario.compile import MeetingC


@dataclass(frozen=True)
class Before:
    """What a meeting may change that an overturned removal gives back."""

    holder: NDArray[np.integer[Any]]  # (H, O)
    rung: NDArray[np.integer[Any]]  # (H, P)
    falls: NDArray[np.integer[Any]]  # (H, P, len(LADDER))
    last_step: NDArray[np.integer[Any]]  # (H, P)
    coalition: NDArray[np.int64]  # (H,) the coalition that moved


def snapshot(state: State) -> Before:
    """The state an appeal may restore, taken before the leadership body's motions."""
    return Before(holder=state.holder.copy(), rung=state.rung.copy(), falls=state.falls.copy(),
                  last_step=state.last_step.copy(), coalition=state.coalition.copy())


def apply(state: State, ctx: Context, t: int, meeting: MeetingC, before: Before,
          act: NDArray[np.float64], transfer: object) -> None:
    """Appeals against the offices the leadership body took at ``meeting`` (module docstring).
    ``transfer`` is ``mechanisms.offices.transfer_offices``, for the offices of a mover who
    loses his seat."""
    m, P = ctx.model, ctx.model.P
    who = np.arange(P)
    # (H, O, P): the offices each principal held before the meeting and holds no longer
    lost = ((before.holder[:, :, None] == who[None, None, :])
            & (state.holder[:, :, None] != who[None, None, :]))
    removed = lost.any(axis=1)
    if not removed.any():
        return
    key = f"{meeting.order}"
    u = ctx.u_actors(t, f"appeal:{key}")
    z = ctx.z_actors(t, f"appeal_vote:{key}")
    z_exposed = ctx.z_actors(t, f"appeal_exposed:{key}")
    defiance = ctx.attr("defiance")
    noise = ctx.params["vote_noise"]
    committee, leadership = m.bodies.committee, m.bodies.leadership
    for i in range(P):
        appeals = (removed[:, i] & ~state.arrested[:, i] & state.in_party()[:, i]
                   & (u[:, i] < ctx.params["appeal_rate"] * defiance[:, i]))
        if not appeals.any():
            continue
        rows = np.flatnonzero(appeals)
        eff = standing.effective(state, ctx)
        expect = votes.yes_share(state, ctx, state.cc, i, eff, act=act, rows=rows)
        share = np.clip(expect + noise[rows] * z[rows, i], 0.0, 1.0)
        upheld = share > 0.5
        if state.log is not None:
            for k, h in enumerate(rows):
                posts = [m.office_names[o] for o in np.flatnonzero(lost[h, :, i])]
                state.log[h].append({
                    "kind": "appeal", "step": t, "actors": [m.principals[i]],
                    "body": committee, "office": posts[0] if posts else "",
                    "yes": float(share[k]), "upheld": bool(upheld[k]),
                    "because": f"the {leadership} had removed him from the post of "
                               f"{' and '.join(p.split(' (')[0] for p in posts)}, and the "
                               f"{committee}, which elects it, voted again with its own "
                               f"loyalties",
                })
        back = rows[~upheld]
        if back.size == 0:
            continue
        for o in range(len(m.offices)):
            give = back[lost[back, o, i]]
            state.holder[give, o] = i
        state.rung[back, i] = before.rung[back, i]
        state.falls[back, i] = before.falls[back, i]
        state.last_step[back, i] = before.last_step[back, i]
        _expose(state, ctx, t, i, back, before, act, z_exposed, transfer)


def _expose(state: State, ctx: Context, t: int, appellant: int, back: NDArray[np.int64],
            before: Before, act: NDArray[np.float64], z: NDArray[np.float64],
            transfer: object) -> None:
    """The movers of an overturned removal lose standing and face the committee's vote on
    their seats, backed by the appellant, who alone is the ruling coalition until the next
    game."""
    m, P = ctx.model, ctx.model.P
    movers = bits(before.coalition[back], P) & state.in_politburo()[back]
    movers[:, appellant] = False
    cut = 1.0 - ctx.params["appeal_backlash"][back]
    state.standing[back] *= np.where(movers, cut[:, None], 1.0)
    state.coalition[back] = np.int64(1) << appellant
    state.core[back] = np.int64(1) << appellant
    eff = standing.effective(state, ctx)
    for j in range(P):
        rows = back[movers[:, j]]
        if rows.size == 0:
            continue
        expect = votes.yes_share(state, ctx, state.cc, j, eff, act=act, rows=rows)
        share = np.clip(expect + ctx.params["vote_noise"][rows] * z[rows, j], 0.0, 1.0)
        passed = share > 0.5
        if state.log is not None:
            for k, h in enumerate(rows):
                state.log[h].append({
                    "kind": "vote", "step": t, "actors": [m.principals[j]],
                    "body": m.bodies.committee, "motion": "politburo",
                    "yes": float(share[k]), "passed": bool(passed[k]), "votes": None,
                    "of": None,
                    "because": f"he had moved against {m.principals[appellant]} in the "
                               f"{m.bodies.leadership}, and the {m.bodies.committee} overturned "
                               f"it on appeal",
                })
        out = rows[passed]
        if out.size == 0:
            continue
        state.rung[out, j] = np.maximum(state.rung[out, j], RUNG["politburo"])
        state.last_step[out, j] = t
        first = out[state.falls[out, j, RUNG["politburo"] - 1] < 0]
        state.falls[first, j, RUNG["politburo"] - 1] = t
        where = np.zeros(state.H, dtype=bool)
        where[out] = True
        transfer(state, ctx, t, where, j)  # type: ignore[operator]
