"""Set a student's ranking of factors beside the model's weights, and say where they differ.

The student names the factors their essay gives (each factor is a lever: a world where it was
otherwise) and ranks each main, contributing or minor. The model weighs the same factors by
their Shapley values on one leader's odds (``Experiment.explain``). Pure: ranks and weights in,
rows of plain values out; the essay's text is never asked for, let alone stored.

The model's tiers are relative, as an essay's are: a factor is *main* when its weight is at
least half the largest weight among those named, *contributing* when at least a sixth, and
*minor* below that or when its 95% interval includes zero (the model cannot tell it from no
effect with these histories).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TIERS = ("main", "contributing", "minor")
MAIN_SHARE, CONTRIBUTING_SHARE = 0.5, 1 / 6


def model_tier(weight: float, ci: tuple[float, float] | list[float], largest: float) -> str:
    if ci[0] <= 0.0 <= ci[1] or largest <= 0:
        return "minor"
    share = abs(weight) / largest
    if share >= MAIN_SHARE:
        return "main"
    return "contributing" if share >= CONTRIBUTING_SHARE else "minor"


def compare(ranks: Mapping[str, str], explain: Mapping[str, Any],
            titles: Mapping[str, str], target_name: str | None = None
            ) -> list[dict[str, Any]]:
    """One row per ranked factor: the student's tier, the model's, and a verdict in words."""
    shap = explain["shapley"]
    largest = max((abs(v["value"]) for v in shap.values()), default=0.0)
    rows = []
    target = target_name or explain.get("target", "the leader")
    for name, tier in ranks.items():
        if name not in shap:
            continue
        w, ci = float(shap[name]["value"]), shap[name]["ci"]
        mt = model_tier(w, ci, largest)
        gap = abs(TIERS.index(tier) - TIERS.index(mt))
        verdict = ("agree" if gap == 0 else "close" if gap == 1 else "disagree")
        if ci[0] <= 0.0 <= ci[1]:
            why = "the model cannot tell this factor's effect from none"
        else:
            why = (f"in a world where \u201c{titles.get(name, name)}\u201d, {target}'s chance "
                   f"{'rises' if w > 0 else 'falls'} by {abs(w):.1%} (its Shapley weight)")
        rows.append({"lever": name, "title": titles.get(name, name), "student": tier,
                     "model": mt, "verdict": verdict, "weight": w, "ci": list(ci), "why": why})
    order = {"disagree": 0, "close": 1, "agree": 2}
    return sorted(rows, key=lambda r: (order[r["verdict"]], -abs(r["weight"])))
