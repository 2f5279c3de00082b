"""The report of a lever's world beside the baseline: paired figures, tables and charts.

Why paired: a lever's world read alone says little, because the reader cannot tell the lever's
effect from the noise of a fresh sample. ``politburo whatif`` runs both worlds over the same
histories (same seed, same parameter draws, common random numbers) and measures the change
history by history; this module lays that comparison out as the report's sections. The
numbers of the comparison are ``WhatIfResult.to_dict()``'s, taken as they are, so the page and
``politburo whatif --json`` cannot disagree.

Pure, as ``politburo.report`` is: ``pair`` joins two ``ReportData`` and a what-if's figures;
``figures`` and ``sections`` turn them into charts and HTML. The command runs the worlds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from politburo.dates import month_name
from politburo.report import ensemble as rp
from politburo.report import plots
from politburo.scenario.levers import bundle, bundle_levers, lever
from politburo.scenario.schema import Scenario

ORDER_ROWS = 10
"""How many orders of elimination the paired chart shows at most."""


@dataclass(frozen=True)
class Side:
    """A lever's world beside the baseline, from paired histories.

    ``rows`` holds, for each leader in the report's order and then no one: the label, the
    baseline's and the lever world's probability, the paired difference and its 95% interval
    (as ``politburo whatif`` computes them). ``orders`` lists orders of elimination with their
    shares in both worlds.
    """

    name: str  # the levers as given: "lewins_alternative", "lenin_lives=1925-06, no_faction_ban"
    levers: tuple[tuple[str, str], ...]  # (lever or bundle as set, its title)
    members: tuple[tuple[str, tuple[str, ...]], ...]  # (bundle, the levers it stands for)
    world: rp.ReportData
    rows: tuple[tuple[str, float, float, float, float, float], ...]
    flipped: float
    orders: tuple[tuple[str, float, float], ...]
    command: str  # the whatif command that gives the same numbers


def _setting(name: str, value: Any) -> str:
    return name if value is None else f"{name}={value}"


def order_shares(base: NDArray[np.int64], world: NDArray[np.int64], names: list[str],
                 keep: str | None = None, top: int = ORDER_ROWS
                 ) -> list[tuple[str, float, float]]:
    """The orders of removal most common in either world, with their share in each.

    ``base`` and ``world`` are the (H, P) months of removal from the leadership; the orders
    are ranked by the larger of their two shares, and history's order (``keep``) is always
    listed.
    """
    a = Counter(rp.order_label(r, names, 3) for r in base)
    b = Counter(rp.order_label(r, names, 3) for r in world)
    na, nb = max(base.shape[0], 1), max(world.shape[0], 1)
    ranked = sorted(set(a) | set(b), key=lambda o: (-max(a[o] / na, b[o] / nb), o))[:top]
    if keep is not None and keep not in ranked:
        ranked.append(keep)
    return [(o, a[o] / na, b[o] / nb) for o in ranked]


def pair(scenario: Scenario, base: rp.ReportData, world: rp.ReportData, whatif: dict[str, Any],
         falls: tuple[NDArray[np.int64], NDArray[np.int64]], prior: bool = False
         ) -> rp.ReportData:
    """The baseline's report data with the lever's world beside it.

    ``whatif`` is ``WhatIfResult.to_dict()`` of the two worlds; ``falls`` their (H, P) months
    of removal from the leadership, principals in the scenario's order.
    """
    settings: dict[str, Any] = dict(whatif["levers"])
    name = ", ".join(_setting(k, v) for k, v in settings.items())
    ids = [p.id for p in scenario.principals] + ["none"]
    rows = []
    for (label, *_), a in zip(base.winners, ids, strict=True):
        diff = whatif["difference"][a]
        rows.append((label, float(whatif["baseline"]["winners"][a]),
                     float(whatif["intervened"]["winners"][a]), float(diff["delta"]),
                     float(diff["ci"][0]), float(diff["ci"][1])))
    members = tuple((k, tuple(_setting(n, v) for n, v in bundle_levers(scenario, b).items()))
                    for k in settings if (b := bundle(scenario, k)) is not None)
    levers = tuple((_setting(k, v), lever(scenario, k).title) for k, v in settings.items())
    mode = "" if whatif["mode"] == "ex-ante" else f" --mode {whatif['mode']}"
    command = (f"politburo whatif {' '.join(_setting(k, v) for k, v in settings.items())} "
               f"--scenario {base.scenario} -n {whatif['runs']} --seed {whatif['seed']}{mode}"
               f"{' --prior' if prior else ''}")
    side = Side(name=name, levers=levers, members=members, world=world, rows=tuple(rows),
                flipped=float(whatif["flipped"]),
                orders=tuple(order_shares(*falls, list(base.names), base.historical_order)),
                command=command)
    return replace(base, side=side)


def figures(d: rp.ReportData, kinds: tuple[str, ...] = rp.KINDS) -> dict[str, Figure]:
    """The paired charts by kind (a kind without data is left out)."""
    s = d.side
    assert s is not None, "figures of a report with no lever's world beside it"
    w = s.world
    worlds = ("baseline", s.name)
    out: dict[str, Figure] = {}
    if "winners" in kinds:
        r = np.array([row[1:3] for row in s.rows]).T
        lo = np.array([[x[2] for x in d.winners], [x[2] for x in w.winners]])
        hi = np.array([[x[3] for x in d.winners], [x[3] for x in w.winners]])
        out["winners"] = plots.winners_pair_chart([row[0] for row in s.rows], r, lo, hi,
                                                  worlds, d.horizon)
    if "power" in kinds and d.power_q is not None and w.power_q is not None:
        out["power"] = plots.power_fan_pair(d.months, d.names, np.stack([d.power_q, w.power_q]),
                                            worlds)
    if "milestones" in kinds and d.milestones:
        out["milestones"] = plots.milestones_pair_chart(
            [m.label for m in d.milestones],
            np.array([[m.q for m in d.milestones], [m.q for m in w.milestones]]),
            np.array([[m.happened for m in d.milestones], [m.happened for m in w.milestones]]),
            [m.historical for m in d.milestones], worlds)
    if "orders" in kinds and s.orders:
        out["orders"] = plots.orders_pair_chart(
            [o[0] for o in s.orders], np.array([[o[1] for o in s.orders],
                                                [o[2] for o in s.orders]]),
            worlds, d.historical_order, d.leadership)
    if "tallies" in kinds and d.tallies and len(w.tallies) == len(d.tallies):
        out["tallies"] = plots.tallies_pair_chart(
            [f"{t.name}\n{month_name(t.month)}" for t in d.tallies],
            np.array([[t.q for t in d.tallies], [t.q for t in w.tallies]]),
            [t.historical for t in d.tallies], [t.verified for t in d.tallies], worlds)
    return out


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def sections(d: rp.ReportData, svgs: dict[str, str]) -> list[str]:
    """The report's main sections with both worlds side by side."""
    s = d.side
    assert s is not None, "sections of a report with no lever's world beside it"
    w = s.world
    e, pct, table, figure, month = rp._e, rp._pct, rp._table, rp._figure, rp._month
    name = e(s.name)
    lead = e(d.leadership)
    items = "".join(f"<li><code>{e(k)}</code>: {e(t)}</li>" for k, t in s.levers)
    bundles = "".join(
        f"<p>The bundle <code>{e(b)}</code> stands for {rp._count(len(m))} levers set together: "
        + ", ".join(f"<code>{e(x)}</code>" for x in m) + ".</p>" for b, m in s.members)
    out = [f"<h2>The world of {name} beside the baseline</h2>"
           f"<ul>{items}</ul>{bundles}"
           f"<p>Both worlds ran the same {d.runs:,} histories: the same seed, the same "
           "parameter draws and the same random numbers, so each history is told twice, once "
           "as the baseline and once with the lever set, and every difference below is "
           "measured history by history (common random numbers). The same numbers come from "
           f"<code>{e(s.command)} --json</code>.</p>"]
    out += ["<h2>Who comes to rule?</h2><p>Each leader's chance in both worlds (95% Wilson "
            "intervals on the chart), and the paired difference with its 95% interval, in "
            "percentage points. <em>No one</em> means that collective leadership lasted to "
            f"the end. The winner changes in <strong>{pct(s.flipped)}</strong> of the "
            "histories.</p>",
            figure(svgs, "winners", f"Share of histories won by each leader: baseline (grey) "
                                    f"and {s.name} (blue), with 95% intervals."),
            table(["leader", "baseline", s.name, "difference (points)",
                   "95% interval of the difference"],
                  [[lab, pct(p0), pct(p1), _points(dx), f"{_points(lo)} to {_points(hi)}"]
                   for lab, p0, p1, dx, lo, hi in s.rows], {1, 2, 3, 4})]
    out += ["<h2>Power over time</h2><p>Each principal's share of power by month in both "
            "worlds, in one panel per principal.</p>",
            figure(svgs, "power", f"Median (baseline dashed grey, {s.name} solid blue) and the "
                                  "band holding the middle 80% of histories.")]
    out += ["<h2>Milestones: when each step came, in both worlds</h2><p>For each historical "
            "milestone, the month in which the step happened in the histories where it "
            "happened at all; upper box the baseline, lower box the lever's world.</p>",
            figure(svgs, "milestones", "Box: middle half; line: 10th to 90th percentile; "
                                       "tick: median; diamond: the historical month."),
            table(["milestone", "history", "baseline median", s.name + " median",
                   "happened: baseline", "happened: " + s.name],
                  [[m.label, month_name(m.historical), month(m.q[2]), month(n.q[2]),
                    pct(m.happened), pct(n.happened)]
                   for m, n in zip(d.milestones, w.milestones, strict=True)], {4, 5})]
    hist = (f" History's order was <strong>{e(d.historical_order)}</strong>."
            if d.historical_order else "")
    out += [f"<h2>Order of elimination</h2><p>The order in which the principals were first "
            f"removed from the {lead}, counting the first three to go, in the orders most "
            f"common in either world.{hist}</p>",
            figure(svgs, "orders", "Share of histories with each order: baseline (grey) and "
                                   f"{s.name} (blue)."),
            table(["order", "baseline", s.name],
                  [[o, pct(a), pct(b)] for o, a, b in s.orders], {1, 2})]
    out += ["<h2>Votes at conferences and congresses</h2><p>The share of each assembly's "
            "voting delegates who backed the leadership, in both worlds, beside the historical "
            f"vote where the fact base gives one.{rp._unverified(d.tallies)}</p>",
            figure(svgs, "tallies", "Dot: simulated median; bar: 10th to 90th percentile; "
                                    "grey the baseline, blue the lever's world; diamond: "
                                    "history (hollow: unverified)."),
            table(["assembly", "month", "baseline median", s.name + " median", "history"],
                  [[t.name, month_name(t.month), pct(t.q[1]), pct(u.q[1]),
                    pct(t.historical) if t.historical is not None else "—"]
                   for t, u in zip(d.tallies, w.tallies, strict=True)], {2, 3})]
    return out
