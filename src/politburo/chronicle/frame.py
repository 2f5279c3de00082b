"""The frame of a chronicle: its opening, the scenario's own dated events, and its outcome.

The opening sets out the world at the scenario's first month, written from its data.

Why generated rather than written once: the opening must be true of the scenario actually run.
A lever that keeps the founder able to act, publishes the Testament or moves an office changes what
the reader should be told at the start, and a scenario file for another party has other men and
other posts. So every clause below is chosen from the scenario's structured data (who holds which
office, each principal's coded attributes and policy position, clients, the calendar, the
constants); no sentence is copied from its notes. The attribute words translate the modeller's
0-1 codings, which cite their historians in the scenario file.

The scenario's exogenous events (an illness, a recruitment drive, a shock to the party line) are
not in the engine's log, which records what the mechanisms did; they are added here, marked as
scenario events with their source, so the account shows the world the mechanisms reacted to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from politburo.chronicle.prose import Words, because, join, office_phrase, title_of
from politburo.dates import month_name, parse_month
from politburo.engine.histories import Histories
from politburo.engine.state import LADDER
from politburo.scenario.compile import Compiled
from politburo.scenario.schema import Axis, Principal, Scenario


def fates(words: Words) -> dict[str, str]:
    """'was removed from the Politburo' for each step of the ladder, in the scenario's names
    (written with 'he': ``Words.said`` fits them to the person)."""
    return dict(zip(LADDER, ("was censured", "lost his offices",
                             f"was removed from the {words.bodies.leadership}",
                             f"was expelled from the {words.bodies.committee}",
                             "was expelled from the party", "was sent into internal exile",
                             "was deported"), strict=True))


@dataclass(frozen=True)
class Scale:
    """Words for a 0-1 attribute, from the top band down."""

    bands: tuple[tuple[float, str], ...]

    def word(self, value: float) -> str:
        return next((w for cut, w in self.bands if value >= cut), self.bands[-1][1])


ORGANISATION = Scale(((0.8, "a master of the apparatus"), (0.55, "a capable organiser"),
                      (0.4, "an indifferent organiser"), (0.0, "no organiser")))
STANDING = Scale(((0.8, "stands higher in the party's esteem than anyone"),
                  (0.6, "is well regarded in the party"), (0.45, "has a middling name"),
                  (0.0, "is little regarded by the party at large")))


def _count(n: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
             "ten", "eleven", "twelve")
    return words[n] if 0 <= n < len(words) else str(n)


def _lean(axis: Axis, x: float) -> str:
    return (axis.leans_low if x <= axis.low_at else
            axis.leans_high if x >= axis.high_at else axis.leans_middle)


def _policy(scenario: Scenario, p: Principal) -> str:
    leans = [_lean(a, p.position.on(a.id) or 0.0) for a in scenario.axes]
    return f"{p.pronoun} leans toward {join(leans)}"


def _offices(scenario: Scenario, actor: str, words: Words) -> str:
    held = [o for o in scenario.offices if o.holder == actor and o.enabled]
    if not held:
        return "holds no office of weight"
    phrases: list[str] = []
    for o in held:
        what = office_phrase(o.name)
        verb = "holds" if what.startswith("the post") else "controls"
        phrase = (f"{verb} {what}" + (", and with it the appointment of provincial "
                                      "secretaries" if o.patronage else "")
                  + (words.said(", whose delegates vote as he bids", actor) if o.fiefdom
                     else ""))
        plain = "holds the post of "
        if phrases and phrases[-1].startswith(plain) and phrase.startswith(plain) and "," not in (
                phrases[-1] + phrase):  # two plain posts: 'holds the posts of A and B'
            phrase = f"holds the posts of {phrases.pop()[len(plain):]} and {phrase[len(plain):]}"
        phrases.append(phrase)
    return join(phrases)


def _principal(scenario: Scenario, p: Principal, words: Words) -> str:
    a = p.attributes
    name = words.full.get(p.id, p.name)
    s = [f"{name} {_offices(scenario, p.id, words)}."]
    he = p.pronoun.capitalize()  # the stock words below are written with 'he'; said() fits them
    traits = [f"{he} is {ORGANISATION.word(a.organisation.value)} and "
              f"{STANDING.word(a.standing.value)}"]
    if a.public_profile.value <= 0.3:
        traits.append(words.said("his rivals are apt to underrate him", p.id))
    elif a.aloofness.value >= 0.7:
        traits.append(words.said("he keeps his colleagues at a distance", p.id))
    s.append("; ".join(traits) + ".")
    marks = []
    if a.outsider.value >= 0.5:
        marks.append(scenario.traits.outsider)
    if a.prejudice_target.value >= 0.5:
        marks.append(scenario.traits.prejudice_target)
    if marks:
        s.append(f"{he} is {join(marks)}.")
    policy = _policy(scenario, p)
    s.append(policy[0].upper() + policy[1:] + ".")
    clients = [c for c in scenario.clients if c.patron == p.id]
    if clients:
        verb = "looks" if len(clients) == 1 else "look"
        s.append(f"{words.names_of([c.id for c in clients])} {verb} to "
                 f"{words.said('him', p.id)} as patron.")
    return " ".join(s)


def opening(scenario: Scenario, model: Compiled, words: Words,
            levers: tuple[str, ...] = ()) -> list[str]:
    """Paragraphs describing the scenario's first month."""
    start = month_name(model.start)
    enabled = {e.kind: e for e in scenario.events if e.enabled}
    stroke = enabled.get("founder_incapacitated")
    death = enabled.get("founder_death")
    founder = words.founder
    founder_posts = [office_phrase(o.name) for o in scenario.offices
                     if founder and o.holder == model.founder and o.enabled]
    names = [words.name(p.id) for p in scenario.principals]
    men = "men" if all(p.pronoun == "he" for p in scenario.principals) else "leaders"
    him = words.said  # the founder's pronoun in the stock words below
    fid = words.founder_id
    c = model.constants
    first = [f"{start}."]
    if not founder or (stroke is None and death is None):
        pass  # no founder, or one who never leaves the stage: nothing to tell of him
    elif stroke is not None and parse_month(stroke.month) == model.start:
        how = scenario.founder.incapacity if scenario.founder else ""
        first.append(f"{founder} {how} and can no longer lead.")
    elif death is not None and parse_month(death.month) == model.start and stroke is None:
        first.append(f"{founder} is dying.")
    else:
        first.append(f"{founder} is ill, but {him('he', fid)} can still act.")
    if founder_posts:
        first.append(f"{him('He', fid)} keeps {join(founder_posts)} in name, but who leads the "
                     f"party now lies between {_count(len(names))} {men}: {join(names)}.")
    elif founder and (stroke is not None or death is not None):
        first.append(f"Who leads the party after {him('him', fid)} lies between "
                     f"{_count(len(names))} {men}: {join(names)}.")
    else:
        first.append(f"Who leads the party lies between {_count(len(names))} {men}: "
                     f"{join(names)}.")
    sizes = []
    if "membership_start" in c:
        sizes.append(f"about {c['membership_start']:,.0f} members")
    if "cc_size_start" in c:
        sizes.append(f"a {words.bodies.committee} of {c['cc_size_start']:.0f}")
    if "politburo_size_start" in c:
        sizes.append(f"a {words.bodies.leadership} of {c['politburo_size_start']:.0f}")
    if sizes:
        first.append(f"The party has {join(sizes)}.")
    testament = enabled.get("testament")
    if testament is not None and testament.targets:
        when = month_name(parse_month(testament.month))
        himself = parse_month(testament.month) - model.start < model.founder_until()
        handling = {"published": f"read in open session and published in {when}",
                    "suppressed": f"kept from the delegates (in {when})",
                    "delegations": f"read to the delegations in {when} but not published"}.get(
            testament.handling or "", f"made known in {when}")
        author = words.name(testament.actor) if testament.actor else founder or "the founder"
        fate = (him("in this world he is still able to act when it falls due, and puts its "
                    "proposal to each congress himself", testament.actor or fid) if himself else
                f"in this world it will be {handling}")
        first.append(f"In these weeks {author} dictates a letter to the next congress that would "
                     f"remove {words.names_of(testament.targets)} from "
                     f"{him('his', testament.targets)} post; {fate}.")
    paragraphs = [" ".join(first)]
    paragraphs += [_principal(scenario, p, words) for p in scenario.principals]
    congress = next((m for m in scenario.calendar if m.kind == "congress"
                     and parse_month(m.month) >= model.start), None)
    close = (f"From here the contest runs month by month: the {words.bodies.secretariat} "
             "places its men in "
             "the provinces, congresses and plenums vote, and the leaders make and break "
             "alliances as each judges the others' strength.")
    if congress is not None:
        close += (f" The first test is the {congress.name}, due in "
                  f"{month_name(parse_month(congress.month))}.")
    paragraphs.append(close)
    if levers:
        paragraphs.append(f"This is a counterfactual world, changed by: {join(list(levers))}.")
    return paragraphs


def scenario_events(scenario: Scenario, model: Compiled, words: Words) -> list[dict[str, Any]]:
    """Dated events of the scenario that the engine does not log itself, as log-like dicts."""
    out: list[dict[str, Any]] = []
    for e in scenario.events:
        step = parse_month(e.month) - model.start
        if not e.enabled or not 0 <= step < model.steps:
            continue
        if e.kind in ("polemic", "speech", "founder_death", "death") or (
                e.kind == "founder_incapacitated" and step == 0):
            continue  # the engine logs the polemic, the speech, the funeral and a client's
            # death (with what fell vacant); the opening tells the stroke
        if e.kind == "testament" and step < model.founder_until():
            continue  # its author still acts and puts it to the congresses himself
        src = e.source or f"assumption: {e.assumption}"
        out.append({"kind": e.kind, "step": step,
                    "actors": [a for a in (e.actor, *e.targets, *e.endorses)
                               if a and a != model.founder],
                    "body": "", "because": "", "scenario_event": e.id, "source": src,
                    "text": _exogenous(e, words, scenario),
                    **({"against": e.against} if e.against else {})})
    return out


def annotate(log: list[dict[str, Any]], scenario: Scenario, model: Compiled) -> None:
    """Give logged polemics the title of the scenario event that caused them, and a crisis's
    chosen response its description."""
    answers = {(e.id, r.id): r.description for e in scenario.events for r in e.responses}
    for ev in log:
        if ev["kind"] == "crisis":
            key = (str(ev.get("crisis")), str(ev.get("response")))
            ev.setdefault("answer", answers.get(key, ""))
        if ev["kind"] not in ("polemic", "speech"):
            continue
        for e in scenario.events:
            if (e.kind == ev["kind"] and parse_month(e.month) - model.start == ev["step"]
                    and e.actor in (ev.get("actors") or [])):
                ev["title"] = title_of(e.id, scenario.abbreviations)
                ev.setdefault("source", e.source)


def _exogenous(e: Any, words: Words, scenario: Scenario | None = None) -> str:
    who = words.name(e.actor) if e.actor else "the party"
    until = f", and was not well again until {month_name(parse_month(e.until))}" if (
        e.until and e.until != e.month) else ""
    if e.kind == "illness":
        return f"{who} fell ill{until}."
    if e.kind == "testament":
        how = {"published": "was read in open session and published",
               "suppressed": "was kept from the delegates",
               "delegations": "was read to the delegations one by one but not published"}.get(
            e.handling or "", "was made known")
        target = (f", with its proposal to remove {words.names_of(e.targets)} from "
                  f"{words.said('his', e.targets)} post" if e.targets else "")
        author = f"{words.name(e.actor)}'s" if e.actor else "The"
        if e.endorses and not e.targets:
            known = {"published": "was made public", "suppressed": "was kept secret",
                     "delegations": "was shown to the leading bodies but not published"}.get(
                e.handling or "", "was made known")
            his = words.said("his", e.actor) if e.actor else "the founder's"
            return (f"{author} written word naming {words.names_of(e.endorses)} as {his} "
                    f"successor {known}.")
        named = (f", and naming {words.names_of(e.endorses)} as "
                 f"{words.said('his', e.actor or '')} successor" if e.endorses else "")
        return f"{author} letter to the congress{target}{named}, {how}."
    if e.kind == "enrolment":
        by = f" by {month_name(parse_month(e.until))}" if e.until else ""
        return (f"The party opened its doors in a mass recruitment, the "
                f"{title_of(e.id, words.abbreviations)}, "
                f"taking in {e.size or 0:,.0f} new members{by}.")
    if e.kind == "crisis":
        return (f"{e.description or title_of(e.id, words.abbreviations)} The rulers must "
                "choose how to answer.")
    if e.kind == "salience":
        return (f"{e.description or title_of(e.id, words.abbreviations)} From now on the "
                f"leaders measure one "
                f"another by where they stand on it.")
    if e.kind == "alliance":
        return f"{who} offered {words.names_of(e.targets)} a common front."
    if e.kind == "resignation":
        post = next((o.name.split(" (")[0] for o in (scenario.offices if scenario else ())
                     if o.id == e.office), None) if e.office else None
        what = f"the post of {post}" if post else f"{words.said('his', e.actor or '')} post"
        return (f"{who} offered to resign {what}, and this time the offer was put to the "
                + ("vote." if post else "committee's vote."))
    if e.kind == "platform":
        he = words.said("he", e.actor or "")
        allies = f", and to ask {words.names_of(e.targets)} to stand with " \
                 f"{words.said('him', e.actor or '')}" if e.targets else ""
        if e.against:  # told only in histories where the rulers adopted that answer
            crisis, _, answer = e.against.partition(".")
            title = title_of(crisis, words.abbreviations).lower()
            return (f"{who} stood ready to fight the rulers' answer to the {title}, the "
                    f"{answer.replace('_', ' ')}, openly before the {words.bodies.committee}"
                    f"{allies}, whether or not {he} found the moment.")
        return (f"{who} stood ready to lead an opposition openly{allies}, whether or not {he} "
                "found the moment.")
    if e.kind == "charge":
        founder = words.founder or "the founder"
        meeting = next((m.name for m in (scenario.calendar if scenario else ())
                        if m.month == e.month and m.kind == "congress"), "congress")
        return (f"{who} laid before the {meeting} the notes in which {founder} condemned "
                f"{words.names_of(e.targets)}'s conduct, as {founder} had asked, instead of "
                "holding them back.")
    if e.kind == "founder_incapacitated":
        return f"{words.name(e.actor) if e.actor else 'The founder'} was struck down and could "\
               "take no further part in politics."
    return f"{title_of(e.id, words.abbreviations)}."


def outcome(model: Compiled, h: Histories, words: Words) -> str:
    """How the history ends: who rules and since when, or that no one does; each rival's fate."""
    P, end = model.P, month_name(model.start + model.steps - 1)
    w, cons = int(h.winner[0]), int(h.consolidation[0])
    parts: list[str] = []
    if w < P:
        why = next((because(e, words) for e in reversed(h.log[0] if h.log else [])
                    if e["kind"] == "consolidation" and e["actors"] == [model.principals[w]]),
                   "")
        name = words.name(model.principals[w])
        he = words.said("He", model.principals[w])
        parts.append(f"From {month_name(model.start + cons)} {name} ruled the party"
                     + (f": {why}." if why else ".") + f" {he} still held power in {end}.")
    else:
        his = words.said("his", model.principals)  # any of them might have
        parts.append(f"By {end} no one had gathered power into {his} own hands: collective "
                     "leadership persisted.")
        if h.power is not None:
            last = np.asarray(h.power[0, -1], dtype=float)
            a, b = np.argsort(-last)[:2]
            parts.append(f"The strongest was {words.name(model.principals[a])}, with "
                         f"{last[a]:.0%} of power as the model measures it, ahead of "
                         f"{words.name(model.principals[b])} ({last[b]:.0%}).")
    fate = fates(words)
    lowest, kept, low = [], [], []
    for actor in sorted(model.principals, key=lambda a: words.order.get(a, 0)):
        i = model.index(actor)
        if i == w:
            continue
        steps = np.flatnonzero(h.falls[0, i] >= 0)
        if steps.size:
            k = int(steps.max())
            when = month_name(model.start + int(h.falls[0, i, k]))
            lowest.append(f"{words.name(actor)} {words.said(fate[LADDER[k]], actor)} ({when})")
            low.append(actor)
        else:
            kept.append(words.name(actor))
    if lowest:
        whom = words.said("his rivals", model.principals[w]) if w < P else "the contenders"
        parts.append(f"As for {whom}, each at the lowest point {words.said('he', low)} "
                     f"reached: {join(lowest)}.")
    if kept:
        parts.append(f"{join(kept)} {'was' if len(kept) == 1 else 'were'} never moved against "
                     "successfully.")
    return " ".join(parts)
