"""Charts of an ensemble, one function per chart, each returning a Matplotlib ``Figure``.

Why this shape: the report embeds the figures as inline SVG and ``politburo plot`` writes them
as PNG or SVG for papers and slides, so one function serves both. The functions take plain
arrays (prepared by ``politburo.report``) and never touch files, the environment or pyplot's
global state: figures are built with ``matplotlib.figure.Figure`` directly, which renders with
the Agg/SVG canvases and needs no display. Colours are the Okabe-Ito palette (Okabe and Ito
2008, "Color Universal Design"), distinguishable with the common colour-vision deficiencies;
every chart also carries its meaning in labels, not in colour alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib import dates as mdates
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import NDArray

OKABE_ITO = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000")
NO_ONE = "#999999"
HISTORY = "#000000"
FONT: dict[Any, Any] = {"font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
                        "svg.fonttype": "none"}


def colour(i: int) -> str:
    """The i-th colour of the palette (a principal's colour is fixed by his display order)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def month_date(absolute: int | float) -> dt.date:
    """Absolute month number (year * 12 + month - 1) to the first day of that month."""
    year, m0 = divmod(int(round(absolute)), 12)
    return dt.date(year, m0 + 1, 1)


def _date_axis(ax: object, every: int = 1) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator(every))  # type: ignore[attr-defined]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))  # type: ignore[attr-defined]


def _styled[**P](chart: Callable[P, Figure]) -> Callable[P, Figure]:
    """Build the chart under the report's font sizes; rcParams are restored afterwards."""
    @functools.wraps(chart)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(FONT):
            return chart(*args, **kwargs)
    return wrapper


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


ODDS_AXIS = "share of histories in which he rules at the end (%)\nwhiskers: 95% interval"


def _odds_bars(ax: Any, y: NDArray[Any], p: NDArray[np.float64], lo: NDArray[np.float64],
               hi: NDArray[np.float64], bar: dict[str, Any], whisker: tuple[float, float],
               text: tuple[float, float]) -> None:
    """Bars of ``p`` with their 95% whiskers and each value printed past the upper bound
    (``whisker``: cap size and line width; ``text``: offset and font size)."""
    pct = 100 * np.asarray(p)
    ax.barh(y, pct, **bar)
    # Wilson bounds can miss p by a rounding error at 0 or 1; whiskers must not go negative.
    below = np.maximum(pct - 100 * np.asarray(lo), 0.0)
    above = np.maximum(100 * np.asarray(hi) - pct, 0.0)
    ax.errorbar(pct, y, xerr=[below, above], fmt="none", ecolor="#333333", capsize=whisker[0],
                linewidth=whisker[1])
    for yi, v, top in zip(y, pct, 100 * np.asarray(hi), strict=True):
        ax.annotate(f"{v:.1f}%", (top, yi), xytext=(text[0], 0), textcoords="offset points",
                    va="center", fontsize=text[1])


@_styled
def winners_chart(labels: Sequence[str], p: NDArray[np.float64], lo: NDArray[np.float64],
                  hi: NDArray[np.float64], colours: Sequence[str],
                  horizon: str = "the end") -> Figure:
    """Probability that each leader comes to rule, with its 95% interval, as horizontal bars."""
    fig = _figure(7.5, 0.4 * len(labels) + 1.1)
    ax = fig.add_subplot()
    y = np.arange(len(labels))[::-1]
    _odds_bars(ax, y, p, lo, hi, {"color": colours, "height": 0.6}, (3, 1), (6, 8))
    ax.set_yticks(y, labels)
    ax.set_xlabel(ODDS_AXIS)
    ax.set_xlim(0, min(100, max(10.0, float(100 * np.max(hi)) * 1.15)))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Who comes to rule by {horizon}?")
    return fig


def _panels(n: int, margin: float) -> tuple[Figure, Any, int]:
    """A grid of ``n`` panels sharing both axes, four to a row; ``margin`` inches for the title
    and key. Returns the figure, the axes (rows, cols) and the number of columns."""
    cols = 4 if n > 4 else n
    rows = -(-n // cols)
    fig = _figure(9.0, 2.0 * rows + margin)
    return fig, fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False), cols


def _power_panel(ax: Any, name: str, top: float, first_in_row: bool) -> None:
    """One leader's panel of a power chart: his name, the shared scale, dates, grid."""
    ax.set_title(name)
    ax.set_ylim(0, max(top, 1.0))
    _date_axis(ax, every=2)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(alpha=0.3, linewidth=0.5)
    if first_in_row:
        ax.set_ylabel("share of power (%)")


@_styled
def power_fan(months: NDArray[np.int64], names: Sequence[str], q10: NDArray[np.float64],
              q50: NDArray[np.float64], q90: NDArray[np.float64],
              colours: Sequence[str]) -> Figure:
    """Each principal's monthly power share: median line and 10-90% band, one panel each."""
    n = len(names)
    fig, axes, cols = _panels(n, 0.6)
    x = [month_date(m) for m in months]
    top = float(np.max(q90)) * 100 * 1.05 if np.size(q90) else 1.0
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        ax.fill_between(x, 100 * q10[:, k], 100 * q90[:, k], color=colours[k], alpha=0.25,
                        linewidth=0, label="10-90% of histories")
        ax.plot(x, 100 * q50[:, k], color=colours[k], linewidth=1.6, label="median")
        _power_panel(ax, names[k], top, first_in_row=k % cols == 0)
    axes.flat[0].legend(loc="upper left", fontsize=7, frameon=False)
    fig.suptitle("Power shares by month: median and 10-90% band across histories")
    return fig


def _month_box(ax: Any, yi: float, row: NDArray[np.float64], edge: str, fill: dict[str, Any],
               height: float, linewidth: float, median: tuple[str, float, float]) -> None:
    """One milestone's months: the 10-90% line, the middle-half box and the median tick (``row``
    the 10th, 25th, 50th, 75th and 90th percentiles in absolute months)."""
    d = [mdates.date2num(month_date(v)) for v in row]
    ax.plot([d[0], d[4]], [yi, yi], color=edge, linewidth=linewidth)
    ax.barh(yi, d[3] - d[1], left=d[1], height=height, edgecolor=edge, **fill)
    colour, size, mew = median
    ax.plot([d[2]], [yi], marker="|", markersize=size, color=colour, mew=mew)


def _history_month(ax: Any, yi: float, month: int) -> None:
    ax.plot([mdates.date2num(month_date(month))], [yi], marker="D", color="#D55E00",
            markersize=6, linestyle="none")


def _month_axis(ax: Any, label: str) -> None:
    ax.xaxis_date()
    _date_axis(ax)
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3, linewidth=0.5)
    ax.spines[["top", "right"]].set_visible(False)


def _milestones_legend(fig: Figure, head: list[Any], median: tuple[str, float, float],
                       ncols: int) -> None:
    """The milestone charts' key: ``head`` (what the boxes mean), the median tick, history."""
    colour, size, mew = median
    key = [*head,
           Line2D([], [], color=colour, marker="|", linestyle="none", markersize=size, mew=mew,
                  label="median"),
           Line2D([], [], color="#D55E00", marker="D", linestyle="none", label="history")]
    fig.legend(handles=key, loc="outside lower center", ncols=ncols, frameon=False, fontsize=8)


@_styled
def milestones_chart(labels: Sequence[str], q: NDArray[np.float64], happened: NDArray[np.float64],
                     historical: Sequence[int | None]) -> Figure:
    """Each milestone's simulated month (10-90% line, 25-75% box, median) beside history.

    ``q`` is (n, 5): the 10th, 25th, 50th, 75th and 90th percentiles in absolute months among
    the histories where the step happened (NaN where it never did); ``happened`` is that share.
    """
    n = len(labels)
    fig = _figure(8.0, 0.45 * n + 1.3)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    for yi, row, hist in zip(y, q, historical, strict=True):
        if np.all(np.isfinite(row)):
            _month_box(ax, yi, row, "#0072B2", {"color": "#56B4E9"}, 0.4, 1.2,
                       ("#0072B2", 12, 2))
        if hist is not None:
            _history_month(ax, yi, hist)
    ax.set_yticks(y, [f"{lab} ({100 * h:.0f}% of histories)" for lab, h
                      in zip(labels, happened, strict=True)])
    _month_axis(ax, "month (among the histories where the step happened)")
    _milestones_legend(fig, [Patch(facecolor="#56B4E9", edgecolor="#0072B2", label="middle half"),
                             Line2D([], [], color="#0072B2", label="10-90%")],
                       ("#0072B2", 10, 2), ncols=4)
    ax.set_title("Milestones: simulated month beside history")
    return fig


@_styled
def orders_chart(labels: Sequence[str], shares: NDArray[np.float64],
                 historical: str | None = None, other: float = 0.0,
                 leadership: str = "leadership") -> Figure:
    """How often each order of elimination occurs; the historical order is drawn in orange.

    ``other`` is the share of histories with orders not drawn; it goes in the axis label rather
    than a bar, which would dwarf the rest.
    """
    n = len(labels)
    fig = _figure(8.0, 0.36 * n + 1.2)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    colours = ["#E69F00" if lab == historical else "#0072B2" for lab in labels]
    pct = 100 * np.asarray(shares)
    ax.barh(y, pct, color=colours, height=0.6)
    for yi, v in zip(y, pct, strict=True):
        ax.annotate(f"{v:.1f}%", (v, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    rest = f"; orders not shown: {100 * other:.1f}% of histories" if other > 0 else ""
    ax.set_xlabel(f"share of simulated histories (%){rest}")
    ax.set_xlim(0, max(5.0, float(np.max(pct, initial=0)) * 1.2))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(f"Order of removal from the {leadership} (first three; orange: history)")
    return fig


def _tallies_frame(ax: Any, x: NDArray[Any], names: Sequence[str],
                   historical: Sequence[float | None], verified: Sequence[bool | None]) -> None:
    """What both tally charts share: history's share at each assembly (a filled diamond, or an
    open one when unverified), one legend entry per label, the axes and their style."""
    for xi, h, ok in zip(x, historical, verified, strict=True):
        if h is None:
            continue
        ax.plot([xi], [100 * h], marker="D", markersize=7, linestyle="none",
                color="#D55E00", markerfacecolor="#D55E00" if ok else "white",
                label="history" if ok else "history (unverified)")
    handles, labs = ax.get_legend_handles_labels()
    unique = dict(zip(labs, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=7, frameon=False)
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("delegates backing the leadership (%)")
    ax.set_ylim(0, 105)
    ax.grid(axis="y", alpha=0.3, linewidth=0.5)
    ax.spines[["top", "right"]].set_visible(False)



@_styled
def tallies_chart(names: Sequence[str], q: NDArray[np.float64],
                  historical: Sequence[float | None],
                  verified: Sequence[bool | None]) -> Figure:
    """Share of each assembly backing the leadership: median and 10-90% range, beside history.

    ``q`` is (n, 3): 10th, 50th and 90th percentiles. A historical figure that the fact base
    could not verify is drawn hollow.
    """
    n = len(names)
    fig = _figure(8.0, 3.6)
    ax = fig.add_subplot()
    x = np.arange(n)
    ax.vlines(x, 100 * q[:, 0], 100 * q[:, 2], color="#0072B2", linewidth=2,
              label="simulated, 10-90%")
    ax.plot(x, 100 * q[:, 1], "o", color="#0072B2", label="simulated median")
    _tallies_frame(ax, x, names, historical, verified)
    ax.set_title("Conferences and congresses: how much of the floor backed the leadership")
    return fig


@_styled
def weights_chart(names: Sequence[str], values: NDArray[np.float64],
                  ci: NDArray[np.float64] | None, target: str) -> Figure:
    """Factor weights (Shapley values of levers) on a target's win probability."""
    n = len(names)
    fig = _figure(7.0, 0.4 * n + 1.2)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1]
    v = 100 * np.asarray(values, dtype=float)
    ax.barh(y, v, color=["#009E73" if a >= 0 else "#D55E00" for a in v], height=0.6)
    if ci is not None:
        c = 100 * np.asarray(ci, dtype=float)
        ax.errorbar(v, y, xerr=[np.maximum(v - c[:, 0], 0), np.maximum(c[:, 1] - v, 0)],
                    fmt="none", ecolor="#333333", capsize=3, linewidth=1)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(f"change in the probability that {target} rules (percentage points)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Factor weights: Shapley values of the levers")
    return fig


WORLDS = ("#999999", "#0072B2")
"""Colours of the two worlds in the paired charts: the baseline grey, the lever's world blue.
Every paired chart also names both worlds in a legend, so the colour is never the only cue."""


def _world_key(worlds: Sequence[str], what: str = "") -> list[Patch]:
    return [Patch(facecolor=c, label=f"{w}{what}") for c, w in zip(WORLDS, worlds, strict=True)]


@_styled
def winners_pair_chart(labels: Sequence[str], p: NDArray[np.float64], lo: NDArray[np.float64],
                       hi: NDArray[np.float64], worlds: Sequence[str],
                       horizon: str = "the end") -> Figure:
    """Each leader's odds in two worlds, as pairs of bars with 95% intervals.

    ``p``, ``lo`` and ``hi`` are (2, n): row 0 the baseline, row 1 the lever's world.
    """
    n = len(labels)
    fig = _figure(7.5, 0.62 * n + 1.5)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    for w, off in enumerate((0.19, -0.19)):
        _odds_bars(ax, y + off, p[w], lo[w], hi[w],
                   {"color": WORLDS[w], "height": 0.36, "label": worlds[w]}, (2, 0.8), (5, 7))
    ax.set_yticks(y, labels)
    ax.set_xlabel(ODDS_AXIS)
    ax.set_xlim(0, min(100, max(10.0, float(100 * np.max(hi)) * 1.18)))
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(handles=_world_key(worlds), loc="outside lower center", ncols=2, frameon=False,
               fontsize=8)
    ax.set_title(f"Who comes to rule by {horizon}? The two worlds, paired")
    return fig


@_styled
def power_fan_pair(months: NDArray[np.int64], names: Sequence[str], q: NDArray[np.float64],
                   worlds: Sequence[str]) -> Figure:
    """Each principal's monthly power share in two worlds, overlaid in one panel each.

    ``q`` is (2, 3, T, P): per world the 10th, 50th and 90th percentiles. The baseline is drawn
    dashed and grey, the lever's world solid and blue.
    """
    n = len(names)
    fig, axes, cols = _panels(n, 0.9)
    x = [month_date(m) for m in months]
    top = float(np.max(q[:, 2])) * 100 * 1.05 if np.size(q) else 1.0
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        for w, style in enumerate(("--", "-")):
            ax.fill_between(x, 100 * q[w, 0, :, k], 100 * q[w, 2, :, k], color=WORLDS[w],
                            alpha=0.22, linewidth=0)
            ax.plot(x, 100 * q[w, 1, :, k], color=WORLDS[w], linewidth=1.5, linestyle=style)
        _power_panel(ax, names[k], top, first_in_row=k % cols == 0)
    key: list[Artist] = [Line2D([], [], color=WORLDS[0], linestyle="--",
                                label=f"{worlds[0]}: median"),
                         Line2D([], [], color=WORLDS[1], linestyle="-",
                                label=f"{worlds[1]}: median")]
    key += _world_key(worlds, ": 10-90% of histories")
    fig.legend(handles=key, loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    fig.suptitle("Power shares by month in the two worlds: median and 10-90% band")
    return fig


@_styled
def milestones_pair_chart(labels: Sequence[str], q: NDArray[np.float64],
                          happened: NDArray[np.float64], historical: Sequence[int | None],
                          worlds: Sequence[str]) -> Figure:
    """Each milestone's simulated month in two worlds (upper: baseline; lower: the lever's).

    ``q`` is (2, n, 5) percentiles in absolute months as in ``milestones_chart``; ``happened``
    is (2, n). The historical month is one diamond between the two.
    """
    n = len(labels)
    fig = _figure(8.5, 0.62 * n + 1.5)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    for w, off in enumerate((0.18, -0.18)):
        for yi, row in zip(y + off, q[w], strict=True):
            if not np.all(np.isfinite(row)):
                continue
            _month_box(ax, yi, row, WORLDS[w], {"color": WORLDS[w], "alpha": 0.55}, 0.3, 1.1,
                       ("#333333", 9, 1.8))
    for yi, hist in zip(y, historical, strict=True):
        if hist is not None:
            _history_month(ax, yi, hist)
    ax.set_yticks(y, [f"{lab}\n({100 * a:.0f}% / {100 * b:.0f}% of histories)" for lab, a, b
                      in zip(labels, happened[0], happened[1], strict=True)], fontsize=8)
    _month_axis(ax, "month (among the histories where the step happened); "
                    "shares: baseline / lever")
    _milestones_legend(fig, [*_world_key(worlds, ": middle half, line 10-90%")],
                       ("#333333", 9, 1.8), ncols=2)
    ax.set_title("Milestones in the two worlds beside history")
    return fig


@_styled
def orders_pair_chart(labels: Sequence[str], shares: NDArray[np.float64],
                      worlds: Sequence[str], historical: str | None = None,
                      leadership: str = "leadership") -> Figure:
    """How often each order of elimination occurs in two worlds (``shares`` is (2, n)); the
    historical order is marked in its label."""
    n = len(labels)
    fig = _figure(8.0, 0.5 * n + 1.4)
    ax = fig.add_subplot()
    y = np.arange(n)[::-1].astype(float)
    for w, off in enumerate((0.18, -0.18)):
        pct = 100 * np.asarray(shares[w])
        ax.barh(y + off, pct, color=WORLDS[w], height=0.34)
        for yi, v in zip(y + off, pct, strict=True):
            ax.annotate(f"{v:.1f}%", (v, yi), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=7)
    ax.set_yticks(y, [f"{lab} (history)" if lab == historical else lab for lab in labels],
                  fontsize=8)
    ax.set_xlabel("share of simulated histories (%)")
    ax.set_xlim(0, max(5.0, float(np.max(100 * shares, initial=0)) * 1.2))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(handles=_world_key(worlds), loc="lower right", frameon=False, fontsize=8)
    ax.set_title(f"Order of removal from the {leadership} in the two worlds (first three)")
    return fig


@_styled
def tallies_pair_chart(names: Sequence[str], q: NDArray[np.float64],
                       historical: Sequence[float | None], verified: Sequence[bool | None],
                       worlds: Sequence[str]) -> Figure:
    """Each assembly's backing for the leadership in two worlds (``q`` is (2, n, 3)), beside
    history (hollow where unverified)."""
    n = len(names)
    fig = _figure(8.0, 3.8)
    ax = fig.add_subplot()
    x = np.arange(n).astype(float)
    for w, off in enumerate((-0.14, 0.14)):
        ax.vlines(x + off, 100 * q[w, :, 0], 100 * q[w, :, 2], color=WORLDS[w], linewidth=2)
        ax.plot(x + off, 100 * q[w, :, 1], "o", color=WORLDS[w],
                label=f"{worlds[w]}: median, 10-90%")
    _tallies_frame(ax, x, names, historical, verified)
    ax.set_title("Conferences and congresses in the two worlds")
    return fig


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element for inline HTML.

    ``salt`` makes the ids Matplotlib gives clip paths unique per figure (several SVGs share one
    HTML document) and keeps them deterministic; the creation date is left out for the same
    reason, so the same data gives the same bytes.
    """
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, **FONT}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    # Matplotlib names groups figure_1, axes_1, ... in every SVG; inline, those ids would clash
    # between charts (invalid HTML, and a clip path could resolve to another chart's).
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{salt}-{m.group(1)}"', text)
    return re.sub(r'(url\(#|href="#)([^)"]+)', lambda m: f"{m.group(1)}{salt}-{m.group(2)}",
                  text)


def to_bytes(fig: Figure, fmt: str, dpi: int = 200) -> bytes:
    """The figure as PNG or SVG bytes, for ``politburo plot``: the same data gives the same
    bytes (no creation date, and a fixed salt for the ids of an SVG's clip paths)."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"expected png or svg, got {fmt!r}")
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context({"svg.hashsalt": "politburo", **FONT}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()
