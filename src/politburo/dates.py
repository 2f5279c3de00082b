"""Month arithmetic for the monthly calendar.

Months are plain integers counted from an epoch month (the scenario's start). The helpers here
turn ``"YYYY-MM"`` strings into absolute month numbers and back, so that every module agrees on
one convention: absolute month = ``year * 12 + (month - 1)``.
"""

from __future__ import annotations

import re

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_month(text: str) -> int:
    """Return the absolute month number of ``"YYYY-MM"`` or ``"YYYY-MM-DD"`` (day ignored).

    Raises ``ValueError`` with the offending text when it is not a month.
    """
    m = _MONTH_RE.match(text.strip())
    if not m:
        raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 01-12, got {text!r}")
    return year * 12 + (month - 1)


def format_month(absolute: int) -> str:
    """Return ``"YYYY-MM"`` for an absolute month number."""
    year, month0 = divmod(int(absolute), 12)
    return f"{year:04d}-{month0 + 1:02d}"


MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def month_name(absolute: int) -> str:
    """Return ``"January 1924"`` for an absolute month number."""
    year, month0 = divmod(int(absolute), 12)
    return f"{MONTH_NAMES[month0]} {year}"
