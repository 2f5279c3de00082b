"""Append the bibliography of the sources a scenario cites, from ../shared/history: facts.md
(tags S…), bases.md (B…) and calendar.md (C…).

Run from the repository root: python tools/make_bibliography.py src/politburo/scenarios/soviet-1922.yaml
The package then carries each cited source's title and address, so a user can follow every
number without this repository's shared folder. Titles and addresses are copied; no prose is.
"""

import re
import sys
from pathlib import Path

import yaml

EXTRA = {
    "AES2008": (
        "D. Acemoglu, G. Egorov and K. Sonin, 'Coalition Formation in Non-Democracies', "
        "Review of Economic Studies 75(4), 2008",
        "https://doi.org/10.1111/j.1467-937X.2008.00503.x",
    ),
    "AXELROD1970": ("R. Axelrod, Conflict of Interest: A Theory of Divergent Goals with "
                    "Applications to Politics, Chicago: Markham, 1970",
                    "https://archive.org/details/conflictofintere0000axel"),
    "SVOLIK2012": ("M. W. Svolik, The Politics of Authoritarian Rule, Cambridge University "
                   "Press, 2012", "https://doi.org/10.1017/CBO9781139176040"),
    "S94": ("Historical Dictionary of the Russian Civil Wars, Stalin entry",
            "https://user.bibliboba.online/books/historical-dictionary-of-the-russian-civil-wars-1916-1926/p/781"),
    "S97": ("Leon Trotsky (document), Deutscher on antisemitic hinting",
            "https://pt.scribd.com/document/110051889/Leon-Trotsky"),
}


def main(path: str) -> None:
    entries = {}
    for name, letter in (("facts.md", "S"), ("bases.md", "B"), ("calendar.md", "C")):
        facts = Path("../shared/history", name).read_text("utf-8")
        for m in re.finditer(rf"^- ({letter}\d+[a-z]?\d?) (.+?): (https?://[^\s;]+)", facts, re.M):
            entries[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    entries.update(EXTRA)
    text = Path(path).read_text("utf-8").split("\nbibliography:")[0].rstrip() + "\n"
    cited = set(re.findall(r"\b([SBC]\d+[a-z]?\d?|AES2008|AXELROD1970|SVOLIK2012)\b", text))
    missing = sorted(cited - entries.keys())
    if missing:
        sys.exit(f"cited but not in the fact base: {missing}")

    def key(t: str) -> tuple[str, int, str]:
        digits = re.sub(r"\D", "", t)
        return (t[0] if t[0] in "SBC" else "", int(digits) if digits else 0, t)

    rows = [{"id": t, "title": entries[t][0], "url": entries[t][1]} for t in sorted(cited, key=key)]
    text += "\nbibliography:\n" + yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=200)
    Path(path).write_text(text, "utf-8")
    print(f"{len(rows)} sources")


if __name__ == "__main__":
    main(sys.argv[1])
