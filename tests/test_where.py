"""Tests for the ``--where`` filter language (politburo.chronicle.where)."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if importlib.util.find_spec("politburo") is None:  # not installed: use the src layout directly
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from politburo.chronicle import where  # noqa: E402
from politburo.chronicle.where import STEPS, OutcomeArrays, WhereError, compile_where, describe
from politburo.dates import parse_month  # noqa: E402

ACTORS = ("stalin", "trotsky", "zinoviev", "kamenev", "bukharin", "rykov", "tomsky")
NONE = len(ACTORS)
NEVER = -1


def m(text: str) -> int:
    return parse_month(text)


def make(winner: list[int], consolidation: list[int],
         falls: dict[tuple[str, str], list[int]]) -> OutcomeArrays:
    h = len(winner)
    arr = np.full((h, len(ACTORS), len(STEPS)), NEVER, dtype=np.int64)
    for (actor, step), months in falls.items():
        arr[:, ACTORS.index(actor), STEPS.index(step)] = months
    return OutcomeArrays(ACTORS, np.array(winner, dtype=np.int64),
                         np.array(consolidation, dtype=np.int64), arr)


# Four hand-made histories:
#   h0: Stalin wins, consolidates 1929-12; Trotsky expelled 1927-11; Bukharin off PB 1929-11
#   h1: Trotsky wins, consolidates 1925-01; Trotsky never expelled; Bukharin never off PB
#   h2: no winner, never consolidates; Trotsky expelled 1928-01; Bukharin off PB 1927-12
#   h3: Stalin wins, consolidates 1928-06; Trotsky expelled 1927-12; Bukharin off PB 1927-10
DATA = make(
    winner=[0, 1, NONE, 0],
    consolidation=[m("1929-12"), m("1925-01"), NEVER, m("1928-06")],
    falls={
        ("trotsky", "party"): [m("1927-11"), NEVER, m("1928-01"), m("1927-12")],
        ("bukharin", "politburo"): [m("1929-11"), NEVER, m("1927-12"), m("1927-10")],
    },
)


def run(expr: str, data: OutcomeArrays = DATA) -> list[bool]:
    mask = compile_where(expr, ACTORS)(data)
    assert mask.dtype == np.bool_ and mask.shape == data.winner.shape
    return [bool(x) for x in mask]


T, F = True, False


# --- the three example expressions ---------------------------------------------------------

def test_example_winner_is_trotsky() -> None:
    assert run("winner == trotsky") == [F, T, F, F]


def test_example_trotsky_expelled_after_1927_12() -> None:
    assert run("falls.trotsky.party > 1927-12") == [F, F, T, F]


def test_example_stalin_wins_and_bukharin_falls_early() -> None:
    assert run("winner == stalin and falls.bukharin.politburo < 1928-01") == [F, F, F, T]


# --- each operator ------------------------------------------------------------------------

@pytest.mark.parametrize(("expr", "expected"), [
    ("winner == stalin", [T, F, F, T]),
    ("winner != stalin", [F, T, T, F]),
    ("winner == none", [F, F, T, F]),
    ("winner != none", [T, T, F, T]),
    ("winner == rykov", [F, F, F, F]),
])
def test_winner_operators(expr: str, expected: list[bool]) -> None:
    assert run(expr) == expected


@pytest.mark.parametrize(("op", "expected"), [
    # falls.trotsky.party = [1927-11, never, 1928-01, 1927-12]; compare with 1927-12
    ("==", [F, F, F, T]),
    ("!=", [T, T, T, F]),  # never != 1927-12 is True (documented)
    ("<", [T, F, F, F]),
    ("<=", [T, F, F, T]),
    (">", [F, F, T, F]),
    (">=", [F, F, T, T]),
])
def test_falls_month_operators(op: str, expected: list[bool]) -> None:
    assert run(f"falls.trotsky.party {op} 1927-12") == expected


@pytest.mark.parametrize(("op", "expected"), [
    # consolidation = [1929-12, 1925-01, never, 1928-06]; compare with 1928-06
    ("==", [F, F, F, T]),
    ("!=", [T, T, T, F]),
    ("<", [F, T, F, F]),
    ("<=", [F, T, F, T]),
    (">", [T, F, F, F]),
    (">=", [T, F, F, T]),
])
def test_consolidation_month_operators(op: str, expected: list[bool]) -> None:
    assert run(f"consolidation {op} 1928-06") == expected


# --- never-semantics ----------------------------------------------------------------------

def test_never_presence_tests() -> None:
    assert run("falls.trotsky.party == never") == [F, T, F, F]
    assert run("falls.trotsky.party != never") == [T, F, T, T]
    assert run("consolidation == never") == [F, F, T, F]
    assert run("consolidation != never") == [T, T, F, T]
    assert run("falls.rykov.exile == never") == [T, T, T, T]


def test_step_that_never_happened_fails_every_month_comparison_except_not_equal() -> None:
    for op in ("==", "<", "<=", ">", ">="):
        assert run(f"falls.rykov.exile {op} 1926-01") == [F, F, F, F], op
    assert run("falls.rykov.exile != 1926-01") == [T, T, T, T]
    # "!=" is exactly the negation of "==", and "<" is not the negation of ">="
    assert run("falls.trotsky.party != 1928-01") == run("not falls.trotsky.party == 1928-01")
    assert run("falls.trotsky.party < 1928-01") != run("not falls.trotsky.party >= 1928-01")


def test_month_at_epoch_zero_still_distinguishes_never() -> None:
    data = make([0, 0], [0, NEVER], {})
    assert run("consolidation <= 0000-01", data) == [T, F]
    assert run("consolidation < 0000-02", data) == [T, F]


# --- boolean operators, precedence, parentheses --------------------------------------------

def test_or_and_not() -> None:
    assert run("winner == trotsky or winner == none") == [F, T, T, F]
    assert run("winner == stalin and consolidation > 1929-01") == [T, F, F, F]
    assert run("not winner == stalin") == [F, T, T, F]
    assert run("not not winner == stalin") == [T, F, F, T]


def test_and_binds_tighter_than_or() -> None:
    assert run("winner == stalin or winner == trotsky and consolidation > 1929-01") == [T, F, F, T]
    assert run("(winner == stalin or winner == trotsky) and consolidation > 1929-01") == [
        T, F, F, F]
    assert run("consolidation > 1929-01 and winner == trotsky or winner == stalin") == [
        T, F, F, T]


def test_not_binds_tighter_than_and() -> None:
    assert run("not winner == stalin and consolidation == never") == [F, F, T, F]
    assert run("not (winner == stalin and consolidation == never)") == [T, T, T, T]


def test_whitespace_is_flexible() -> None:
    assert run("(winner==stalin)and(falls.bukharin.politburo<1928-01)") == [F, F, F, T]
    assert run("\twinner  ==\n trotsky ") == [F, T, F, F]


def test_describe_is_canonical_and_idempotent() -> None:
    text = describe("(winner==stalin)and((winner==trotsky)or consolidation   ==never)", ACTORS)
    assert text == "winner == stalin and (winner == trotsky or consolidation == never)"
    assert describe(text, ACTORS) == text
    assert describe("(winner == none) and not (winner == stalin or "
                    "falls.kamenev.central_committee >= 1926-10)", ACTORS) == (
        "winner == none and not (winner == stalin or falls.kamenev.central_committee >= 1926-10)")
    assert describe("((winner == stalin and winner == none) and winner == rykov)", ACTORS) == (
        "winner == stalin and winner == none and winner == rykov")


def test_empty_history_axis() -> None:
    data = make([], [], {})
    assert run("winner == stalin or consolidation == never", data) == []


def test_limits_are_inclusive() -> None:
    expr = "(" * 20 + "winner == stalin" + ")" * 20
    assert run(expr) == [T, F, F, T]
    assert run("not " * 20 + "winner == stalin") == [T, F, F, T]
    exactly_500 = ("winner==none or " * 30 + "winner==stalin").ljust(500)
    assert run(exactly_500) == [T, F, T, T]
    with pytest.raises(WhereError, match="501 characters long at position 501"):
        compile_where(exactly_500 + " ", ACTORS)


# --- property tests -----------------------------------------------------------------------

MONTHS = st.integers(min_value=parse_month("1922-01"), max_value=parse_month("1931-12"))
MONTH_OR_NEVER = st.one_of(st.just(NEVER), MONTHS)


@st.composite
def outcome_arrays(draw: st.DrawFn) -> OutcomeArrays:
    h = draw(st.integers(min_value=0, max_value=6))
    winner = draw(st.lists(st.integers(0, NONE), min_size=h, max_size=h))
    cons = draw(st.lists(MONTH_OR_NEVER, min_size=h, max_size=h))
    flat = draw(st.lists(MONTH_OR_NEVER, min_size=h * len(ACTORS) * len(STEPS),
                         max_size=h * len(ACTORS) * len(STEPS)))
    falls = np.array(flat, dtype=np.int64).reshape(h, len(ACTORS), len(STEPS))
    return OutcomeArrays(ACTORS, np.array(winner, dtype=np.int64),
                         np.array(cons, dtype=np.int64), falls)


OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
MONTH_TEXT = st.sampled_from(["1923-04", "1925-01", "1926-10", "1927-12", "1928-01", "1929-11"])
COMPARISONS = st.one_of(
    st.builds(lambda o, a: f"winner {o} {a}", st.sampled_from(["==", "!="]),
              st.sampled_from([*ACTORS, "none"])),
    st.builds(lambda o, v: f"consolidation {o} {v}", OPS, MONTH_TEXT),
    st.builds(lambda o: f"consolidation {o} never", st.sampled_from(["==", "!="])),
    st.builds(lambda a, s, o, v: f"falls.{a}.{s} {o} {v}", st.sampled_from(ACTORS),
              st.sampled_from(STEPS), OPS, st.one_of(MONTH_TEXT, st.just("never")))
    .filter(lambda e: not e.endswith("never") or e.split()[1] in ("==", "!=")),
)
EXPRESSIONS = st.recursive(
    COMPARISONS,
    lambda inner: st.one_of(
        st.builds(lambda a: f"not ({a})", inner),
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    ),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None)
@given(data=outcome_arrays(), a=EXPRESSIONS, b=EXPRESSIONS)
def test_boolean_algebra_property(data: OutcomeArrays, a: str, b: str) -> None:
    ma = compile_where(a, ACTORS)(data)
    mb = compile_where(b, ACTORS)(data)
    np.testing.assert_array_equal(compile_where(f"not ({a})", ACTORS)(data), ~ma)
    np.testing.assert_array_equal(compile_where(f"({a}) and ({b})", ACTORS)(data), ma & mb)
    np.testing.assert_array_equal(compile_where(f"({a}) or ({b})", ACTORS)(data), ma | mb)
    canonical = describe(a, ACTORS)
    assert describe(canonical, ACTORS) == canonical
    np.testing.assert_array_equal(compile_where(canonical, ACTORS)(data), ma)


def reference(expr: str, data: OutcomeArrays, h: int) -> bool:
    """Scalar reference semantics for one comparison, for the property below."""
    left, op, right = expr.split()
    if left == "winner":
        value = NONE if right == "none" else ACTORS.index(right)
        return (int(data.winner[h]) == value) == (op == "==")
    if left == "consolidation":
        month = int(data.consolidation[h])
    else:
        _, actor, step = left.split(".")
        month = int(data.falls[h, ACTORS.index(actor), STEPS.index(step)])
    if right == "never":
        return (month == NEVER) == (op == "==")
    if month == NEVER:
        return op == "!="
    target = parse_month(right)
    return {"==": month == target, "!=": month != target, "<": month < target,
            "<=": month <= target, ">": month > target, ">=": month >= target}[op]


@settings(max_examples=150, deadline=None)
@given(data=outcome_arrays(), expr=COMPARISONS)
def test_comparison_matches_scalar_reference(data: OutcomeArrays, expr: str) -> None:
    mask = compile_where(expr, ACTORS)(data)
    assert mask.tolist() == [reference(expr, data, h) for h in range(data.winner.shape[0])]


# --- hostile and malformed input ----------------------------------------------------------

HOSTILE = [
    ("__import__('os').system('x')", ["'__import__'", "position 1", "expected"]),
    ("winner.__class__", ["expected an operator (== !=)", "position 7", "got '.'"]),
    ("__class__", ["'__class__'", "position 1", "starts with '_'"]),
    ("open('f')", ["unknown field 'open'", "position 1", "winner, consolidation"]),
    ("exec", ["unknown field 'exec'", "position 1", "expected one of"]),
    ("lambda: 1", ["unknown field 'lambda'", "position 1"]),
    ("winner == trotsky; import os", ["';'", "position 18", "expected"]),
    ('"stalin"', ["'\"'", "position 1", "strings are not supported"]),
    ("x" * 10_000, ["10000 characters", "at most 500"]),
    ("(" * 1000 + "winner == stalin" + ")" * 1000, ["characters", "at most 500"]),
    ("(" * 30 + "winner == stalin" + ")" * 30, ["deeper than 20", "position 21"]),
    ("not " * 21 + "winner == stalin", ["deeper than 20", "position 81"]),
    ("", ["empty", "position 1", "expected a condition"]),
    ("   ", ["empty", "position 1"]),
    ("winner == lenin", ["unknown actor 'lenin'", "position 11", "stalin, trotsky", "none"]),
    ("falls.lenin.party == never", ["unknown actor 'lenin'", "position 7", "tomsky"]),
    ("falls.trotsky.gulag < 1927-01", ["unknown step 'gulag'", "position 15",
                                       "politburo, central_committee, party, exile"]),
    ("loser == stalin", ["unknown field 'loser'", "winner, consolidation, falls.ACTOR.STEP"]),
    ("winner > stalin", ["expected an operator (== !=)", "position 8", "'>'"]),
    ("winner = stalin", ["'='", "position 8", "use '=='"]),
    ("winner == stalin and", ["expected a comparison", "position 21", "end of expression"]),
    ("winner == stalin and and winner == none", ["expected a comparison", "position 22"]),
    ("(winner == stalin", ["expected ')'", "position 18"]),
    ("winner == stalin)", ["'and', 'or' or end of expression", "position 17", "')'"]),
    ("winner == stalin trotsky", ["'and', 'or' or end", "position 18", "'trotsky'"]),
    ("consolidation > 1927", ["YYYY-MM", "position 17", "'1927'"]),
    ("consolidation > 1927-13", ["MM in 01-12", "position 17", "'1927-13'"]),
    ("consolidation > 1927-12-01", ["YYYY-MM", "position 17"]),
    ("consolidation > stalin", ["a month as YYYY-MM or 'never'", "position 17"]),
    ("falls.trotsky.party < never", ["'<'", "position 21", "cannot compare with 'never'"]),
    ("falls.trotsky == never", ["'.' after 'falls.trotsky'", "position 15"]),
    ("falls[0]", ["'['", "position 6"]),
    ("winner == stálin", ["'á'", "position 13"]),
    ("winner == trotsky\x00", ["'\\x00'", "position 18"]),
    ("winner == none or 1", ["YYYY-MM", "position 19"]),
    ("_winner == none", ["'_winner'", "starts with '_'"]),
    ("winner == stalin or winner.__globals__", ["'.'", "position 27", "operator"]),
]


@pytest.mark.parametrize(("expr", "fragments"), HOSTILE, ids=lambda x: repr(x)[:40])
def test_hostile_input_raises_where_error(expr: str, fragments: list[str]) -> None:
    with pytest.raises(WhereError) as info:
        compile_where(expr, ACTORS)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "\n" not in message and "expected" in message
    assert isinstance(info.value, ValueError)
    with pytest.raises(WhereError):
        describe(expr, ACTORS)


def test_errors_carry_the_failing_position() -> None:
    with pytest.raises(WhereError) as info:
        compile_where("winner == stalin and falls.bukharin.politbureau == never", ACTORS)
    assert info.value.position == 37
    assert "position 37" in str(info.value)


def test_nesting_limit_is_not_a_recursion_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(where, "MAX_LENGTH", 10**6)
    for expr in ("(" * 1000 + "winner == stalin" + ")" * 1000, "not " * 5000 + "winner == none"):
        with pytest.raises(WhereError, match="deeper than 20"):
            compile_where(expr, ACTORS)


def test_comparison_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(where, "MAX_LENGTH", 10**6)
    assert run(" or ".join(["winner == trotsky"] * 64)) == [F, T, F, F]
    with pytest.raises(WhereError, match="more than 64 comparisons at position 1345"):
        compile_where(" or ".join(["winner == trotsky"] * 65), ACTORS)


def test_non_text_expression_and_bad_actor_lists() -> None:
    with pytest.raises(WhereError, match="expected the expression as text"):
        compile_where(42, ACTORS)  # type: ignore[arg-type]
    for actors in (("stalin", "and"), ("stalin", "winner"), ("stalin", "__x"), ("a", "a"),
                   ("stalin", "o'brien")):
        with pytest.raises(WhereError):
            compile_where("winner == none", actors)


def test_predicate_rejects_outcomes_for_other_actors() -> None:
    predicate = compile_where("winner == stalin", ACTORS[:3])
    with pytest.raises(WhereError, match="compiled for"):
        predicate(DATA)


def test_outcome_arrays_checks_shapes() -> None:
    with pytest.raises(ValueError, match="falls must have shape"):
        OutcomeArrays(ACTORS, np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64),
                      np.zeros((2, 3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"shape \(H,\)"):
        OutcomeArrays(ACTORS, np.zeros(2, dtype=np.int64), np.zeros(3, dtype=np.int64),
                      np.zeros((2, 7, 4), dtype=np.int64))


# --- nothing is evaluated -----------------------------------------------------------------

def test_works_with_eval_exec_compile_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("user text must never reach eval/exec/compile")

    with monkeypatch.context() as patch:
        for name in ("eval", "exec", "compile", "__import__"):
            patch.setattr(builtins, name, forbidden)
        predicate = compile_where("winner == stalin and falls.bukharin.politburo < 1928-01",
                                  ACTORS)
        mask = predicate(DATA).tolist()
        text = describe("not (winner==trotsky or consolidation==never)", ACTORS)
        try:
            compile_where("__import__('os').system('x')", ACTORS)
            error = ""
        except WhereError as exc:
            error = str(exc)
    assert mask == [F, F, F, T]
    assert text == "not (winner == trotsky or consolidation == never)"
    assert "'__import__'" in error


def test_module_source_has_no_dynamic_evaluation() -> None:
    source = Path(where.__file__).read_text(encoding="utf-8")
    banned = {"eval", "exec", "compile", "getattr", "setattr", "__import__", "literal_eval",
              "import_module"}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            assert node.id not in banned, node.id
        if isinstance(node, ast.Attribute) and node.attr in banned:
            # only re.compile of our own constant patterns is allowed
            assert node.attr == "compile" and isinstance(node.value, ast.Name)
            assert node.value.id == "re"
