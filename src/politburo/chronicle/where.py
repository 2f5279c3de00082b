"""A small, safe filter language over simulated outcomes (``politburo chronicle --where EXPR``).

Why parsed, not evaluated: the expression comes from the command line, so it is untrusted text.
Handing it to ``eval``/``exec``/``compile`` (even with stripped builtins) lets ``__class__``
chains, calls and imports reach the interpreter. Instead a hand-written tokenizer and
recursive-descent parser accept only the grammar below, build a tree of small frozen dataclasses,
and an evaluator walks that tree with numpy boolean operations. User text never becomes code,
never names a Python attribute, and every name is checked against fixed lists.

Grammar (EBNF; whitespace separates tokens; keywords and names are case-sensitive)::

    expression := or_expr END
    or_expr    := and_expr { "or" and_expr }
    and_expr   := not_expr { "and" not_expr }
    not_expr   := "not" not_expr | "(" or_expr ")" | comparison
    comparison := "winner" ("==" | "!=") (ACTOR | "none")
                | "consolidation" OP (MONTH | "never")
                | "falls" "." ACTOR "." STEP OP (MONTH | "never")
    OP         := "==" | "!=" | "<" | "<=" | ">" | ">="    (only == and != before "never")
    MONTH      := DDDD "-" DD                               e.g. 1927-12
    ACTOR      := one of the actor ids given to compile_where
    STEP       := politburo | central_committee | party | exile

Precedence: ``not`` > ``and`` > ``or``. Examples: ``winner == trotsky``,
``falls.trotsky.party > 1927-12``, ``winner == stalin and falls.bukharin.politburo < 1928-01``.

Never-semantics: a month comparison against a step (or consolidation) that never happened is
False, except ``!= MONTH``, which is True, so that ``x != M`` is always ``not (x == M)``.
``== never`` is True exactly when the step did not happen; ``!= never`` when it did.

Limits: at most 500 characters, nesting (parentheses and ``not``) at most 20 deep, at most 64
comparisons. Any bad input raises :class:`WhereError` with a one-line message saying what was
expected and the 1-based character position where parsing failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np

from politburo.dates import format_month, parse_month

STEPS: tuple[str, ...] = ("politburo", "central_committee", "party", "exile")
FIELDS: tuple[str, ...] = ("winner", "consolidation", "falls")
KEYWORDS: tuple[str, ...] = ("and", "or", "not", "none", "never")
MAX_LENGTH = 500
MAX_DEPTH = 20
MAX_COMPARISONS = 64

_OPS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less,
    "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
}
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<month>\d[\d-]*)"
    r"|(?P<op>==|!=|<=|>=|<|>)|(?P<punct>[().])",
    re.ASCII,
)
_MONTH_RE = re.compile(r"\d{4}-\d{2}", re.ASCII)
_ACTOR_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_TOKEN_HELP = "a name, a month (YYYY-MM), an operator (== != < <= > >=), '(', ')' or '.'"


class WhereError(ValueError):
    """A ``--where`` expression that is not in the language; ``position`` is 1-based or None."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, eq=False)
class OutcomeArrays:
    """Outcomes of H histories: winner (H,), consolidation (H,), falls (H, P, len(STEPS)).

    ``winner == len(actors)`` means no winner; months are absolute, ``-1`` means never.
    """

    actors: tuple[str, ...]
    winner: np.ndarray
    consolidation: np.ndarray
    falls: np.ndarray

    def __post_init__(self) -> None:
        h = self.winner.shape[0] if self.winner.ndim == 1 else -1
        if h < 0 or self.consolidation.shape != (h,):
            raise ValueError("winner and consolidation must both have shape (H,)")
        if self.falls.shape != (h, len(self.actors), len(STEPS)):
            raise ValueError(f"falls must have shape (H, P, {len(STEPS)}) = "
                             f"({h}, {len(self.actors)}, {len(STEPS)}), got {self.falls.shape}")


@dataclass(frozen=True)
class WinnerCmp:
    op: str  # "==" or "!="
    actor: str | None  # None means "none" (no winner)
    index: int  # column of actor, len(actors) for none

    def evaluate(self, data: OutcomeArrays) -> np.ndarray:
        return np.asarray(_OPS[self.op](data.winner, self.index), dtype=bool)

    def text(self) -> str:
        return f"winner {self.op} {self.actor if self.actor is not None else 'none'}"


@dataclass(frozen=True)
class MonthCmp:
    subject: str  # canonical left side: "consolidation" or "falls.ACTOR.STEP"
    actor: int | None  # None for consolidation
    step: int
    op: str
    month: int | None  # None means "never"

    def evaluate(self, data: OutcomeArrays) -> np.ndarray:
        values = data.consolidation if self.actor is None else data.falls[:, self.actor, self.step]
        happened = np.asarray(values) >= 0
        if self.month is None:
            return ~happened if self.op == "==" else happened
        result = np.asarray(_OPS[self.op](values, self.month), dtype=bool)
        return result | ~happened if self.op == "!=" else result & happened

    def text(self) -> str:
        value = "never" if self.month is None else format_month(self.month)
        return f"{self.subject} {self.op} {value}"


@dataclass(frozen=True)
class Not:
    operand: Node

    def evaluate(self, data: OutcomeArrays) -> np.ndarray:
        return ~self.operand.evaluate(data)

    def text(self) -> str:
        inner = self.operand.text()
        return f"not ({inner})" if isinstance(self.operand, BoolOp) else f"not {inner}"


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" or "or"
    operands: tuple[Node, ...]  # two or more, flattened

    def evaluate(self, data: OutcomeArrays) -> np.ndarray:
        ufunc = np.logical_and if self.op == "and" else np.logical_or
        return reduce(ufunc, (o.evaluate(data) for o in self.operands))

    def text(self) -> str:  # "or" inside "and" is the only case that needs parentheses
        return f" {self.op} ".join(f"({o.text()})" if isinstance(o, BoolOp) and o.op != self.op
                                   else o.text() for o in self.operands)


Node = WinnerCmp | MonthCmp | Not | BoolOp


@dataclass(frozen=True)
class _Token:
    kind: str  # name, month, op, punct, end
    text: str
    pos: int  # 0-based


def _tokenize(text: str) -> Iterator[_Token]:
    """Yield tokens lazily, so an error is reported where parsing actually failed."""
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = {"'": "; strings are not supported, write names without quotes",
                    '"': "; strings are not supported, write names without quotes",
                    "=": "; use '==' for equality"}.get(ch, "")
            raise WhereError(f"unexpected character {ch!r} at position {pos + 1}; "
                             f"expected {_TOKEN_HELP}{hint}", pos + 1)
        kind, value = m.lastgroup or "", m.group()
        if kind == "name" and m.end() < len(text) and text[m.end()].isalnum():
            pos = m.end()  # a non-ASCII letter or digit glued to a name
            raise WhereError(f"unexpected character {text[pos]!r} at position {pos + 1}; "
                             f"expected {_TOKEN_HELP}", pos + 1)
        if kind == "name" and value.startswith("_"):
            raise WhereError(f"name {value!r} at position {pos + 1} starts with '_' and is not "
                             "allowed; expected a field, actor, step or keyword", pos + 1)
        if kind == "month" and not _MONTH_RE.fullmatch(value):
            raise WhereError(f"expected a month as YYYY-MM at position {pos + 1}, "
                             f"got {value!r}", pos + 1)
        if kind != "ws":
            yield _Token(kind, value, pos)
        pos = m.end()
    yield _Token("end", "", len(text))


class _Parser:
    def __init__(self, text: str, actors: tuple[str, ...]) -> None:
        self.tokens = _tokenize(text)
        self.current: _Token | None = None  # fetched on demand, so errors point where parsing fails
        self.actors = actors
        self.comparisons = 0

    def peek(self) -> _Token:
        if self.current is None:
            self.current = next(self.tokens)
        return self.current

    def advance(self) -> _Token:
        tok = self.peek()
        if tok.kind != "end":
            self.current = None
        return tok

    def fail(self, expected: str, tok: _Token) -> WhereError:
        got = "end of expression" if tok.kind == "end" else repr(tok.text)
        return WhereError(f"expected {expected} at position {tok.pos + 1}, got {got}", tok.pos + 1)

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text == word

    def parse(self) -> Node:
        node = self.or_expr(0)
        if self.peek().kind != "end":
            raise self.fail("'and', 'or' or end of expression", self.peek())
        return node

    def or_expr(self, depth: int) -> Node:
        return self.chain("or", lambda: self.and_expr(depth))

    def and_expr(self, depth: int) -> Node:
        return self.chain("and", lambda: self.not_expr(depth))

    def chain(self, word: str, operand: Callable[[], Node]) -> Node:
        items = [operand()]
        while self.is_word(word):
            self.advance()
            items.append(operand())
        flat = tuple(x for n in items for x in
                     (n.operands if isinstance(n, BoolOp) and n.op == word else (n,)))
        return flat[0] if len(flat) == 1 else BoolOp(word, flat)

    def not_expr(self, depth: int) -> Node:
        tok = self.peek()
        if self.is_word("not") or (tok.kind == "punct" and tok.text == "("):
            if depth >= MAX_DEPTH:
                raise WhereError(f"expression nests deeper than {MAX_DEPTH} levels at position "
                                 f"{tok.pos + 1}; expected at most {MAX_DEPTH} nested "
                                 "parentheses/'not'", tok.pos + 1)
            self.advance()
            if tok.text == "not":
                return Not(self.not_expr(depth + 1))
            node = self.or_expr(depth + 1)
            self.expect("punct", (")",), "')' or 'and'/'or'")
            return node
        return self.comparison()

    def expect(self, kind: str, allowed: Sequence[str], expected: str) -> str:
        tok = self.advance()
        if tok.kind != kind or tok.text not in allowed:
            raise self.fail(expected, tok)
        return tok.text

    def name_in(self, what: str, allowed: Sequence[str]) -> str:
        tok = self.advance()
        if tok.kind == "name" and tok.text in allowed:
            return tok.text
        listing = ", ".join(allowed)
        if tok.kind == "name":
            raise WhereError(f"unknown {what} {tok.text!r} at position {tok.pos + 1}; "
                             f"expected one of: {listing}", tok.pos + 1)
        raise self.fail(f"{what} (one of: {listing})", tok)

    def comparison(self) -> Node:
        start = self.peek()
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise WhereError(f"more than {MAX_COMPARISONS} comparisons at position "
                             f"{start.pos + 1}; expected at most {MAX_COMPARISONS}", start.pos + 1)
        if start.kind != "name" or start.text not in FIELDS:
            allowed = "winner, consolidation, falls.ACTOR.STEP, 'not' or '('"
            if start.kind == "name" and start.text not in KEYWORDS:
                raise WhereError(f"unknown field {start.text!r} at position {start.pos + 1}; "
                                 f"expected one of: {allowed}", start.pos + 1)
            raise self.fail(f"a comparison ({allowed})", start)
        field = self.advance().text
        if field == "winner":
            op = self.expect("op", ("==", "!="), "an operator (== !=)")
            actor = self.name_in("actor", (*self.actors, "none"))
            index = len(self.actors) if actor == "none" else self.actors.index(actor)
            return WinnerCmp(op, None if actor == "none" else actor, index)
        actor_index: int | None = None
        step_index, subject = 0, "consolidation"
        if field == "falls":
            self.expect("punct", (".",), "'.' after 'falls' (falls.ACTOR.STEP)")
            actor = self.name_in("actor", self.actors)
            self.expect("punct", (".",), f"'.' after 'falls.{actor}' (falls.ACTOR.STEP)")
            step = self.name_in("step", STEPS)
            actor_index, step_index = self.actors.index(actor), STEPS.index(step)
            subject = f"falls.{actor}.{step}"
        op_pos = self.peek().pos + 1
        op = self.expect("op", tuple(_OPS), "an operator (== != < <= > >=)")
        tok = self.advance()
        if tok.kind == "name" and tok.text == "never":
            if op not in ("==", "!="):
                raise WhereError(f"operator {op!r} at position {op_pos} cannot compare with "
                                 "'never'; expected '==' or '!='", op_pos)
            return MonthCmp(subject, actor_index, step_index, op, None)
        if tok.kind != "month":
            raise self.fail("a month as YYYY-MM or 'never'", tok)
        try:
            month = parse_month(tok.text)
        except ValueError:
            raise self.fail("a month as YYYY-MM with MM in 01-12", tok) from None
        return MonthCmp(subject, actor_index, step_index, op, month)


def _check_actors(actors: Sequence[str]) -> tuple[str, ...]:
    names = tuple(actors)
    for name in names:
        if (not isinstance(name, str) or not _ACTOR_RE.fullmatch(name)
                or name in KEYWORDS or name in FIELDS):
            raise WhereError(f"invalid actor id {name!r}; expected a plain name that is not a "
                             "keyword or field")
    if len(set(names)) != len(names):
        raise WhereError(f"duplicate actor ids in {names!r}")
    return names


def parse(expr: str, actors: Sequence[str]) -> Node:
    """Parse ``expr`` into a tree of frozen dataclasses, or raise :class:`WhereError`."""
    if not isinstance(expr, str):
        raise WhereError(f"expected the expression as text, got {type(expr).__name__}")
    if len(expr) > MAX_LENGTH:
        raise WhereError(f"expression is {len(expr)} characters long at position "
                         f"{MAX_LENGTH + 1}; expected at most {MAX_LENGTH}", MAX_LENGTH + 1)
    if not expr.strip():
        raise WhereError("expected a condition such as 'winner == none' or 'winner == ID' at "
                         "position 1, got an empty expression", 1)
    return _Parser(expr, _check_actors(actors)).parse()


@dataclass(frozen=True)
class WherePredicate:
    """A compiled expression: call it on :class:`OutcomeArrays` to get a bool mask (H,)."""

    node: Node
    actors: tuple[str, ...]

    def __call__(self, data: OutcomeArrays) -> np.ndarray:
        if tuple(data.actors) != self.actors:
            raise WhereError(f"outcomes have actors {tuple(data.actors)!r}, but the expression "
                             f"was compiled for {self.actors!r}")
        return np.asarray(self.node.evaluate(data), dtype=bool)


def compile_where(expr: str, actors: Sequence[str]) -> Callable[[OutcomeArrays], np.ndarray]:
    """Parse ``expr`` against ``actors``; return a vectorised predicate giving a bool mask (H,)."""
    return WherePredicate(parse(expr, actors), tuple(actors))


def describe(expr: str, actors: Sequence[str]) -> str:
    """Return the canonical text of the parsed expression (normalised spacing and parentheses)."""
    return parse(expr, actors).text()
