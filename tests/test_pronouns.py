"""Pronouns: each person is spoken of as the file's ``pronoun:`` says (he by default), in the
chronicle, its causes and the web app's retelling; a wrong value is refused; a file that leaves
the field out reads and hashes as before (the Soviet golden chronicle is ``test_chronicle.py``'s).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from _scenarios import edited_builtin

from politburo.calibration.abc_smc import read_posterior
from politburo.calibration.posterior import (
    baseline_hash,
    default_posterior_path,
    draw_posterior_params,
)
from politburo.chronicle import story as ch
from politburo.chronicle.prose import Words, because
from politburo.scenario.compile import compile_scenario
from politburo.scenario.labels import gendered, pronoun_of
from politburo.scenario.loader import ScenarioError, builtin_text, load_scenario, parse_scenario
from politburo.web.narrative import retell

HE = re.compile(r"\b(he|his|him|himself)\b", re.IGNORECASE)
SHE = "jiang_qing"
NEEDED = {"vote", "arrest", "exile", "recant"}
"""Kinds of event about Jiang Qing the sentences checked below must include, so that the check
is not idle; the fixture tells China histories (seed 1, posterior) from 0 on until they do."""
SEARCH = 300


def test_gendered_fits_every_form_and_keeps_the_case() -> None:
    text = "He lost his seat; they turned on him, and he blamed himself. Hispanic theme."
    assert gendered(text, "he") == text
    assert gendered(text, "she") == ("She lost her seat; they turned on her, and she blamed "
                                     "herself. Hispanic theme.")
    assert gendered("each at the lowest point he reached", "he or she") == (
        "each at the lowest point he or she reached")
    assert pronoun_of({"a": "she", "b": "he"}, "a") == "she"
    assert pronoun_of({"a": "she", "b": "he"}, ["a", "b"]) == "he or she"
    assert pronoun_of({"a": "she"}, ["a", "a"]) == "she"
    assert pronoun_of({}, ["stranger"]) == "he"


def test_a_wrong_pronoun_is_refused_naming_file_field_and_values(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["principals"][1]["pronoun"] = "her"
    p = edited_builtin(tmp_path, edit, "broken.yaml")
    msg = str(pytest.raises(ScenarioError, load_scenario, p).value)
    assert str(p) in msg and "principals.1.pronoun" in msg
    assert "'he' or 'she'" in msg and "'her'" in msg and re.search(r"line \d+", msg)


@pytest.mark.parametrize("where", ["founder", "clients"])
def test_the_founder_and_clients_take_a_pronoun_too(where: str) -> None:
    data = yaml.safe_load(builtin_text("soviet-1922"))
    person = data[where] if where == "founder" else data[where][0]
    person["pronoun"] = "they"
    with pytest.raises(ScenarioError, match=rf"{where}.*pronoun"):
        parse_scenario(yaml.safe_dump(data, sort_keys=False))


def test_he_given_or_left_out_reads_and_hashes_alike() -> None:
    """The default is left out of the dump, so the Soviet posterior's baseline_hash holds."""
    data = yaml.safe_load(builtin_text("soviet-1922"))
    for p in data["principals"]:
        p["pronoun"] = "he"
    said = parse_scenario(yaml.safe_dump(data, sort_keys=False))
    plain = load_scenario("soviet-1922")
    assert said == plain
    assert baseline_hash(said) == baseline_hash(plain)
    assert baseline_hash(plain) == read_posterior(
        default_posterior_path("soviet-1922")).meta["baseline_hash"]


def test_a_cause_naming_her_speaks_of_her_and_no_one_else() -> None:
    words = Words.of(load_scenario("china-1976"))
    sole = {"kind": "coalition", "actors": [SHE, "zhang_chunqiao"],
            "because": "jiang_qing needed no partners to win and kept those who share his line"}
    assert because(sole, words).endswith("Jiang Qing needed no partners to win and kept those "
                                         "who share her line")
    bloc = {"kind": "bloc", "actors": [SHE, "zhang_chunqiao"],
            "because": "shut out; Jiang Qing leaving the coalition to stand with his partner "
                       "Zhang Chunqiao, Zhang Chunqiao leaving it to stand with his partner"}
    assert because(bloc, words) == ("shut out; Jiang Qing leaving the coalition to stand with "
                                    "her partner Zhang Chunqiao, Zhang Chunqiao leaving it to "
                                    "stand with his partner")
    switch = {"kind": "client_switch", "actors": ["hua"], "client": "wang_xiuzhen",
              "from": "wang_hongwen", "because": "his patron stood outside the ruling coalition "
                                                 "and could no longer advance him"}
    assert because(switch, words) == ("her patron stood outside the ruling coalition and could "
                                      "no longer advance her")


@pytest.fixture(scope="module")
def stories() -> list[ch.Chronicle]:
    s = load_scenario("china-1976")
    model = compile_scenario(s)
    post = read_posterior(default_posterior_path(s.id))
    def params(idx: np.ndarray) -> np.ndarray:
        return draw_posterior_params(model, post, 1, idx)
    out: list[ch.Chronicle] = []
    kinds: set[str] = set()
    for k in range(SEARCH):  # history 0, then each that adds a kind still missing
        story = ch.write_chronicle(s, model, ch.rerun(model, 1, k, params))
        new = {ev.kind for ev in story.events if list(ev.actors) == [SHE]} - kinds
        if k == 0 or new & NEEDED:
            out.append(story)
            kinds |= new
        if NEEDED <= kinds:
            break
    return out


def test_the_opening_introduces_jiang_qing_as_she(stories: list[ch.Chronicle]) -> None:
    for story in stories:
        hers = next(p for p in story.opening if p.startswith("Jiang Qing "))
        assert "She is" in hers and not HE.search(hers), hers
        assert "ten leaders" in story.opening[0] and "ten men" not in story.opening[0]


def test_no_sentence_about_jiang_qing_calls_her_he(stories: list[ch.Chronicle]) -> None:
    kinds = set()
    for story in stories:
        for ev in story.events:
            if list(ev.actors) != [SHE] or ev.kind in ("office", "promotion"):
                continue  # an office or a seat passing to her is told without a pronoun
            kinds.add(ev.kind)
            for said in (ev.text, *ev.causes):
                assert not HE.search(said), (story.history, ev.kind, said)
        for clause in story.outcome.split(", "):
            if "Jiang Qing" in clause:
                assert not HE.search(clause.split("Jiang Qing", 1)[1]), story.outcome
    assert NEEDED <= kinds, kinds  # the check above was not idle


def test_the_web_retelling_calls_her_she(stories: list[ch.Chronicle]) -> None:
    s = load_scenario("china-1976")
    for story in stories:
        told = [ev for month in retell(ch.to_json(story), s) for ev in month["events"]]
        about_her = [(ev, e) for ev, e in zip(told, story.events, strict=True)
                     if list(e.actors) == [SHE] and e.kind not in ("office", "promotion")]
        for ev, _ in about_her:
            assert not HE.search(ev.text), ev.text


def test_a_name_of_several_words_keeps_its_capital_when_it_leads_a_month() -> None:
    """'In September 1977 Hu Qiaomu ...', not 'In September 1977, hu Qiaomu ...'."""
    from politburo.chronicle.prose import Words, paragraph
    from politburo.scenario.loader import load_scenario

    words = Words.of(load_scenario("china-1976"))
    several = next(n for n in words.names.values() if " " in n)
    out = paragraph("September 1977", [f"{several} left the coalition."], words)
    assert out == f"In September 1977 {several} left the coalition."
    assert paragraph("May 1978", ["The committee met."], words) == "In May 1978 the committee met."
