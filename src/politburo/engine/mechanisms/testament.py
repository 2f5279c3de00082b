"""The founder's Testament put to a vote: the motion to remove its target from the patronage
office (docs/model.md section 7.7).

The letter proposed moving its target out of the General Secretaryship, not out of the party
(S12). The scenario's ``testament`` event says when the motion is put and how openly; the
parameter ``testament_removal_support`` says how much support it starts with. An offer to
resign an office (a ``resignation`` event: the patronage office, or the one it names) is put to
the same vote, without the founder's allies behind it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms import votes
from politburo.engine.mechanisms.offices import transfer_offices
from politburo.engine.state import Context, State
from politburo.scenario.compile import MeetingC


def testament_vote(state: State, ctx: Context, t: int, mt: MeetingC,
                    body: NDArray[np.float64], eff: NDArray[np.float64],
                    act: NDArray[np.float64], target: int, shift: float,
                    resignation: bool = False, office: int = -1) -> None:
    """The founder's proposal: remove the Testament's target from the patronage office.

    A ``resignation`` event puts the same question by the holder's own offer, for the office it
    names (``office``; -1, the patronage office): the meeting votes on accepting it, with the
    support the event's ``size`` gives, and its own draw; whether it passes, and who takes the
    office, is the vote's and the coalition's.
    """
    g = office if resignation and office >= 0 else ctx.model.gensec
    if g < 0:
        return
    holds = state.holder[:, g] == target
    if not holds.any():
        return
    support = ctx.params["testament_removal_support"] * shift
    saved = state.coalition.copy()
    # The founder's motion, not the ruling coalition's: backed by his own allies (the leaders in
    # a ruling coalition with him, when he plays and is in one) except its target.
    allies = np.zeros_like(saved)
    if state.founder_on and state.founder_in is not None and not resignation:
        allies = np.where(state.founder_in, saved & ~(np.int64(1) << target), 0)
    state.coalition = allies
    expect = votes.yes_share(state, ctx, body, target, eff, shift=support, act=act)
    state.coalition = saved
    z = ctx.z(t, "resignation_vote" if resignation else "testament_vote")[:, 0]
    share = np.clip(expect + ctx.params["vote_noise"] * z, 0, 1)
    passed = holds & (share > 0.5)
    for h in np.flatnonzero(holds):
        if state.log is not None:
            state.log[h].append({
                "kind": "vote", "step": t, "actors": [ctx.model.principals[target]],
                "body": mt.name, "motion": ctx.model.offices[g], "yes": float(share[h]),
                "passed": bool(passed[h]), "votes": None, "of": None,
                "because": (f"he had offered to resign the post of "
                            f"{ctx.model.office_names[g].split(' (')[0]} and the committee put "
                            "the offer to a vote") if resignation else
                           (f"the Testament proposed removing him from the post of "
                            f"{ctx.model.office_names[g].split(' (')[0]} (not from the party)"),
            })
    if passed.any():
        transfer_offices(state, ctx, t, passed, target, only=g)
