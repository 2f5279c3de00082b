"""A history told for a fifteen-year-old: who feared whom, who needed whom, who voted how.

Why a layer of its own: the engine's own ``because`` texts name the mechanism's state ("perceived
powers" of each leader), which is right for a modeller and opaque for a
student. Here each event is told again from its *structured* fields (kind, actors, body, the
motion and tally, the office, the ruling coalition before it, the month's power shares), in
short sentences; the engine's wording and the numbers stay one click away (``numbers``).

The engine's events are being reworded elsewhere, and their fields may change: every kind
renders defensively, a missing field never raises, and a kind this module does not know falls
back to the chronicle's generic prose (``event["text"]``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from politburo.dates import month_name, parse_month
from politburo.scenario.labels import called, gendered, motions, pronoun_of, pronouns
from politburo.scenario.schema import Bodies, Scenario

FEARED = 0.05
"""An outsider with less power than this is no threat worth naming."""


@dataclass(frozen=True)
class Told:
    """One event in student words, with what lies behind it for those who click."""

    date: str
    kind: str
    text: str
    numbers: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Names:
    """How one scenario's people, bodies and rules are spoken of (all from the file)."""

    names: dict[str, str]
    bodies: Bodies = Bodies()
    founder: str = ""  # the founder's name in running text; "" when there is none
    capital: str = ""
    faction_ban: str = ""  # the rule in words; "" when none is in force
    appointer: str = ""  # the office that appoints the party secretaries; "" when none
    done: dict[str, str] = field(default_factory=dict)  # motion -> "removed from the ..."
    to_do: dict[str, str] = field(default_factory=dict)  # motion -> "remove from the ..."
    pronouns: dict[str, str] = field(default_factory=dict)  # id -> "he" or "she"
    founder_id: str = ""

    @classmethod
    def of(cls, scenario: Scenario) -> Names:
        ban = scenario.constants.get("faction_ban")
        appointer = next((re.sub(r"\s*\(.*?\)", "", o.name).strip()
                          for o in scenario.offices if o.patronage), "")
        done, to_do = motions(scenario)
        f = scenario.founder
        return cls(called(scenario), bodies=scenario.bodies, founder=f.called if f else "",
                   capital=f.capital if f else "",
                   faction_ban=scenario.rules.faction_ban if ban and ban.value else "",
                   appointer=appointer, done=done, to_do=to_do, pronouns=pronouns(scenario),
                   founder_id=f.id if f else "")

    def one(self, actor: Any) -> str:
        a = str(actor)
        return self.names.get(a, a.replace("_", " ").title())

    def said(self, text: str, actors: Any) -> str:
        """``text``, written with 'he', as said of ``actors`` (one id or several)."""
        ids = str(actors) if isinstance(actors, str) else [str(a) for a in actors or []]
        return gendered(text, pronoun_of(self.pronouns, ids))

    def many(self, actors: Iterable[Any]) -> str:
        items = [self.one(a) for a in actors]
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " and " + items[-1]


def _pct(x: Any) -> str:
    try:
        return f"{float(x):.0%}"
    except (TypeError, ValueError):
        return "?"


def _coalition(ev: Mapping[str, Any], n: Names, prev: Sequence[str],
               power: Mapping[str, float]) -> str:
    new = [str(a) for a in ev.get("actors") or []]
    if not new:
        return "The leaders could not agree who should rule."
    inside = sum(power.get(a, 0.0) for a in new)
    outsiders = sorted((a for a in power if a not in new), key=lambda a: -power[a])
    feared = outsiders[0] if outsiders else None
    strength = f" (together about {inside:.0%} of the power)" if power else ""
    if feared is not None and power.get(feared, 0.0) >= FEARED:
        fear = (f" They feared {n.one(feared)}, the strongest leader left outside "
                f"({power[feared]:.0%}).")
    else:
        fear = " No one left outside was strong enough to threaten them." if power else ""
    if len(new) == 1:
        return (f"{n.one(new[0])} now ruled without partners: {n.said('he', new[0])} no longer "
                f"needed anyone else to win a vote{strength}.")
    if not prev:
        return (f"{n.many(new)} joined forces to rule. None of them was strong enough alone, "
                f"so they needed each other{strength}.{fear}")
    came = [a for a in new if a not in prev]
    gone = [a for a in prev if a not in new]
    parts = []
    if gone:
        them = n.said("him", gone) if len(gone) == 1 else "them"
        parts.append(f"{n.many(gone)} {'was' if len(gone) == 1 else 'were'} dropped: the others "
                     f"were strong enough without {them}, and feared being ruled by {them}")
    if came:
        parts.append(f"{n.many(came)} {'was' if len(came) == 1 else 'were'} brought in, "
                     "because the group needed more support")
    change = "; ".join(parts) if parts else "the same leaders stayed together"
    return f"The ruling group changed to {n.many(new)}: {change}{strength}.{fear}"


def _vote(ev: Mapping[str, Any], n: Names, ruling: Sequence[str]) -> str:
    d = ev.get("details") or {}
    who = n.many(ev.get("actors") or []) or "a leader"
    motion = str(d.get("motion") or "")
    body = str(ev.get("body") or "the party")
    if d.get("votes") is not None and d.get("of"):
        tally = f"{int(d['votes']):,} of {int(d['of']):,} delegates voted for it"
    else:
        tally = f"{_pct(d.get('yes'))} voted for it"
    actors = [str(a) for a in ev.get("actors") or []]
    if set(actors) & set(ruling):
        by = n.said(" He was in the ruling group, but too few stood by him." if d.get("passed")
                    else " His partners in the ruling group stood by him.", actors)
    else:
        by = (f" The ruling group ({n.many(ruling)}) wanted {n.said('him', actors)} weakened."
              if ruling else "")
    if d.get("passed"):
        done = n.said(n.done.get(motion, motion.replace("_", " ") or "punished"), actors)
        return f"At the {body}, {who} was {done}: {tally}.{by}"
    need = d.get("needed")
    short = ""
    if need is not None:
        short = (" (two thirds were needed)" if abs(float(need) - 2 / 3) < 0.01
                 else f" ({_pct(need)} were needed)")
    return (f"At the {body}, a motion {n.said(_to(n.to_do.get(motion)), actors)} {who} "
            f"failed: only {tally}{short}.{by}")


def _to(verb: str | None) -> str:
    return f"to {verb}" if verb else "against him"


def _against_rules(n: Names) -> str:
    return f", in defiance of {n.faction_ban}" if n.faction_ban else ""


def tell(ev: Mapping[str, Any], n: Names, ruling: Sequence[str],
         power: Mapping[str, float]) -> str:
    """One event as one or two plain sentences; the chronicle's own text if the kind is new."""
    kind = str(ev.get("kind") or "")
    d = ev.get("details") or {}
    actors = [str(a) for a in ev.get("actors") or []]
    who = n.many(actors)
    if d.get("scenario_event"):
        return str(ev.get("text") or "")
    if kind == "coalition":
        return _coalition(ev, n, ruling, power)
    if kind == "vote":
        return _vote(ev, n, ruling)
    if kind == "assembly" and d.get("yes") is not None:
        owed = (f": the party secretaries who chose them owed their jobs to the {n.appointer}"
                if n.appointer else "")
        return (f"The {ev.get('body') or 'congress'} met. {_pct(d.get('yes'))} of the delegates "
                f"backed the leadership{owed}.")
    if kind == "co_option" and d.get("added"):
        added = int(d["added"])
        top = [(str(a), float(x)) for a, x in (d.get("follow") or [])[:2]
               if float(x) >= 0.005]
        shares = [f"{_pct(x)} {n.one(a)}'s" for a, x in top]
        if shares:
            shares[0] = shares[0].replace(" ", " of them were ", 1) + " people"
        people = (f" About {', and '.join(shares)}; the rest followed another leader or none."
                  if shares else " They followed no leader.")
        return (f"The {ev.get('body') or 'plenum'} added {added} new "
                f"{'member' if added == 1 else 'members'} to the {n.bodies.committee}, picked "
                f"from officials the party machine had placed.{people}")
    if kind == "bloc" and len(actors) == 1:
        return (f"Left out of power, {who} organised {n.said('his', actors)} followers against "
                f"the ruling group{_against_rules(n)}.")
    if kind == "bloc" and actors:
        return f"Left out of power, {who} teamed up against the ruling group{_against_rules(n)}."
    if kind == "office" and d.get("office") and actors:
        loser = n.one(d.get("from") or "someone")
        office = re.sub(r"\s*\(.*?\)", "", str(d["office"])).strip()
        his = n.said("his", str(d.get("from") or ""))
        return (f"{loser} lost {his} post ({office}). It went to {who}, who was on the "
                "ruling side.")
    if kind == "promotion" and actors:
        client = f"{n.one(d['client'])}, a follower of {who}" if d.get("client") else (
            f"a follower of {who}")
        man = ("his man would vote with him" if n.said("he", str(d.get("client") or "")) == "he"
               else "his follower would vote with him")
        return (f"A free seat in the {n.bodies.leadership} went to {client}: {who} had the most "
                f"supporters in the {n.bodies.committee} among the rulers, and "
                f"{n.said(man, actors)}.")
    if kind == "client_office" and actors and d.get("client"):
        client = n.one(d["client"])
        office = re.sub(r"\s*\(.*?\)", "", str(d.get("office") or "a post")).strip()
        return (f"{who} gave a post ({office}) to {client}, "
                + n.said("his most loyal follower without a post: he was the strongest of the "
                         "rulers, and the post was theirs to fill.", actors))
    if kind == "death" and d.get("client"):
        mine = str(d["client"])
        posts = [re.sub(r"\s*\(.*?\)", "", str(o)).strip() for o in d.get("offices") or []]
        freed = [n.said(f"his seat in the {n.bodies.leadership}", mine)] if d.get("seat") else []
        if posts:
            freed.append(n.said("his " + ("post" if len(posts) == 1 else "posts"), mine)
                         + f" ({', '.join(posts)})")
        if not freed:
            return (f"{n.one(mine)} died. " + n.said(f"He had no seat in the "
                                                     f"{n.bodies.leadership} and no post, so "
                                                     "nothing changed hands.", mine))
        return (f"{n.one(mine)} died, and {' and '.join(freed)} "
                f"{'was' if len(freed) == 1 else 'were'} free for someone else.")
    if kind in ("inner_in", "inner_out") and actors:
        inner = str(d.get("inner") or n.bodies.leadership)
        at = f" at the {d['body']}" if d.get("body") else ""
        if kind == "inner_in":
            return (f"{who} {'was' if len(actors) == 1 else 'were'} elected to the {inner}, the "
                    f"small group at the very top{at}: the rulers took its seats for "
                    "themselves first, and the strongest of the rest filled the others.")
        seat = n.said("his seat", actors) if len(actors) == 1 else "their seats"
        if d.get("elected"):
            return (f"{who} lost {seat} in the {inner}{at}: the rulers and the strongest "
                    "leaders filled it without them.")
        return (f"{who} left the {inner}{at}: whoever loses {n.said('his', actors)} place in "
                f"the {n.bodies.leadership} loses it there too.")
    if kind == "client_switch" and actors:
        client = n.one(d.get("client") or "a follower")
        mine = str(d.get("client") or "")
        old = n.one(d.get("from") or n.said("his patron", mine))
        return (f"{client} deserted {old} for {who}: {old} had lost "
                f"{n.said('his', str(d.get('from') or ''))} place among the rulers and could no "
                f"longer help {n.said('his', mine)} career.")
    if kind == "crisis":
        problem = str(d.get("crisis") or "a crisis").replace("_", " ")
        answer = str(d.get("answer") or d.get("response") or "an answer").replace("_", " ")
        against = n.many(d.get("targets") or [])
        split = f" {who} wanted it" if actors else ""
        split += f"; {against} would have chosen otherwise" if against else ""
        split += "." if split else ""
        his = n.said("his", [*actors, *(str(a) for a in d.get("targets") or [])])
        return (f"Faced with the {problem}, the rulers decided to {answer}.{split} Each of "
                f"them backed the answer closest to {his} own views, and the stronger side won.")
    founder = n.founder or "The founder"
    if kind == "funeral":
        his = n.said("his", n.founder_id)
        if not actors:
            return f"{founder} died. None of the leaders stood at {his} funeral."
        return f"{founder} died. {who} stood at {his} funeral, as {his} heirs."
    if kind == "funeral_absent" and actors:
        whose = f"{n.founder}'s" if n.founder else "the founder's"
        return f"{who} missed {whose} funeral, and people held it against {n.said('him', actors)}."
    if kind == "polemic" and actors:
        targets = n.many(d.get("targets") or []) or n.said("his rivals", actors)
        title = f" ({d['title']})" if d.get("title") else ""
        return (f"{who} attacked {targets} in print{title}. "
                + n.said("It made them his enemies and cost him respect in the party.", actors))
    if kind == "speech" and actors:
        targets = n.many(d.get("targets") or [])
        title = f" ({d['title']})" if d.get("title") else ""
        where = "in print" if d.get("handling") == "published" else "behind closed doors"
        if targets:
            return (f"{who} attacked {targets} in a speech {where}{title}. "
                    + n.said("It made them his enemies and cost him respect in the party.",
                             actors))
        return (f"{who} set out a programme in a speech {where}{title}. "
                + n.said("It raised his standing in the party, as far as it was heard.", actors))
    if kind == "spared" and actors and d.get("ruler"):
        ruler = str(d["ruler"])
        partners = n.many(d.get("partners") or []) or n.said("his partners", ruler)
        return (f"{partners} wanted {who} out of the {n.bodies.leadership}, but {n.one(ruler)} "
                f"would not help: with {who} gone, they would not have needed "
                f"{n.said('him', ruler)} any more.")
    if kind == "recant" and actors:
        return (f"{who} expected to lose the vote, so {n.said('he', actors)} gave in and "
                "promised to stop organising against the leadership.")
    if kind == "consolidation" and actors:
        return f"{who} now ruled the party: " + n.said(
            f"he and his followers held most of the votes in the {n.bodies.leadership} and in "
            f"the {n.bodies.committee}, so he no longer needed partners who had followers of "
            "their own.", actors)
    if kind == "exile" and actors:
        away = f"sent away from {n.capital}" if n.capital else "sent into internal exile"
        return f"{who}, expelled and not sorry, was {away} by the {n.bodies.police}."
    if kind == "deportation" and actors:
        return f"{who} kept opposing from exile, and was thrown out of the country."
    if kind == "readmitted" and actors:
        return (f"{who} had given in, and the party took {n.said('him', actors)} back as an "
                "ordinary member.")
    return str(ev.get("text") or f"{kind.replace('_', ' ')}: {who}".strip())


def retell(story: Mapping[str, Any], scenario: Scenario) -> list[dict[str, Any]]:
    """The chronicle's events grouped by month, each in student words with its numbers."""
    n = Names.of(scenario)
    power_by_month: Mapping[str, Mapping[str, float]] = story.get("power") or {}
    ruling: list[str] = []
    months: dict[str, list[Told]] = {}
    for ev in story.get("events") or []:
        date = str(ev.get("date") or "")
        power = dict(power_by_month.get(date) or {})
        try:
            text = tell(ev, n, ruling, power)
        except (TypeError, ValueError, KeyError, AttributeError):
            text = str(ev.get("text") or "")
        d = ev.get("details") or {}
        causes = [str(c) for c in ev.get("causes") or []]
        numbers: dict[str, Any] = {"engine's words": ev.get("text") or ""}
        if causes and causes[0].startswith("mechanism: "):
            numbers["mechanism"] = causes[0][len("mechanism: "):]
        numbers.update({k: v for k, v in d.items() if k not in ("scenario_event", "source")})
        if ev.get("kind") == "coalition" and power:
            numbers["power shares this month"] = ", ".join(
                f"{n.one(a)} {v:.0%}" for a, v in sorted(power.items(), key=lambda kv: -kv[1]))
        sources = tuple(s.strip() for s in str(d.get("source") or "").split(",") if s.strip())
        months.setdefault(date, []).append(Told(date, str(ev.get("kind") or ""), text,
                                                numbers, sources))
        if ev.get("kind") == "coalition":
            ruling = [str(a) for a in ev.get("actors") or []]
    return [{"date": date, "month": _month(date), "events": events}
            for date, events in months.items()]


def _month(date: str) -> str:
    """'1923-02' as 'February 1923'; anything else as it came."""
    try:
        return month_name(parse_month(date))
    except ValueError:
        return date
