"""How a scenario's people and bodies are named in the texts every front end prints.

Why a module of its own: the chronicle, the report, the CLI and the web app all name the same
people and bodies, and each used to spell them its own way (and, in places, the way of the one
scenario they were written for). Here they are read from the file once: ``short`` names, the
bodies' names, their abbreviations where the file lists them, the words for each step of the
removal ladder, and the pronoun each person is spoken of by. Pure functions of the validated
scenario; nothing here prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from politburo.scenario.schema import Bodies, Scenario


def called(scenario: Scenario) -> dict[str, str]:
    """Each person's name in running text, by id: principals, clients and the founder."""
    people = [*scenario.principals, *scenario.clients,
              *([scenario.founder] if scenario.founder is not None else [])]
    return {p.id: p.called for p in people}


def pronouns(scenario: Scenario) -> dict[str, str]:
    """Each person's pronoun, by id ('he' or 'she', from the file's ``pronoun:``)."""
    people = [*scenario.principals, *scenario.clients,
              *([scenario.founder] if scenario.founder is not None else [])]
    return {p.id: p.pronoun for p in people}


def pronoun_of(known: Mapping[str, str], actors: str | Iterable[str]) -> str:
    """The pronoun for one person or several spoken of together, each in turn ('each at the
    lowest point he reached'): 'he' or 'she' where all share it, 'he or she' where they do
    not. An id the scenario does not know is 'he', as the texts have always said."""
    ids = [actors] if isinstance(actors, str) else list(actors)
    said = {known.get(a, "he") for a in ids} or {"he"}
    return said.pop() if len(said) == 1 else "he or she"


_FORMS = {"he": "she", "his": "her", "him": "her", "himself": "herself"}
_PRONOUN_RE = re.compile(r"\b(he|his|him|himself)\b", re.IGNORECASE)


def gendered(text: str, pronoun: str) -> str:
    """``text``, written of a man (he, his, him, himself), as said of a person spoken of as
    ``pronoun`` ('he', 'she' or 'he or she'). The engine's ``because`` strings and the stock
    phrases of the texts are written with 'he'; the person they are about is the caller's to
    name. 'his' is taken as a determiner ('his standing' -> 'her standing'), as every such
    text uses it."""
    if pronoun == "he":
        return text

    def swap(m: re.Match[str]) -> str:
        word = m.group(1)
        low = word.lower()
        new = _FORMS[low] if pronoun == "she" else f"{low} or {_FORMS[low]}"
        return new[:1].upper() + new[1:] if word[:1].isupper() else new

    return _PRONOUN_RE.sub(swap, text)


def abbreviated(name: str, abbreviations: Iterable[str]) -> str:
    """A body's name as running text repeats it: its initials where the scenario lists them
    among its abbreviations ('Central Committee' with CC listed), else the name itself."""
    initials = "".join(w[0] for w in name.split() if w[:1].isupper())
    return initials if len(initials) > 1 and initials in tuple(abbreviations) else name


def committee(scenario: Scenario) -> str:
    """The committee in running text: 'CC' where the file lists that abbreviation."""
    return abbreviated(scenario.bodies.committee, scenario.abbreviations)


def step_words(bodies: Bodies) -> tuple[dict[str, str], dict[str, str]]:
    """The past participle and the infinitive of each step of the removal ladder, in the
    scenario's names of its bodies."""
    past = {"censure": "censured", "office": "stripped of his offices",
            "politburo": f"removed from the {bodies.leadership}",
            "central_committee": f"expelled from the {bodies.committee}",
            "party": "expelled from the party"}
    inf = {"censure": "censure", "office": "strip of his offices",
           "politburo": f"remove from the {bodies.leadership}",
           "central_committee": f"expel from the {bodies.committee}",
           "party": "expel from the party"}
    return past, inf


def motions(scenario: Scenario) -> tuple[dict[str, str], dict[str, str]]:
    """:func:`step_words` with a motion to remove a leader from each office ('removed as
    General Secretary'), by office id."""
    import re

    past, inf = step_words(scenario.bodies)
    for o in scenario.offices:
        name = re.sub(r"\s*\(.*?\)", "", o.name)
        past.setdefault(o.id, f"removed as {name}")
        inf.setdefault(o.id, f"remove as {name}")
    return past, inf
