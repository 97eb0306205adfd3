"""Row filters: parsed to a few checked forms, rendered as Hive text that keeps every value data, typed for Hive columns."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from ddb_datapipeline.definition.filters import (
    BoolOp,
    Comparison,
    FilterError,
    InList,
    IsNull,
    attributes,
    column_types,
    describe,
    parse_filter,
    to_hive,
)


def filter_error(text: str) -> str:
    """The one-line message parse_filter refuses ``text`` with."""
    with pytest.raises(FilterError) as raised:
        parse_filter(text)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    return message


def types_error(text: str, declared: dict[str, str] | None = None) -> str:
    with pytest.raises(FilterError) as raised:
        column_types(parse_filter(text), declared or {})
    message = str(raised.value)
    assert "\n" not in message
    return message


# --- Parsing and rendering ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, hive", [
    ("status = 'active'", "`status` = 'active'"),
    ("status <> 'active'", "`status` <> 'active'"),
    ("status != 'active'", "`status` <> 'active'"),
    ("total < -2.50", "`total` < -2.50"),
    ("total <= 3", "`total` <= 3"),
    ("total > 0.5", "`total` > 0.5"),
    ("total >= 10", "`total` >= 10"),
    ("total = 007", "`total` = 7"),
    ("tier IN ('gold', 'silver')", "`tier` IN ('gold', 'silver')"),
    ("size in (1,2.5 , -3)", "`size` IN (1, 2.5, -3)"),
    ("deleted_at IS NULL", "`deleted_at` IS NULL"),
    ("deleted_at IS NOT NULL", "`deleted_at` IS NOT NULL"),
    ("name = 'it''s'", "`name` = 'it\\'s'"),
    ("name = ''", "`name` = ''"),
    ("a = 1 and b = 'x' and c is null", "`a` = 1 AND `b` = 'x' AND `c` IS NULL"),
    ("a = 1 or b = 2 and c = 3", "`a` = 1 OR (`b` = 2 AND `c` = 3)"),
    ("a = 1 and b = 2 or c = 3", "(`a` = 1 AND `b` = 2) OR `c` = 3"),
    ("(a = 1 or b = 2) and c = 3", "(`a` = 1 OR `b` = 2) AND `c` = 3"),
    ("((a = 1))", "`a` = 1"),
    ("(a=1)and(b<>'x')or c IS NULL", "(`a` = 1 AND `b` <> 'x') OR `c` IS NULL"),
    ("a = 1\n\tand b = 2", "`a` = 1 AND `b` = 2"),
])
def test_each_form_renders_as_hive(text: str, hive: str) -> None:
    assert to_hive(parse_filter(text)) == hive


def test_forms_parse_to_their_predicates() -> None:
    assert parse_filter("a != 1") == Comparison("a", "<>", Decimal("1"))
    assert parse_filter("a = 'x'") == Comparison("a", "=", "x")
    assert parse_filter("a IN ('x', 2)") == InList("a", ("x", Decimal("2")))
    assert parse_filter("a IS NULL") == IsNull("a", negated=False)
    assert parse_filter("a IS NOT NULL") == IsNull("a", negated=True)


def test_and_binds_tighter_than_or() -> None:
    a, b, c = (Comparison(name, "=", Decimal(1)) for name in "abc")
    assert parse_filter("a = 1 or b = 1 and c = 1") == BoolOp("or", (a, BoolOp("and", (b, c))))
    assert parse_filter("(a = 1 or b = 1) and c = 1") == BoolOp("and", (BoolOp("or", (a, b)), c))


@pytest.mark.parametrize("text", ["a = 1 and b = 1 and c = 1", "(a = 1 and b = 1) and c = 1", "a = 1 and (b = 1 and c = 1)"])
def test_a_chain_of_one_operator_is_one_flat_boolop(text: str) -> None:
    a, b, c = (Comparison(name, "=", Decimal(1)) for name in "abc")
    assert parse_filter(text) == BoolOp("and", (a, b, c))


@pytest.mark.parametrize("text", [
    "a = 1 AND b IS NOT NULL OR c IN (1)",
    "a = 1 and b is not null or c in (1)",
    "a = 1 AnD b iS nOt NuLl Or c In (1)",
])
def test_keywords_in_any_case(text: str) -> None:
    assert to_hive(parse_filter(text)) == "(`a` = 1 AND `b` IS NOT NULL) OR `c` IN (1)"


def test_attribute_names_keep_their_case() -> None:
    assert to_hive(parse_filter("createdAt > 5")) == "`createdAt` > 5"


# --- Errors: one line, with the position --------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("", "empty filter at 1"),
    ("   ", "empty filter at 1"),
    ("a = 1 $", "unknown character '$' at 7"),
    ("a ! 1", "unknown character '!' at 3"),
    ("a = 'open", "unterminated string starting at 5"),
    ("a = 'it''s", "unterminated string starting at 5"),
    ("a =", "expected a value at 4, found the end of the filter"),
    ("a = 1 and", "expected an attribute name or '(' at 10"),
    ("and a = 1", "attribute name 'and' at 1 is a keyword"),
    ("a 1", "expected an operator, IN or IS after 'a' at 3"),
    ("a IS NOTNULL", "expected NULL (IS NULL or IS NOT NULL) at 6"),
    ("(a = 1", "expected ')' at 7 to close the '(' at 1"),
    ("a = 1)", "unexpected ')' at 6 after a complete filter"),
    ("a = 1 b = 2", "unexpected 'b' at 7 after a complete filter"),
    ("a IN 1", "expected '(' at 6 to open the IN list"),
    ("a IN (1", "expected ',' or ')' at 8 in the IN list opened at 6"),
    ("a IN ('x',)", "expected a value at 11, found ')'"),
    ("a = 1e5", "expected a value at 5, found '1e5'"),
    ("a = +5", "unknown character '+' at 5"),
    ("a = true", "expected a value at 5, found 'true'"),
    ("first-name = 'x'", "attribute name 'first-name' at 1 must match [A-Za-z_][A-Za-z0-9_]*, because Hive names columns that way"),
    ("user.name = 'x'", "attribute name 'user.name' at 1 must match [A-Za-z_][A-Za-z0-9_]*"),
    ("a = 1 and 2fa = 1", "attribute name '2fa' at 11 must match [A-Za-z_][A-Za-z0-9_]*"),
    ("NULL IS NULL", "attribute name 'NULL' at 1 is a keyword"),
    ("a = 1 or In = 2", "attribute name 'In' at 10 is a keyword"),
    ("a IN ()", "empty IN list at 6"),
])
def test_each_mistake_is_one_line_naming_its_position(text: str, expected: str) -> None:
    assert expected in filter_error(text)


@pytest.mark.parametrize("keyword", ["and", "or", "in", "is", "not", "null", "NOT"])
def test_a_keyword_is_not_an_attribute(keyword: str) -> None:
    assert f"attribute name '{keyword}' at 1 is a keyword" in filter_error(f"{keyword} = 1")


def test_limits_are_inclusive() -> None:
    parse_filter("a IN (" + ", ".join(["1"] * 100) + ")")
    parse_filter(" or ".join(["a = 1"] * 50))
    parse_filter("(" * 10 + "a = 1" + ")" * 10)
    parse_filter("a" * 255 + " = 1")
    parse_filter("a = '" + "x" * 1024 + "'")
    parse_filter("a = " + "9" * 38)
    parse_filter("a = -" + "9" * 19 + "." + "9" * 19)


@pytest.mark.parametrize("text, expected", [
    ("a IN (" + ", ".join(["1"] * 101) + ")", "IN list value 101 at 307 is one too many; an IN list has at most 100 values"),
    (" or ".join(["a = 1"] * 51), "test 51 (of 'a') at 451 is one too many; a filter has at most 50 tests"),
    ("(" * 11 + "a = 1" + ")" * 11, "'(' at 11 nests 11 deep; parentheses nest at most 10 deep"),
    ("a" * 256 + " = 1", "at 1 is 256 characters long; an attribute name has at most 255"),
    ("a = '" + "x" * 1025 + "'", "at 5 is 1025 characters long; a string has at most 1024"),
    ("a = " + "9" * 39, "at 5 has 39 digits; a number has at most 38"),
    ("a = 1." + "0" * 38, "at 5 has 39 digits"),
])
def test_limits(text: str, expected: str) -> None:
    message = filter_error(text)
    assert expected in message
    assert len(message) < 400  # a long value is shortened in the message


# --- Injection: what would be code somewhere is refused, what is data stays data ----------------------
def test_a_value_closing_its_quote_stays_one_string() -> None:
    predicate = parse_filter("x = 'x'' or ''1''=''1'")
    assert predicate == Comparison("x", "=", "x' or '1'='1")
    assert to_hive(predicate) == "`x` = 'x\\' or \\'1\\'=\\'1'"
    assert describe(predicate) == "x is 'x'' or ''1''=''1'"


def test_an_unquoted_or_after_a_value_is_not_a_test() -> None:
    assert "expected an attribute name or '(' at 12, found the string '1'" in filter_error("x = 'x' or '1'='1'")


def test_a_quote_in_a_value_is_escaped_for_hive() -> None:
    assert to_hive(parse_filter("name = 'it''s'")) == "`name` = 'it\\'s'"
    assert to_hive(parse_filter("name IN ('it''s', '''')")) == "`name` IN ('it\\'s', '\\'')"


@pytest.mark.parametrize("text, expected", [
    ("a = 'x#{y}'", "string 'x#{y}' at 5 contains '#{'"),
    ("a = '#{format(@scheduledStartTime, \"YYYY\")}'", "at 5 contains '#{', which a value cannot hold: Data Pipeline would evaluate it"),
    ("a IN ('ok', '#{x}')", "string '#{x}' at 13 contains '#{'"),
    ("a = 'x\ny'", "string 'xU+000Ay' at 5 contains the control character U+000A"),
    ("a = 'x\r'", "contains the control character U+000D"),
    ("a = 'x\ty'", "contains the control character U+0009"),
    ("a = 'x\x00'", "contains the control character U+0000"),
    ("a = 'x\u2028'", "contains the control character U+2028"),
    ("a = 'x\\y'", "string 'x\\y' at 5 contains a backslash"),
    ("a = 'x\\' or b = 1", "string 'x\\' at 5 contains a backslash"),  # a backslash does not escape the quote after it
    ("a = '${hiveconf:x}'", "string '${hiveconf:x}' at 5 contains '${'"),
    ("a = 'x'';DROP TABLE t;--'", "at 5 contains ';'"),
    ("a; DROP TABLE x", "unknown character ';' at 2"),
    ("`a` = 1", "unknown character '`' at 1"),
    ("a` = 1 or `b = 1", "unknown character '`' at 2"),
    ('"a" = 1', "unknown character '\"' at 1"),
    ("#{x} = 1", "unknown character '#' at 1"),
    ("a = 1 -- comment", "unexpected '--' at 7"),
    ("a = 1 /* x */", "unknown character '/' at 7"),
])
def test_unsafe_text_is_refused(text: str, expected: str) -> None:
    assert expected in filter_error(text)


@pytest.mark.parametrize("build", [
    lambda: Comparison("a", "=", "#{x}"),
    lambda: Comparison("a", "=", "x\ny"),
    lambda: Comparison("a", "=", "x\\"),
    lambda: Comparison("a; DROP TABLE x", "=", "x"),
    lambda: Comparison("`a`", "=", "x"),
    lambda: Comparison("a", "= 1 OR 1", "x"),
    lambda: Comparison("a", "=", Decimal("NaN")),
    lambda: Comparison("a", "=", 1.5),  # type: ignore[arg-type]
    lambda: InList("a", ()),
    lambda: InList("a", ("ok", "#{x}")),
    lambda: IsNull("in", negated=False),
    lambda: BoolOp("and; DROP", (IsNull("a", negated=False),)),
    lambda: BoolOp("and", ()),
])
def test_predicates_built_in_code_are_checked_too(build: Callable[[], object]) -> None:
    with pytest.raises(FilterError):
        build()


# --- Column types ---------------------------------------------------------------------------------------
def test_strings_are_string_columns_and_numbers_double() -> None:
    predicate = parse_filter("status = 'active' and total >= 10.5 and tier IN ('gold') and n IN (1, 2)")
    assert column_types(predicate) == {"status": "STRING", "total": "DOUBLE", "tier": "STRING", "n": "DOUBLE"}


def test_columns_come_in_first_seen_order_once() -> None:
    predicate = parse_filter("b = 1 or a = 'x' or b = 2 or c IS NULL")
    assert attributes(predicate) == ("b", "a", "c")
    assert list(column_types(predicate, {"c": "N"})) == ["b", "a", "c"]


def test_declared_types_agree_or_fill_in() -> None:
    predicate = parse_filter("pk = 'x' and deleted_at IS NULL and archived IS NOT NULL")
    assert column_types(predicate, {"pk": "S", "deleted_at": "S", "archived": "N", "other": "N"}) == {
        "pk": "STRING", "deleted_at": "STRING", "archived": "DOUBLE"}


def test_an_attribute_tested_only_for_null_needs_a_declared_type() -> None:
    message = types_error("deleted_at IS NULL")
    assert "attribute 'deleted_at' is only tested with IS NULL or IS NOT NULL" in message
    assert "reads every item as null" in message
    assert 'declare it in attribute_types, e.g. {"deleted_at": "S"}' in message
    assert column_types(parse_filter("deleted_at IS NULL"), {"deleted_at": "N"}) == {"deleted_at": "DOUBLE"}
    assert column_types(parse_filter("deleted_at IS NULL or deleted_at > 0")) == {"deleted_at": "DOUBLE"}


@pytest.mark.parametrize("text, declared, expected", [
    ("a = 'x' or a = 1", {}, "attribute 'a' is compared with both a string ('x') and a number (1)"),
    ("a IN ('x', 1)", {}, "attribute 'a' is compared with both a string ('x') and a number (1)"),
    ("a = 'x'", {"a": "N"}, "attribute 'a' is declared N (a number) but compared with a string ('x'); compare it with a number, or declare it S"),
    ("a > 1", {"a": "S"}, "attribute 'a' is declared S (a string) but compared with a number (1)"),
    ("a = 1", {"b": "X"}, "declared type 'X' of attribute 'b' must be S (string) or N (number)"),
    ("a IS NULL", {"a": "STRING"}, "declared type 'STRING' of attribute 'a' must be S (string) or N (number)"),
    ("status = 'x' or Status = 'y'", {}, "attributes 'status' and 'Status' differ only in case"),
])
def test_type_conflicts_are_refused(text: str, declared: dict[str, str], expected: str) -> None:
    assert expected in types_error(text, declared)


# --- Words for reviewers --------------------------------------------------------------------------------
def test_describe_a_nested_filter() -> None:
    predicate = parse_filter("status = 'it''s' and (total >= 10 or total < 0.5 or tier IN ('gold', 'silver')) "
                             "and (deleted_at IS NULL or owner IS NOT NULL) and a <= 1 and b > 2 and c != 'x'")
    assert describe(predicate) == ("status is 'it''s' and (total is at least 10 or total is less than 0.5 or tier is one of 'gold', 'silver') "
                                   "and (deleted_at is absent or owner is present) and a is at most 1 and b is more than 2 and c is not 'x'")


def test_describe_a_single_test() -> None:
    assert describe(parse_filter("a = 5")) == "a is 5"
