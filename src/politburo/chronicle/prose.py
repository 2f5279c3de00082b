"""Sentences for the chronicle: each event of a history as a clause of narrative prose.

Why a module of its own: the wording is the part that changes most (students and teachers read
it), and keeping it apart keeps ``chronicle.py`` about structure. The engine's ``because``
strings are written by the mechanisms; here they are only tidied (actor ids become names) and
fitted into sentences, so the cause a reader sees is the mechanism's own. Where a ``because`` has
a form this module does not know, it is still shown, after "because", rather than dropped.

Nothing here copies the scenario's notes or descriptions: the opening is generated from the
scenario's structured data (offices, attributes, positions, clients, constants, events).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from politburo.scenario.labels import called, committee, gendered, motions, pronoun_of, pronouns
from politburo.scenario.schema import Bodies, Scenario

MECHANISM = {  # which mechanism of the model brief speaks through each kind of event
    "coalition": "coalitions without commitment (Acemoglu, Egorov and Sonin 2008)",
    "bloc": "coalitions: the excluded organise",
    "vote": "votes and the removal ladder",
    "recant": "votes and the removal ladder: recanting",
    "spared": "votes and the removal ladder: the ruler spares a rival whose fall would free his "
              "partners to rule without him (Acemoglu, Egorov and Sonin 2008)",
    "assembly": "the circular flow of power (Daniels)",
    "disband": "coalitions: an assembly condemns the organised platforms, and under the ban on "
               "factions they dissolve",
    "co_option": "the circular flow of power (Daniels): co-option to the {committee}",
    "promotion": "clients: seats in the leadership by the patrons' {committee} followings",
    "office": "coalitions: offices of the fallen go to the ruling coalition",
    "exile": "administrative repression after expulsion",
    "deportation": "administrative repression after expulsion",
    "readmitted": "votes and the removal ladder: readmission after recanting",
    "funeral": "standing and legitimacy: the founder's funeral",
    "funeral_absent": "standing and legitimacy: the founder's funeral",
    "polemic": "standing and legitimacy: polemics",
    "speech": "standing and legitimacy: a speech, as far as it reached",
    "consolidation": "who rules: one leader's own majorities in the leadership and the "
                     "{committee}",
    "crisis": "policy: a crisis answered by the ruling coalition",
    "client_switch": "clients: loyalty follows the patron's fortunes",
    "death": "clients: a named client's death, a dated event of the scenario; his seat and "
             "posts fall vacant",
    "client_office": "clients: the ruling coalition's strongest member fills a post with his "
                     "man (the nomenklatura; Svolik 2012)",
    "arrest": "arrest: the security forces in the ruling coalition's hands (Svolik 2012)",
    "return": "return: co-optation of an outsider (Gandhi and Przeworski 2006)",
    "appeal": "appeal: the {committee} overturns its leadership body (Taubman 2006)",
    "inner_in": "the inner body of the leadership: elected by the {committee}'s plenum, the "
                "ruling coalition first (the party's statutes; AES 2008)",
    "inner_out": "the inner body of the leadership: re-elected by the {committee}'s plenum, or "
                 "left with the seat in the leadership",
}



NUMBERS = ("No", "A", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")
_TITLES = ("Chairman", "Deputy Chairman", "Commissar", "Editor", "General Secretary",
           "Secretary", "Premier", "Prime Minister", "Minister", "Vice-premier", "Director",
           "President", "Commander")
"""Office names that are a person's title ("the post of Premier ..."); any other office is a body
its holder controls ("the Leningrad party organisation")."""
_COALITION_RE = re.compile(r"^perceived powers (?P<p>.*?); the smallest self-enforcing coalition "
                           r"with more than (?P<a>[\d.]+) of it rules$")


@dataclass(frozen=True)
class Words:
    """How ids, offices and bodies are spoken of in one scenario."""

    names: dict[str, str]  # id -> name in running text (principals, clients, founder)
    full: dict[str, str]  # id -> full name
    pattern: re.Pattern[str]
    order: dict[str, int]  # the scenario's order of people, for listing them
    founder: str = ""  # the founder's name in running text, "" when there is none
    founder_id: str = ""  # the founder's id, "" when there is none
    bodies: Bodies = Bodies()
    offices: dict[str, str] = field(default_factory=dict)  # office id -> name
    past: dict[str, str] = field(default_factory=dict)  # ladder step -> "removed from the ..."
    inf: dict[str, str] = field(default_factory=dict)  # ladder step -> "remove from the ..."
    abbreviations: tuple[str, ...] = ()
    committee: str = "committee"  # the committee in running text: its abbreviation if it has one
    pronouns: dict[str, str] = field(default_factory=dict)  # id -> "he" or "she"

    @classmethod
    def of(cls, scenario: Scenario) -> Words:
        persons = [*scenario.principals, *scenario.clients,
                   *([scenario.founder] if scenario.founder is not None else [])]
        people = [(x.id, x.name) for x in persons]
        names = called(scenario)
        ids = sorted(names, key=len, reverse=True)
        past, inf = motions(scenario)  # the ladder's steps, and removal from each office
        offices = {o.id: re.sub(r"\s*\(.*?\)", "", o.name) for o in scenario.offices}
        return cls(names=names, full=dict(people),
                   pattern=re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b"),
                   order={i: k for k, (i, _) in enumerate(people)},
                   founder=names.get(scenario.founder.id, "") if scenario.founder else "",
                   founder_id=scenario.founder.id if scenario.founder else "",
                   bodies=scenario.bodies, offices=offices, past=past, inf=inf,
                   abbreviations=scenario.abbreviations,
                   committee=committee(scenario), pronouns=pronouns(scenario))

    def name(self, actor: str) -> str:
        return self.names.get(actor, actor.replace("_", " ").title())

    def names_of(self, actors: Iterable[str]) -> str:
        """Names joined in the scenario's order (Stalin before Trotsky), not the engine's."""
        ordered = sorted(actors, key=lambda a: self.order.get(a, len(self.order)))
        return join([self.name(a) for a in ordered])

    def sub(self, text: str) -> str:
        """Free text from the engine with actor ids replaced by names."""
        return self.pattern.sub(lambda m: self.names[m.group(1)], text)

    def said(self, text: str, actors: str | Iterable[str]) -> str:
        """``text``, written with 'he', as said of ``actors`` (see ``_labels.gendered``)."""
        return gendered(text, pronoun_of(self.pronouns, actors))

    def own(self, text: str) -> str:
        """Engine text that names a person (by id or full name) and then speaks of him within
        the clause ('kamenev leaving the coalition to stand with his partner'), with each
        pronoun after a name fitted to that person."""
        for actor, pronoun in self.pronouns.items():
            if pronoun == "he":
                continue

            def fit(m: re.Match[str], pronoun: str = pronoun) -> str:
                return m.group(1) + gendered(m.group(2), pronoun)

            for name in {actor, self.full.get(actor, "")} - {""}:
                text = re.sub(rf"(\b{re.escape(name)}\b[^,;:()]*?)\b(he|his|him|himself)\b",
                              fit, text)
        return text


def join(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def office_phrase(name: str) -> str:
    """'the post of Commissar of War' for a title, 'the Leningrad party organisation' else."""
    name = re.sub(r"\s*\(.*?\)", "", name)
    return f"the post of {name}" if name.startswith(_TITLES) else f"the {name}"


def body_phrase(body: str) -> str:
    if not body:
        return "the party"
    first, _, rest = body.partition(" ")
    if first in ("Joint", "Central"):
        first = first.lower() if first == "Joint" else first
    return f"the {first} {rest}".strip()


def electorate(body: str, committee: str) -> str:
    """Who votes at ``body``: the delegates of a congress or conference, else the committee."""
    b = body.lower()
    return "delegates" if ("congress" in b or "conference" in b) else committee


def among(body: str, committee: str) -> str:
    voters = electorate(body, committee)
    return "among the delegates" if voters == "delegates" else f"in the {voters}"


def _among(ev: dict[str, Any], words: Words) -> str:
    """Where the loyalties behind a vote lay: the leadership body's members at its own meeting
    (a vote that records its ``electorate``), else the committee or the delegates."""
    electorate = str(ev.get("electorate") or "")
    if electorate:  # "the Standing Committee's votes": the body that met
        body = electorate[:-len("'s votes")] if electorate.endswith("'s votes") else ""
        return f"in the {body or words.bodies.leadership}"
    return among(str(ev.get("body") or ""), words.committee)


def about(ev: dict[str, Any]) -> list[str]:
    """Whom the event's ``because`` speaks of as 'he': the client who changes patron, else the
    event's one actor (the leader voted on, arrested, recanting, ruling alone; a polemic's
    author). None where several act: those texts name whom they speak of (``Words.own``)."""
    if ev.get("kind") in ("client_switch", "death"):
        return [str(ev["client"])] if ev.get("client") else []
    actors = [str(a) for a in ev.get("actors") or []]
    return actors if len(actors) == 1 else []


def because(ev: dict[str, Any], words: Words) -> str:
    """The event's own ``because``, tidied: names for ids, each person's pronoun, no closing
    full stop."""
    # Pronouns are fitted before ids become names, so that no name is read as a pronoun.
    text = str(ev.get("because") or "")
    who = about(ev)
    text = words.sub(words.said(text, who) if who else words.own(text)).strip().rstrip(".")
    where = _among(ev, words)
    return text.replace("the body's loyalties", f"the loyalties {where}")


def causes(ev: dict[str, Any], words: Words) -> tuple[str, ...]:
    """Mechanism and state behind an event, for the JSON form; never empty."""
    kind = str(ev["kind"])
    mechanism = MECHANISM.get(kind, "").format(committee=words.committee)
    out = [f"mechanism: {mechanism or ev.get('mechanism') or kind.replace('_', ' ')}"]
    if ev.get("scenario_event"):
        out = [f"scenario event: {ev['scenario_event']} ({ev.get('source') or 'no source'})"]
    why = because(ev, words)
    if why:
        out.append(why)
    return tuple(out)


def _subject(text: str, name: str, pronoun: str = "he") -> str | None:
    """Put ``name`` in the place of the clause's subject pronoun; None if there is none."""
    if text.startswith(pronoun + " "):
        return name + text[len(pronoun):]
    for old in (f", {pronoun} ", f" {pronoun} "):
        i = text.find(old)
        if i >= 0:
            return text[:i] + old.replace(pronoun, name) + text[i + len(old):]
    return None


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def title_of(event_id: str, abbreviations: Iterable[str] = ()) -> str:
    """'Lessons of October' for ``lessons_of_october``; the scenario's abbreviations in
    capitals."""
    caps = {a.lower(): a for a in abbreviations}
    return " ".join(caps.get(w) or (w.capitalize() if w not in ("of", "in", "one")
                                    else w) for w in event_id.split("_"))


_VOTE_RE = re.compile(r"^the ruling coalition \((?P<coal>[\w, ]*)\) moved against him; "
                      r"the body's loyalties: (?P<loy>.*?); his standing (?P<st>\d+(?:\.\d+)?)"
                      r"\.?\s*(?P<extra>.*)$")


def _vote_cause(ev: dict[str, Any], words: Words, seen: set[str]) -> str:
    """The vote's cause; the loyalties of a body already described this month are not repeated."""
    m = _VOTE_RE.match(str(ev.get("because") or ""))
    if not m:
        return because(ev, words)
    target = about(ev)
    him, his = words.said("him", target), words.said("his", target)
    extra = words.sub(words.said(m.group("extra"), target)).strip().rstrip(".")
    extra = f", and {extra[0].lower()}{extra[1:]}" if extra.startswith(("He ", "She ")) else (
        f"; {extra}" if extra else "")
    key = m.group("coal") + m.group("loy") + str(ev.get("body"))
    if key in seen:
        return f"the same coalition moved against {him} ({his} standing {m.group('st')}){extra}"
    seen.add(key)
    coal = words.names_of(c.strip() for c in m.group("coal").split(",") if c.strip())
    loyal = words.sub(m.group("loy")).replace("; ", ", ")
    return (f"the ruling coalition ({coal}) moved against {him}, and the loyalties "
            f"{_among(ev, words)} were {loyal}; {his} standing was "
            f"{m.group('st')}{extra}")


def _vote(ev: dict[str, Any], words: Words, seen: set[str] | None = None) -> str:
    who = words.names_of(ev["actors"])
    motion = str(ev.get("motion") or "")
    body = body_phrase(str(ev.get("body") or ""))
    yes = float(ev.get("yes") or 0.0)
    if ev.get("votes") is not None and ev.get("of"):
        tally = f"{int(ev['votes']):,} of {int(ev['of']):,} delegates"
    else:
        voters = ev.get("electorate") or electorate(str(ev.get("body") or ""), words.committee)
        tally = f"{yes:.0%} of the {voters}"
    why = _vote_cause(ev, words, set() if seen is None else seen)
    if ev.get("passed"):
        done = words.said(words.past.get(motion, motion), ev["actors"])
        return f"{who} was {done} at {body}, carried by {tally}, because {why}."
    verb = words.said(words.inf.get(motion, motion), ev["actors"])
    head, _, tail = verb.partition(" ")
    need = ev.get("needed")
    short = ""
    if need is not None:
        share = "two thirds" if abs(float(need) - 2 / 3) < 0.01 else f"{float(need):.0%}"
        short = f" where {share} were needed"
    return (f"A motion at {body} to {head} {who} {tail} failed, with only {tally} for it"
            f"{short}, although {why}.").replace("  ", " ")


def _coalition(ev: dict[str, Any], words: Words, prev: tuple[str, ...]) -> str:
    new = tuple(ev["actors"])
    m = _COALITION_RE.match(str(ev.get("because") or ""))
    if m:
        why = (f", as the leaders saw their strengths ({words.sub(m.group('p'))}), this was the "
               f"smallest self-enforcing coalition holding more than {m.group('a')} of that power")
    else:
        why = " " + because(ev, words)
    if not prev:
        return f"{words.names_of(new)} formed the ruling coalition, because{why}."
    came = [a for a in new if a not in prev]
    gone = [a for a in prev if a not in new
            and not (ev.get("founder_out") and words.name(a) == words.founder)]
    parts = []
    if came:
        parts.append(f"{words.names_of(came)} {'was' if len(came) == 1 else 'were'} brought in")
    if gone:
        parts.append(f"the alliance with {words.names_of(gone)} was broken")
    change = f": {' and '.join(parts)}" if parts else ""
    if len(new) == 1:
        return (f"The ruling coalition narrowed to {words.names_of(new)} alone{change}, "
                f"because{why}.")
    return f"The ruling coalition re-formed as {words.names_of(new)}{change}, because{why}."


def _offices(group: list[dict[str, Any]], words: Words) -> str:
    loser = words.name(str(group[0].get("from") or "someone"))
    why = because(group[0], words)
    why = "it fell vacant" + why[len("the post fell vacant"):] if why.startswith(
        "the post fell vacant") else why
    if len(group) == 1:
        ev = group[0]
        return (f"{_cap(office_phrase(str(ev.get('office'))))} passed from {loser} to "
                f"{words.names_of(ev['actors'])}, because {why}.")
    to: dict[str, list[str]] = {}
    for e in group:
        to.setdefault(words.names_of(e["actors"]), []).append(office_phrase(str(e.get("office"))))
    shares = [f"{join(posts)} went to {who}" for who, posts in to.items()]
    why = why.replace("it fell vacant and went", "each fell vacant and went")
    return f"{loser}'s posts were shared out: {join(shares)}, because {why}."


def _promotions(group: list[dict[str, Any]], words: Words) -> str:
    n, patron = len(group), words.names_of(group[0]["actors"])
    why = because(group[0], words)
    if why.startswith(f"a vacant {words.bodies.leadership} seat went to a client of the "
                      "coalition member with the largest following"):
        why = (f"{patron} had the largest following in the {words.committee} of anyone in the "
               "ruling coalition")
    seats = "A vacant seat" if n == 1 else f"{NUMBERS[min(n, 9)]} vacant seats"
    named = [words.name(str(e["client"])) for e in group if e.get("client")]
    whom = (join(named) + f", {'a client' if n == 1 else 'clients'} of {patron}'s" if named
            else f"{'a client' if n == 1 else 'clients'} of {patron}'s")
    return f"{seats} in the {words.bodies.leadership} went to {whom}, because {why}."


def _crisis(ev: dict[str, Any], words: Words) -> str:
    # Common words go in lower case after "the"; the scenario's abbreviations and proper
    # names (NEP, Tiananmen) keep the case the file gives them.
    title = " ".join(w if w.isupper() or w in words.abbreviations else w.lower()
                     for w in title_of(str(ev.get("crisis") or "crisis"),
                                       words.abbreviations).split())
    answer = str(ev.get("answer") or ev.get("response") or "answer").replace("_", " ")
    backers = words.names_of(ev.get("actors") or [])
    against = words.names_of(ev.get("targets") or [])
    share = float(ev.get("support") or 0.0)
    split = (f"{backers} carried it ({share:.0%} of the coalition's weight)" if backers
             else "none of its members had preferred it, but the day's deliberations went so")
    if against:
        split += f"; {against} would have chosen otherwise"
    # A new sentence for who carried it: an answer's own description may hold a colon
    # ("take the grain by force: prosecution of holders, ..."), and two in a row read badly.
    himself = words.said("himself", [*(ev.get("actors") or []), *(ev.get("targets") or [])])
    return (f"Facing the {title}, the ruling coalition chose to {answer}. {_cap(split)}, "
            f"because each member weighed how near an answer would leave the line to {himself} "
            f"against how far it would leave it from those outside the coalition.")


def count_word(n: int) -> str:
    """'nine' for 9; a number beyond nine in figures ('12')."""
    return NUMBERS[n].lower() if 1 < n < len(NUMBERS) else ("one" if n == 1 else f"{n:,}")


def followed(shares: Sequence[Sequence[Any]], rest: float, words: Words, most: int = 3) -> str:
    """'about 31% followed Hua, 22% Deng and 9% Ye, and 38% no leader': the largest shares of
    a group (``shares``: [id, share] pairs, largest first), the rest counted together."""
    named = [(str(a), float(x)) for a, x in shares[:most] if f"{float(x):.0%}" != "0%"]
    if not named:
        return f"{rest:.0%} followed no leader"
    parts = [f"{x:.0%} {words.name(a)}" for a, x in named]
    parts[0] = "about " + parts[0].replace(" ", " followed ", 1)
    others = len(shares) > len(named)
    left = 1.0 - sum(x for _, x in named)
    return f"{join(parts)}, and {left:.0%} {'another leader or none' if others else 'no leader'}"


def _co_option(ev: dict[str, Any], words: Words) -> str:
    n = int(ev.get("added") or 0)
    members = "member" if n == 1 else "members"
    size = f", which now had {int(ev['size']):,} full members" if ev.get("size") else ""
    share = followed(ev.get("follow") or [], float(ev.get("unaligned") or 0.0), words)
    why = because(ev, words)
    return (f"{_cap(body_phrase(str(ev.get('body'))))} co-opted {count_word(n)} {members} to "
            f"the {words.committee}{size}; of the newcomers {share}, because {why}.")


def _placed(ev: dict[str, Any], words: Words) -> str:
    """A post the ruling coalition took, placed with a client of its strongest member."""
    patron = [str(a) for a in ev.get("actors") or []]
    who = words.names_of(patron)
    client = words.name(str(ev.get("client") or "a client"))
    office = office_phrase(str(ev.get("office") or "office"))
    taker = str(ev.get("from") or "")
    had = (words.said("which he had just taken", patron) if [taker] == patron
           else f"which had just gone to {words.name(taker)}" if taker else "")
    why = because(ev, words)
    return (f"{who} placed {words.said('his', patron)} client {client} in {office}"
            f"{', ' + had if had else ''}, because {why}.")


def _inner(ev: dict[str, Any], words: Words) -> str:
    """Entries to and exits from the inner body of the leadership."""
    actors = [str(a) for a in ev.get("actors") or []]
    who = words.names_of(actors)
    inner = str(ev.get("inner") or words.bodies.leadership)
    at = f" at {body_phrase(str(ev['body']))}" if ev.get("body") else ""
    one = len(actors) == 1
    if ev["kind"] == "inner_in":
        return (f"{who} {'was' if one else 'were'} elected to the {inner}{at}, because "
                f"{because(ev, words)}.")
    if ev.get("elected"):
        seats = words.said("his seat", actors) if one else "their seats"
        return f"{who} lost {seats} in the {inner}{at}, because {because(ev, words)}."
    seat = words.said("his seat", actors) if one else "their seats"
    return (f"{who} left the {inner} with {seat} in the {words.bodies.leadership}{at}, "
            f"because {because(ev, words)}.")


def _switch(ev: dict[str, Any], words: Words) -> str:
    client = words.name(str(ev.get("client") or "a client"))
    old = words.name(str(ev.get("from") or words.said("his patron", about(ev))))
    new = words.names_of(ev.get("actors") or [])
    return (f"{client} left {old}'s following for {new}'s, because {old} stood outside the "
            f"ruling coalition and could no longer advance {words.said('him', about(ev))}.")


def _death(ev: dict[str, Any], words: Words) -> str:
    """A named client's death, and what fell vacant with it (the posts' new holders follow in
    sentences of their own)."""
    client = str(ev.get("client") or "")
    who = words.name(client) if client else "A client"
    patron = f", {words.name(str(ev['patron']))}'s client," if ev.get("patron") else ""
    posts = join([office_phrase(str(o)) for o in ev.get("offices") or []])
    seat = words.said(f"his seat in the {words.bodies.leadership}", client)
    if ev.get("seat"):
        then = f"{seat} fell vacant" + (f", and so did {posts}" if posts else "")
    elif posts:
        then = f"{posts} fell vacant"
    else:
        then = words.said(f"he held no seat in the {words.bodies.leadership} and no post",
                          client)
    return f"{who}{patron} died; {then}."


def sentence(ev: dict[str, Any], words: Words, prev: tuple[str, ...] = ()) -> str:
    """One event as one sentence, with its cause."""
    kind = str(ev["kind"])
    who = words.names_of(ev.get("actors") or [])
    why = because(ev, words)
    if ev.get("scenario_event"):
        return str(ev["text"])
    if kind == "vote":
        return _vote(ev, words)
    if kind == "coalition":
        return _coalition(ev, words, prev)
    if kind == "office":
        return _offices([ev], words)
    if kind == "promotion":
        return _promotions([ev], words)
    if kind == "crisis":
        return _crisis(ev, words)
    if kind == "client_switch":
        return _switch(ev, words)
    if kind == "co_option":
        return _co_option(ev, words)
    if kind == "client_office":
        return _placed(ev, words)
    if kind == "death":
        return _death(ev, words)
    if kind in ("inner_in", "inner_out"):
        return _inner(ev, words)
    if kind == "assembly":
        of, yes = int(ev.get("of") or 0), float(ev.get("yes") or 0.0)
        why = "its delegates had been" + why[len("delegates"):] if why.startswith(
            "delegates chosen") else why
        backing = (f"about {round(yes * of):,} of its {of:,} voting delegates ({yes:.0%}) "
                   "stood with the leadership" if of
                   else f"{yes:.0%} of it stood with the leadership")
        return f"{_cap(body_phrase(str(ev.get('body'))))} met, and {backing}, because {why}."
    if kind == "funeral":
        his = words.said("his", words.founder_id)
        stood = (f"{who} stood at {his} funeral" if who
                 else f"none of the leaders was at {his} funeral")
        on = "on" if str(ev.get("body") or "").endswith("Square") else "in"
        where = f" {on} {ev['body']}" if ev.get("body") else ""
        died = f"{words.founder or 'The founder'} died"
        return (f"{died}, and {stood}{where}." if why == died
                else f"{stood.capitalize()}{where}, because {why}.")
    if kind == "polemic":
        targets = words.names_of(ev.get("targets") or [])
        title = ev.get("title") or "a polemic"
        why = "it" + why[len("the polemic"):] if why.startswith("the polemic") else why
        rivals = words.said("his rivals", ev.get("actors") or [])
        return f"{who}'s {title} attacked {targets or rivals} in the press; {why}."
    if kind == "speech":
        targets = words.names_of(ev.get("targets") or [])
        title = f" ({ev['title']})" if ev.get("title") else ""
        where = ("in the press" if ev.get("handling") == "published"
                 else "in closed session, and it was not printed")
        if targets:
            return f"{who}'s speech{title} attacked {targets} {where}; {why}."
        his = words.said("his", ev.get("actors") or [])
        return f"{who}'s speech{title} set out {his} programme {where}; {why}."
    if kind == "disband":
        one = len(ev.get("actors") or []) == 1
        they = words.said("he", about(ev)) if one else "they"
        their = words.said("his", about(ev)) if one else "their"
        # (the assembly's own sentence, just before, gives the share that backed the leadership)
        return (f"{_cap(body_phrase(str(ev.get('body'))))} condemned the platform of {who}, "
                f"and {they} dissolved {their} group, because {why}.")
    if kind == "consolidation":
        return f"{who} now ruled the party, because {why}."
    if kind == "spared":
        ruler = words.names_of([str(ev.get("ruler") or "")])
        partners = words.names_of(ev.get("partners") or [])
        him = words.said("him", str(ev.get("ruler") or ""))
        # (the event's own ``because`` names everyone again; the sentence has named them)
        return (f"{partners} would have moved at {body_phrase(str(ev.get('body')))} to take "
                f"{who}'s seat in the {words.bodies.leadership}, but {ruler} would not back it: "
                f"with {who} gone, they could have won the {words.bodies.leadership} without "
                f"{him}.")
    if kind in ("recant", "exile", "deportation", "readmitted", "bloc"):
        one = kind != "bloc" or len(ev.get("actors") or []) == 1
        told = _subject(why, who, words.said("he", about(ev)) if one else "they")
        if told is not None:
            at = f" at {body_phrase(str(ev.get('body')))}" if kind == "recant" else ""
            return _cap(told) + at + "."
    if kind == "funeral_absent":
        return f"{who} was absent: {why}."
    if kind == "arrest":
        lost = words.said("his offices and his seats" if ev.get("office") else "his seats",
                          ev.get("actors") or [])
        return (f"{who} was arrested by the {ev.get('body') or 'security forces'} and lost "
                f"{lost} at once: {why}.")
    if kind == "return":
        return (f"{who} was brought back into the {words.bodies.leadership} at "
                f"{body_phrase(str(ev.get('body')))}, because {why}.")
    if kind == "appeal":
        outcome = "upheld it" if ev.get("upheld") else "overturned it"
        removal = words.said("his removal", ev.get("actors") or [])
        return (f"{who} appealed against {removal} to {body_phrase(str(ev.get('body')))}, "
                f"which {outcome}, with {float(ev.get('yes') or 0.0):.0%} for upholding it: "
                f"{why}.")
    label = kind.replace("_", " ")
    return f"{_cap(label)}: {who or 'the party'}" + (f", because {why}." if why else ".")


def month_sentences(group: list[dict[str, Any]], words: Words, coalition: tuple[str, ...]
                    ) -> tuple[list[tuple[dict[str, Any], str]], list[str], tuple[str, ...]]:
    """Sentences of one month: per event (for JSON) and grouped (for the paragraph)."""
    order = {"funeral": 1}
    group = sorted(group, key=lambda e: 0 if e.get("scenario_event") else order.get(e["kind"], 2))
    singles: list[tuple[dict[str, Any], str]] = []
    grouped: list[str] = []
    seen: set[str] = set()  # bodies whose loyalties this month's paragraph has described
    i = 0
    while i < len(group):
        ev = group[i]
        s = sentence(ev, words, coalition)
        singles.append((ev, s))
        if ev["kind"] == "vote":
            s = _vote(ev, words, seen)
        run = [ev]
        if ev["kind"] in ("office", "promotion"):
            key = "from" if ev["kind"] == "office" else "actors"
            while (i + len(run) < len(group) and group[i + len(run)]["kind"] == ev["kind"]
                   and group[i + len(run)].get(key) == ev.get(key)
                   and group[i + len(run)].get("because") == ev.get("because")):
                nxt = group[i + len(run)]
                singles.append((nxt, sentence(nxt, words, coalition)))
                run.append(nxt)
            s = _offices(run, words) if ev["kind"] == "office" else _promotions(run, words)
        if ev["kind"] == "coalition":
            coalition = tuple(ev["actors"])
        grouped.append(s)
        i += len(run)
    return singles, grouped, coalition


def paragraph(when: str, sentences: list[str], words: Words) -> str:
    """'In May 1924 the 13th Party Congress met ...': the month leads the first sentence."""
    if not sentences:
        return ""
    first = sentences[0]
    word = re.split(r"[\s',:]", first, maxsplit=1)[0]
    # a name leads as written, one of several words ('Hu Qiaomu') as well as one ('Stalin')
    if word in words.names.values() or any(
            first.startswith(n) and first[len(n):len(n) + 1] in (" ", "'", ",", ":")
            for n in words.names.values()):
        lead = f"In {when} {first}"
    elif word in ("The", "A", "An"):
        lead = f"In {when} {first[0].lower()}{first[1:]}"
    else:
        lead = f"In {when}, {first[0].lower()}{first[1:]}"
    return " ".join([lead, *sentences[1:]])
