"""The ensemble report: the numbers behind each chart, and one self-contained HTML page.

Why one file with everything inline: a teacher should be able to open it on a classroom machine
with no network, and a reviewer should be able to archive it. So charts are inline SVG made by
``politburo.report.plots``, the style sheet is inline, and there is no script at all.

Pure: ``collect`` turns arrays into a ``ReportData``; ``figures`` and ``render_html`` turn that
into figures and text. Reading optional calibration and factor-weight files, and writing the
page, is the job of ``politburo.cli.report``.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from politburo.chronicle.story import Chronicle
from politburo.dates import month_name, parse_month
from politburo.engine.fingerprint import platform_stamp
from politburo.engine.histories import Histories
from politburo.engine.state import LADDER
from politburo.report import plots
from politburo.runner.summary import Summary, fall_months
from politburo.scenario import labels
from politburo.scenario.compile import Compiled
from politburo.scenario.loader import scenario_hash
from politburo.scenario.schema import RISE_STEPS, Scenario

if TYPE_CHECKING:
    from politburo.report.side import Side

KINDS = ("winners", "power", "milestones", "orders", "tallies")
"""Chart kinds shared by the report and ``politburo plot``."""

def step_words(scenario: Scenario, direction: str = "fall") -> dict[str, str]:
    """'removed from the leadership' for each step, in the scenario's names of its bodies."""
    b = scenario.bodies
    if direction == "rise":
        return {"office": "gains an office", "politburo": f"returns to the {b.leadership}",
                "central_committee": f"returns to the {b.committee}",
                "party": "is readmitted to the party"}
    return {"office": "loses an office", "politburo": f"removed from the {b.leadership}",
            "central_committee": f"expelled from the {labels.committee(scenario)}",
            "party": "expelled from the party",
            "exile": "sent into exile", "deportation": "deported"}


@dataclass(frozen=True)
class MilestoneRow:
    label: str
    historical: int  # absolute month
    happened: float  # share of histories where the step happened
    q: NDArray[np.float64]  # 10, 25, 50, 75, 90th percentile months (NaN if never)


@dataclass(frozen=True)
class TallyRow:
    name: str
    month: int
    delegates: int
    q: NDArray[np.float64]  # 10, 50, 90th percentile share backing the leadership
    historical: float | None
    note: str
    verified: bool | None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as plain values (principals in the scenario's order)."""

    title: str
    scenario: str
    seed: int
    runs: int
    parameters: str
    names: tuple[str, ...]
    colours: tuple[str, ...]
    winners: tuple[tuple[str, float, float, float], ...]  # label, p, lo, hi
    months: NDArray[np.int64]
    power_q: NDArray[np.float64] | None  # (3, T, P): 10th, 50th, 90th percentiles
    milestones: tuple[MilestoneRow, ...]
    orders: tuple[tuple[str, float], ...]
    orders_distinct: int
    orders_other: float  # share of histories whose order is not listed
    historical_order: str | None
    tallies: tuple[TallyRow, ...]
    chronicle: Chronicle | None
    fit: dict[str, Any] | None = None
    weights: dict[str, Any] | None = None
    horizon: str = "the end"  # the scenario's last month, in words
    leadership: str = "leadership"  # the scenario's name of its leadership body
    committee: str = "committee"  # and of the committee that elects it
    committee_short: str = "committee"  # the committee in running text (CC where listed)
    historical_order_month: int | None = None  # when history's order of elimination was complete
    headline: str = ""  # the scenario's question, for the heading
    scenario_hash: str = ""
    stamp: dict[str, str] = field(default_factory=dict)  # the engine and platform (fingerprint)
    notes: tuple[str, ...] = field(default_factory=tuple)
    side: Side | None = None  # a lever's world beside this one, from paired histories


def display_order(scenario: Scenario, model: Compiled) -> list[int]:
    """Model indices of the principals in the scenario's order (the engine sorts them by id)."""
    return [model.index(p.id) for p in scenario.principals]


def typical_history(h: Histories) -> int:
    """Index of the first history whose winner is the most common outcome (no one included)."""
    modal = int(np.argmax(np.bincount(h.winner)))
    return int(h.index[int(np.flatnonzero(h.winner == modal)[0])])


def order_label(steps: NDArray[np.int64], names: list[str], depth: int) -> str:
    """'Kamenev → Zinoviev & Trotsky' for the first ``depth`` removed; ties share a stage."""
    fallen = sorted((int(s), k) for k, s in enumerate(steps) if s >= 0)
    stages: list[list[str]] = []
    count, last = 0, None
    for s, k in fallen:
        if count >= depth and s != last:
            break
        if s != last:
            stages.append([])
        stages[-1].append(names[k])
        count, last = count + 1, s
    return " → ".join(" & ".join(st) for st in stages) or "no one removed"


def elimination_orders(falls: NDArray[np.int64], names: list[str], depth: int = 3,
                       top: int = 10, keep: str | None = None
                       ) -> tuple[list[tuple[str, float]], int, float]:
    """The ``top`` most common orders of removal, how many orders occur, the share not shown.

    The order ``keep`` (history's) is listed even when it is rarer than the top ones, so the
    reader can always find it.
    """
    counts = Counter(order_label(row, names, depth) for row in falls)
    n = max(falls.shape[0], 1)
    rows = [(lab, c / n) for lab, c in counts.most_common(top)]
    if keep is not None and keep not in {lab for lab, _ in rows}:
        rows.append((keep, counts.get(keep, 0) / n))
    return rows, len(counts), max(0.0, 1.0 - sum(s for _, s in rows))


def collect(scenario: Scenario, model: Compiled, h: Histories, summary: Summary,
            chronicle: Chronicle | None = None, *, fit: dict[str, Any] | None = None,
            weights: dict[str, Any] | None = None, parameters: str = "prior") -> ReportData:
    """Reduce an ensemble to what the report shows."""
    order = display_order(scenario, model)
    names = [p.called for p in scenario.principals]
    colours = tuple(plots.colour(i) for i in range(len(order)))
    winners = [(names[i], summary.winners[model.principals[k]],
                *summary.winner_ci[model.principals[k]]) for i, k in enumerate(order)]
    winners.append(("no one (collective leadership)", summary.winners["none"],
                    *summary.winner_ci["none"]))
    months = model.start + np.arange(model.steps)
    power_q = None
    if h.power is not None:
        power_q = np.quantile(h.power[:, :, order].astype(np.float64), [0.1, 0.5, 0.9], axis=0)
    milestones = []
    for m in scenario.milestones:
        if m.actor not in model.principals:
            continue
        if m.direction == "rise":
            col = (h.rises[:, model.index(m.actor), len(RISE_STEPS) + model.offices.index(m.office)]
                   if m.office is not None and h.rises is not None else
                   h.rises[:, model.index(m.actor), RISE_STEPS.index(m.step)]
                   if h.rises is not None else np.full(h.H, -1))
        else:
            step = (fall_months(h, "exile") if m.step == "exile"
                    else h.falls[:, :, LADDER.index(m.step)])
            col = step[:, model.index(m.actor)]
        ok = col >= 0
        q = (np.percentile(col[ok] + model.start, [10, 25, 50, 75, 90], method="nearest")
             if ok.any() else np.full(5, np.nan))
        words = step_words(scenario, m.direction)
        what = (f"gains the post of {model.office_names[model.offices.index(m.office)]}"
                if m.office is not None else words.get(m.step, m.step))
        label = f"{names[order.index(model.index(m.actor))]} {what}"
        milestones.append(MilestoneRow(label, parse_month(m.month), float(ok.mean()), q))
    hist_pb = np.full(len(order), -1)
    for m in scenario.milestones:
        if m.step == "politburo" and m.direction == "fall" and m.actor in model.principals:
            pos = order.index(model.index(m.actor))
            hist_pb[pos] = parse_month(m.month) if hist_pb[pos] < 0 else hist_pb[pos]
    historical_order = order_label(hist_pb, names, 3) if (hist_pb >= 0).any() else None
    pb = h.falls[:, order, LADDER.index("politburo")]
    orders, distinct, other = elimination_orders(pb, names, keep=historical_order)
    assemblies = [mt for mt in model.meetings if mt.kind >= 2]
    tallies = []
    known = {t.assembly: t for t in scenario.fit.tallies}
    if len(assemblies) == h.tallies.shape[1]:
        for j, mt in enumerate(assemblies):
            hist = known.get(mt.name)
            tallies.append(TallyRow(
                mt.name, model.start + mt.month, mt.delegates,
                np.quantile(h.tallies[:, j], [0.1, 0.5, 0.9]),
                hist.value() if hist else None,
                f"{hist.what} ({hist.source or hist.assumption})" if hist else "",
                hist.verified if hist else None))
    return ReportData(
        title=scenario.title, scenario=model.scenario_id, seed=h.seed, runs=h.H,
        scenario_hash=scenario_hash(scenario), stamp=platform_stamp(),
        parameters=parameters, names=tuple(names), colours=colours,
        winners=tuple((a, float(p), float(lo), float(hi)) for a, p, lo, hi in winners),
        months=months, power_q=power_q, milestones=tuple(milestones), orders=tuple(orders),
        orders_distinct=distinct, orders_other=other, historical_order=historical_order,
        tallies=tuple(tallies),
        chronicle=chronicle, fit=fit, weights=weights,
        horizon=month_name(parse_month(scenario.end)), leadership=scenario.bodies.leadership,
        committee=scenario.bodies.committee, committee_short=labels.committee(scenario),
        historical_order_month=int(np.sort(hist_pb[hist_pb >= 0])[:3][-1])
        if (hist_pb >= 0).any() else None,
        headline=scenario.question.headline or scenario.title)


def figures(d: ReportData, kinds: tuple[str, ...] = KINDS) -> dict[str, Figure]:
    """The report's charts by kind (a kind without data is left out); paired charts when
    the report sets a lever's world beside the baseline (``politburo.report.side``)."""
    out: dict[str, Figure] = {}
    if d.side is not None:
        from politburo.report import side as report_side  # it builds on this module

        out = report_side.figures(d, kinds)
        kinds = tuple(k for k in kinds if k == "weights")
    if "winners" in kinds:
        out["winners"] = plots.winners_chart(
            [w[0] for w in d.winners], np.array([w[1] for w in d.winners]),
            np.array([w[2] for w in d.winners]), np.array([w[3] for w in d.winners]),
            [*d.colours, plots.NO_ONE], d.horizon)
    if "power" in kinds and d.power_q is not None:
        q10, q50, q90 = d.power_q
        out["power"] = plots.power_fan(d.months, d.names, q10, q50, q90, d.colours)
    if "milestones" in kinds and d.milestones:
        out["milestones"] = plots.milestones_chart(
            [m.label for m in d.milestones], np.array([m.q for m in d.milestones]),
            np.array([m.happened for m in d.milestones]), [m.historical for m in d.milestones])
    if "orders" in kinds and d.orders:
        out["orders"] = plots.orders_chart([o[0] for o in d.orders],
                                           np.array([o[1] for o in d.orders]),
                                           d.historical_order, d.orders_other, d.leadership)
    if "tallies" in kinds and d.tallies:
        out["tallies"] = plots.tallies_chart(
            [f"{t.name}\n{month_name(t.month)}" for t in d.tallies],
            np.array([t.q for t in d.tallies]), [t.historical for t in d.tallies],
            [t.verified for t in d.tallies])
    if "weights" in kinds and d.weights:
        w = d.weights
        out["weights"] = plots.weights_chart(w["names"], np.asarray(w["value"], float),
                                             None if w.get("ci") is None else np.asarray(w["ci"]),
                                             str(w.get("target", "the target")))
    return out




CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
max-width:62rem;margin:0 auto;padding:1.5rem;line-height:1.5;background:#fff}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:2px solid #0072B2;
padding-bottom:.2rem}.meta{color:#555}figure{margin:1rem 0}
figure svg{width:100%;max-width:900px;height:auto}
figcaption{color:#555;font-size:.9rem}table{border-collapse:collapse;margin:.8rem 0;
font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f2f5f8}
.missing{background:#fff8e6;border-left:4px solid #E69F00;padding:.5rem .8rem}
.note{background:#f4f4f4;border-left:4px solid #999;padding:.5rem .8rem;font-size:.9rem}
.chronicle{max-height:36rem;overflow-y:auto;border:1px solid #ccc;padding:0 1rem;
background:#fcfcfa;font-family:Georgia,"Times New Roman",serif}
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """An HTML table; cells are escaped here, columns in ``numeric`` are right-aligned."""
    numeric = numeric or set()
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f"<td{' class=\"n\"' if j in numeric else ''}>{_e(c)}</td>" for j, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _figure(svgs: dict[str, str], kind: str, caption: str) -> str:
    if kind not in svgs:
        return f'<p class="missing">No data for this chart ({_e(kind)}).</p>'
    return f'<figure id="chart-{kind}">{svgs[kind]}<figcaption>{_e(caption)}</figcaption></figure>'


def _month(m: float) -> str:
    return month_name(int(m)) if np.isfinite(m) else "never"


def _count(n: int) -> str:
    """'seven' for 7: numbers a sentence spells out."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
             "ten", "eleven", "twelve")
    return words[n] if 0 <= n < len(words) else f"{n:,}"


def _unverified(tallies: tuple[TallyRow, ...]) -> str:
    """A sentence on the historical votes the scenario marks unverified, drawn hollow."""
    doubtful = [t for t in tallies if t.verified is False and t.historical is not None]
    if not doubtful:
        return ""
    named = "; ".join(f"the {_e(t.name)}: {_e(t.note)}" for t in doubtful)
    return (f" Drawn hollow, the {'figure' if len(doubtful) == 1 else 'figures'} the scenario "
            f"marks <strong>UNVERIFIED</strong>: {named}.")


def _sections(d: ReportData, svgs: dict[str, str]) -> list[str]:
    lead, cc, short = _e(d.leadership), _e(d.committee), _e(d.committee_short)
    out = ["<h2>Who comes to rule?</h2><p>A leader rules alone when the majorities of the "
           f"{lead} and the {cc} follow him without partners who have bases of "
           f"their own: his own vote and his seated clients' loyal votes carry the {lead}, "
           f"and his followers are most of the {short}. <em>No one</em> means that collective "
           "leadership lasted to the end. Intervals are 95% Wilson score intervals: they "
           "measure only how many histories were run, not doubt about the model.</p>",
           _figure(svgs, "winners", "Share of histories won by each leader, with 95% interval."),
           _table(["leader", "probability", "95% interval"],
                  [[a, _pct(p), f"{_pct(lo)} – {_pct(hi)}"] for a, p, lo, hi in d.winners],
                  {1, 2})]
    out += ["<h2>Power over time</h2><p>Each principal's share of power as the model measures "
            f"it (the {cc}, {lead} seats, offices and standing, weighted); the "
            f"{_count(len(d.names))} shares sum to 100% each month.</p>",
            _figure(svgs, "power", "Median share (line) and the band holding the middle 80% "
                    "of histories (10th to 90th percentile), by month.")]
    out += ["<h2>Milestones: simulated months beside history</h2><p>For each historical "
            "milestone of the scenario, the month in which the same step happened in the "
            "simulated histories where it happened at all.</p>",
            _figure(svgs, "milestones", "Box: middle half; line: 10th to 90th percentile; "
                    "tick: median; diamond: the historical month."),
            _table(["milestone", "history", "simulated median", "10% – 90%",
                    "happened by the end"],
                   [[m.label, month_name(m.historical), _month(m.q[2]),
                     f"{_month(m.q[0])} – {_month(m.q[4])}", _pct(m.happened)]
                    for m in d.milestones], {4})]
    when = (f" ({month_name(d.historical_order_month)})"
            if d.historical_order_month is not None else "")
    hist = (f" History's order was <strong>{_e(d.historical_order)}</strong>{when}, as far as "
            "the scenario's milestones record it." if d.historical_order else "")
    out += [f"<h2>Order of elimination</h2><p>The order in which the principals were first "
            f"removed from the {lead}, counting the first three to go (those removed in the "
            f"same month share a place, joined by &amp;). {d.orders_distinct:,} different "
            f"orders occur.{hist}</p>",
            _figure(svgs, "orders", "Most common orders; orange marks the historical one."),
            _table(["order", "share of histories"],
                   [*([o, _pct(s)] for o, s in d.orders),
                    [f"all other orders ({d.orders_distinct - len(d.orders)})",
                     _pct(d.orders_other)]], {1})]
    out += ["<h2>Votes at conferences and congresses</h2><p>The share of each assembly's "
            "voting delegates who backed the leadership (all but the followers of those "
            "outside the ruling coalition), beside the historical vote where the fact base "
            f"gives one.{_unverified(d.tallies)}</p>",
            _figure(svgs, "tallies", "Dot: simulated median; bar: 10th to 90th percentile; "
                    "diamond: history (hollow: unverified)."),
            _table(["assembly", "month", "voting delegates", "simulated median",
                    "10% – 90%", "history"],
                   [[t.name, month_name(t.month), f"{t.delegates:,}",
                     f"{_pct(t.q[1])} (about {round(t.q[1] * t.delegates):,})",
                     f"{_pct(t.q[0])} – {_pct(t.q[2])}",
                     f"{_pct(t.historical)}: {t.note}" if t.historical is not None else "—"]
                    for t in d.tallies], {2, 3, 4})]
    return out


def _optional(d: ReportData, svgs: dict[str, str]) -> list[str]:
    out = ["<h2>Calibration fit</h2>"]
    if d.fit:
        out.append(f"<p>From <code>{_e(d.fit.get('source', ''))}</code>.</p>")
        out += [f'<p class="note">{_e(n)}</p>' for n in d.fit.get("notes", [])]
        if d.fit.get("rows"):
            out.append(_table(list(d.fit["columns"]), [[str(c) for c in r]
                                                       for r in d.fit["rows"]]))
    else:
        source = ("their priors" if d.parameters == "prior"
                  else "the scenario's shipped posterior")
        out.append('<p class="missing">Not computed for this report: no calibration result '
                   "was given (pass one with <code>--fit FILE</code>). The parameters above "
                   f"are drawn from {_e(source)}.</p>")
    out.append("<h2>Factor weights</h2>")
    if d.weights:
        w = d.weights
        out += [f"<p>Shapley values of the levers on the probability that "
                f"{_e(w.get('target', 'the target'))} rules, from "
                f"<code>{_e(w.get('source', ''))}</code>: how much of the change from the "
                "historical world to the world with every lever switched comes from each.</p>",
                _figure(svgs, "weights", "Weight of each factor in percentage points, with "
                        "its interval where given."),
                _table(["factor", "weight"], [[n, f"{100 * float(v):+.1f} points"] for n, v
                                              in zip(w["names"], w["value"], strict=True)],
                       {1})]
    else:
        out.append('<p class="missing">Not computed for this report: no factor weights were '
                   "given (pass Shapley results with <code>--weights FILE</code>).</p>")
    return out


def _chronicle(d: ReportData) -> list[str]:
    ch = d.chronicle
    if ch is None:
        return ['<h2>A typical history</h2><p class="missing">Not included.</p>']
    told = "no one" if ch.winner is None else ch.winner.capitalize()
    paras = [*ch.opening, *(p for _, p in ch.months), ch.outcome]
    return [f"<h2>A typical history</h2><p>History {ch.history} of seed {ch.seed}, the first "
            f"whose outcome is the most common one (winner: {_e(told)}). To read it in a "
            f"terminal: <code>politburo chronicle --seed {ch.seed} --history {ch.history}"
            f"</code>.{_side_chronicle(d)}</p>",
            '<div class="chronicle">' + "".join(f"<p>{_e(p)}</p>" for p in paras) + "</div>"]


def _side_chronicle(d: ReportData) -> str:
    """Where the chronicle is the baseline's, how to read the same history in the lever's."""
    if d.side is None or d.chronicle is None:
        return ""
    flags = " ".join(f"-l {k}" for k, _ in d.side.levers)
    return (" This is the baseline's telling; the same history in the lever's world: "
            f"<code>politburo chronicle {_e(flags)} --seed {d.chronicle.seed} --history "
            f"{d.chronicle.history}</code>.")


def _stamp(d: ReportData) -> str:
    """The scenario's hash, the engine's and the platform the histories were computed on."""
    s = d.stamp
    if not s:
        return ""
    return (f" (engine {_e(s['engine_hash'])}; scenario hash {_e(d.scenario_hash)}; computed "
            f"on {_e(s['cpu'])} with NumPy {_e(s['numpy'])}, SciPy {_e(s['scipy'])} and Numba "
            f"{_e(s['numba'])})")


def render_html(d: ReportData, version: str) -> str:
    """The whole report as one HTML document with inline SVG charts and no scripts."""
    svgs = {k: plots.to_svg(f, salt=f"politburo-{k}") for k, f in
            figures(d, (*KINDS, "weights")).items()}
    start, end = month_name(int(d.months[0])), month_name(int(d.months[-1]))
    title = d.title
    if d.side is not None:
        from politburo.report import side as report_side

        title = f"{d.title}: the baseline beside a counterfactual world ({d.side.name})"
        main = report_side.sections(d, svgs)
    else:
        main = _sections(d, svgs)
    paired = "paired " if d.side is not None else ""
    head = (f"<h1>{_e(d.headline)}</h1><p class=\"meta\">{_e(title)}: "
            f"{d.runs:,} {paired}simulated histories of scenario <code>{_e(d.scenario)}</code>, "
            f"seed {d.seed}, parameters drawn from the {_e(d.parameters)}; monthly from {start} "
            f"to {end}. Made by politburo {_e(version)}{_stamp(d)}.</p>")
    body = [head, *main, *_optional(d, svgs), *_chronicle(d),
            "<hr><p class=\"meta\">Charts drawn with Matplotlib in the Okabe-Ito colour-blind-"
            "safe palette. This page is self-contained and loads nothing from the network.</p>"]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>politburo report: {_e(title)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")
