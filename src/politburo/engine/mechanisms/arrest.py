"""Arrest: a ruling coalition that commands the security forces removes a rival at once.

The removal ladder of ``votes`` moves one rung per meeting and needs the body's vote. Where the
men who guard the leaders answer to the ruling coalition, it need not wait for a vote: it can
detain a rival, and the bodies confirm what has been done. Svolik (*The Politics of
Authoritarian Rule*, 2012, ch. 2 and 5) makes force the last arbiter of power-sharing among
the ruling elite: whoever controls the repressive apparatus can settle a dispute by removing
the other side, so a rival's threat is met by his removal, not by a vote. Sudduth ("Strategic
logic of elite purges in dictatorships", *Comparative Political Studies* 50, 2017) finds that
rulers purge rivals when those rivals' capacity to resist is low for a while, above all just
after a change of leader: the moment to strike is short and comes early. The chance of an arrest
therefore opens with the succession and fades: it is ``exp(-(t - s) / arrest_window)`` of its
full size ``s`` months after it (the founder's death, or the scenario's start where there is no
founder's death), and nothing before.

The mechanism, for every history and month (it is read only where the scenario flags an office
``security`` and gives ``arrest_rate``; a scenario without either arrests nobody):

* the ruling coalition may arrest only if one of its members holds a security office;
* its targets are the leaders outside it who still sit in the committee and hold no security
  office themselves;
* each is arrested with chance ``arrest_rate`` times the window above times the coalition's
  keenness to take his office (``votes.threat_keenness``: his power, a bloc's counted
  together, against the strongest member of the coalition), held back by an active founder
  as motions are;
* an arrested leader loses his offices, his seat in the leadership and in the committee at
  once (his followers in the committee lose theirs, as at any removal from it), and he stays
  *charged*: motions to expel him draw the full rate, as an organised faction's do under a ban
  on factions (the Gang of Four were detained on 6 October 1976 and expelled in July 1977).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from politburo.engine.mechanisms.circular_flow import purge_followers
from politburo.engine.rows import rany
from politburo.engine.state import RUNG, Context, State, bits


def apply(state: State, ctx: Context, t: int, succession: int,
          keenness: NDArray[np.float64], restraint: NDArray[np.float64] | float,
          transfer: Callable[..., None]) -> None:
    """Arrests of this month. ``succession`` is the step at which the window opens;
    ``keenness`` (H, P) is the coalition's keenness to move against each outsider
    (``votes.threat_keenness``); ``transfer`` hands a fallen leader's offices on
    (``mechanisms.offices.transfer_offices``)."""
    m, P = ctx.model, ctx.model.P
    hit = arrested(state, ctx, t, succession, keenness, restraint)
    if hit is None:
        return
    for i in range(P):
        rows = np.flatnonzero(hit[:, i])
        if rows.size == 0:
            continue
        held_office = rany(state.holder[rows] == i)
        for step in ("office", "politburo", "central_committee"):
            r = RUNG[step]
            reach = (state.rung[rows, i] < r) & ((step != "office") | held_office)
            first = rows[reach & (state.falls[rows, i, r - 1] < 0)]
            state.falls[first, i, r - 1] = t
        state.rung[rows, i] = RUNG["central_committee"]
        state.last_step[rows, i] = t
        state.arrested[rows, i] = True
        if state.log is not None:
            for k, h in enumerate(rows):
                state.log[h].append({
                    "kind": "arrest", "step": t, "actors": [m.principals[i]],
                    "body": m.bodies.police, "office": bool(held_office[k]),
                    "because": "the ruling coalition commanded the security forces and "
                               "feared his power; he was detained without a vote",
                })
        out = np.zeros((state.H, P), dtype=bool)
        out[rows, i] = True
        purge_followers(state, ctx, out)
        transfer(state, ctx, t, hit[:, i], i)


def arrested(state: State, ctx: Context, t: int, succession: int,
             keenness: NDArray[np.float64], restraint: NDArray[np.float64] | float
             ) -> NDArray[np.bool_] | None:
    """(H, P) whom the ruling coalition arrests this month (``apply`` carries it out), or
    None where it can arrest nobody: no security office, the window not yet open, a rate of
    nothing, or no ruling coalition commanding the security forces."""
    m, P = ctx.model, ctx.model.P
    secure = m.security_offices()
    if not secure.any() or t < succession:
        return None
    window = np.exp(-(t - succession) / np.maximum(ctx.params["arrest_window"], 1e-9))
    rate = ctx.params["arrest_rate"] * window
    if not (rate > 0).any():
        return None
    coal = bits(state.coalition, P)
    holder = state.holder[:, secure]  # (H, S)
    # Whoever holds a security office, principal by principal.
    commands = np.zeros((state.H, P), dtype=bool)
    for j in range(holder.shape[1]):
        ok = holder[:, j] >= 0
        commands[np.flatnonzero(ok), holder[ok, j]] = True
    able = rany(commands & coal) & (state.coalition != 0)
    if not able.any():
        return None
    target = ~coal & ~commands & (state.rung < RUNG["central_committee"])
    u = ctx.u_actors(t, "arrest")
    p = (rate * (1 - restraint))[:, None] * keenness
    return able[:, None] & target & (u < p)
