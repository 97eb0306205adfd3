"""The row filter of a filtered copy, as a small checked language rather than raw SQL.

A user's filter ends up in ``HiveCopyActivity.filterSql``, and that text passes through two
interpreters before it selects a row: Data Pipeline evaluates every ``#{...}`` in a field value, and
Hive (its command line, then its parser) runs the statement the activity builds around the filter.
Passing the user's text through would let a typo, or a value holding a quote, change the statement;
so the filter is parsed into the few forms a copy needs (comparisons, IN, IS [NOT] NULL, AND, OR) and
rendered again by this module, with each attribute backquoted and each value quoted, so that what the
user wrote reaches Hive only as names and data. Whatever one of those interpreters could still read
as code inside a quoted value is refused instead of escaped.

Hive also needs a typed column for each attribute the filter compares (the input format's ``column``
list), and the wrong type silently reads every item as null; the types are therefore inferred from the
values each attribute is compared with, and refused when they conflict or cannot be known.

Every mistake is one ``FilterError`` line saying what is wrong, where (the 1-based character, "at 12")
and what is allowed, since it is shown to the user in a config error.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeAlias

KEYWORDS = ("and", "or", "in", "is", "not", "null")
COMPARISON_OPERATORS = ("=", "<>", "<", "<=", ">", ">=")
BOOLEAN_OPERATORS = ("and", "or")
# As written in a filter, longest first so that "<=" is not read as "<" then "=".
WRITTEN_OPERATORS = ("<=", ">=", "<>", "!=", "=", "<", ">")
NORMALISED_OPERATORS = {"!=": "<>"}

ATTRIBUTE_PATTERN = "[A-Za-z_][A-Za-z0-9_]*"
ATTRIBUTE_NAME = re.compile(ATTRIBUTE_PATTERN)
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

MAX_ATTRIBUTE_LENGTH = 255
MAX_STRING_LENGTH = 1024
MAX_NUMBER_DIGITS = 38  # DynamoDB numbers have up to 38 digits of precision
MAX_IN_VALUES = 100
MAX_TESTS = 50
MAX_NESTING = 10

# DynamoDB type (as a user declares it) -> the Hive column type that reads it.
HIVE_COLUMN_TYPES = {"S": "STRING", "N": "DOUBLE"}
DYNAMODB_TYPE_NAMES = {"S": "a string", "N": "a number"}

# Unicode categories of control characters (Cc) and of line and paragraph separators (Zl, Zp).
CONTROL_CATEGORIES = ("Cc", "Zl", "Zp")
WHITESPACE = " \t\r\n"
# What a quoted value must not hold, the name to show for it, and which interpreter would read it as code.
UNSAFE_IN_STRINGS = (
    ("\\", "a backslash", "values are written without escapes, so that the Hive text stays simple and unambiguous"),
    ("#{", "'#{'", "Data Pipeline would evaluate it as an expression"),
    ("${", "'${'", "Hive would substitute a variable in it"),
    (";", "';'", "Hive's command line ends a statement at ';' even inside quotes, in the Hive versions Data Pipeline runs"),
)

SHOWN_LENGTH = 40
LEXICON = (f"a filter is made of attribute names ({ATTRIBUTE_PATTERN}), 'quoted strings', numbers, parentheses, commas, "
           "the operators = != <> < <= > >= and the words AND, OR, IN, IS, NOT, NULL")
VALUE_FORM = "a value is a 'quoted string' (a quote inside written twice: 'it''s') or a number such as -12.5 (no exponent, no '+')"
TEST_FORM = "a test is <attribute> <operator> <value>, <attribute> IN (<value>, ...) or <attribute> IS [NOT] NULL"


class FilterError(ValueError):
    """A filter that cannot be copied safely: one line saying what, where and what is allowed."""


@dataclass(frozen=True)
class Comparison:
    attribute: str
    operator: str  # one of COMPARISON_OPERATORS ("!=" in a filter is normalised to "<>")
    value: str | Decimal

    def __post_init__(self) -> None:
        _refuse_attribute(self.attribute)
        if self.operator not in COMPARISON_OPERATORS:
            raise FilterError(f"operator '{self.operator}' is not one of {' '.join(COMPARISON_OPERATORS)}")
        _refuse_value(self.value)


@dataclass(frozen=True)
class InList:
    attribute: str
    values: tuple[str | Decimal, ...]

    def __post_init__(self) -> None:
        _refuse_attribute(self.attribute)
        if not 1 <= len(self.values) <= MAX_IN_VALUES:
            raise FilterError(f"IN list of '{self.attribute}' has {len(self.values)} values; an IN list has 1 to {MAX_IN_VALUES}")
        for value in self.values:
            _refuse_value(value)


@dataclass(frozen=True)
class IsNull:
    attribute: str
    negated: bool  # IS NOT NULL

    def __post_init__(self) -> None:
        _refuse_attribute(self.attribute)


@dataclass(frozen=True)
class BoolOp:
    operator: str  # "and" or "or"
    parts: tuple[Predicate, ...]

    def __post_init__(self) -> None:
        if self.operator not in BOOLEAN_OPERATORS:
            raise FilterError(f"boolean operator '{self.operator}' is not 'and' or 'or'")
        if not self.parts or not all(isinstance(part, PREDICATE_TYPES) for part in self.parts):
            raise FilterError(f"'{self.operator}' joins no predicates or something that is not a predicate; it joins one or more predicates")


Predicate: TypeAlias = Comparison | InList | IsNull | BoolOp
Test: TypeAlias = Comparison | InList | IsNull
PREDICATE_TYPES = (Comparison, InList, IsNull, BoolOp)


# --- What a value or a name may be -----------------------------------------------------------------
def _shorten(text: str) -> str:
    return text if len(text) <= SHOWN_LENGTH else f"{text[:SHOWN_LENGTH]}..."


def _printable(text: str) -> str:
    """``text`` with each control character written as U+XXXX, so that a message stays one line."""
    return "".join(f"U+{ord(char):04X}" if unicodedata.category(char) in CONTROL_CATEGORIES else char for char in text)


def _shown_string(value: str) -> str:
    """A string value as a user writes it in a filter, shortened, on one line."""
    return _printable(_shorten("'" + value.replace("'", "''") + "'"))


def _shown_name(name: str) -> str:
    return f"'{_printable(_shorten(name))}'"


def _digit_count(number_text: str) -> int:
    return sum(char.isdigit() for char in number_text)


def _attribute_problem(name: str) -> str | None:
    if name.lower() in KEYWORDS:
        return f"is a keyword ({', '.join(KEYWORDS)}), not an attribute name"
    if not ATTRIBUTE_NAME.fullmatch(name):
        return f"must match {ATTRIBUTE_PATTERN}, because Hive names columns that way"
    if len(name) > MAX_ATTRIBUTE_LENGTH:
        return f"is {len(name)} characters long; an attribute name has at most {MAX_ATTRIBUTE_LENGTH}"
    return None


def _string_problem(value: str) -> str | None:
    if len(value) > MAX_STRING_LENGTH:
        return f"is {len(value)} characters long; a string has at most {MAX_STRING_LENGTH}"
    control = next((char for char in value if unicodedata.category(char) in CONTROL_CATEGORIES), None)
    if control is not None:
        return (f"contains the control character U+{ord(control):04X}; a value cannot hold a newline or control character, "
                "because Data Pipeline field values are one line")
    for fragment, fragment_name, reader in UNSAFE_IN_STRINGS:
        if fragment in value:
            return f"contains {fragment_name}, which a value cannot hold: {reader}"
    return None


def _number_problem(number_text: str) -> str | None:
    digits = _digit_count(number_text)
    if digits > MAX_NUMBER_DIGITS:
        return f"has {digits} digits; a number has at most {MAX_NUMBER_DIGITS} (DynamoDB's precision)"
    return None


def _refuse_attribute(name: str) -> None:
    problem = _attribute_problem(name)
    if problem is not None:
        raise FilterError(f"attribute name {_shown_name(name)} {problem}")


def _refuse_value(value: object) -> None:
    """The check of a value in a predicate built in code, where there is no position to name."""
    if isinstance(value, str):
        problem = _string_problem(value)
        if problem is not None:
            raise FilterError(f"string {_shown_string(value)} {problem}")
    elif isinstance(value, Decimal) and value.is_finite():
        problem = _number_problem(format(value, "f"))
        if problem is not None:
            raise FilterError(f"number {_shorten(format(value, 'f'))} {problem}")
    else:
        raise FilterError(f"value {_printable(_shorten(repr(value)))} is not a str or a finite Decimal; {VALUE_FORM}")


# --- Reading a filter ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "operator", "(", ")", "," or "end"
    text: str  # a string's value (quotes removed, doubled quotes undone); otherwise the text as written
    at: int  # 1-based position of the token's first character

    def shown(self) -> str:
        if self.kind == "end":
            return "the end of the filter"
        if self.kind == "string":
            return f"the string {_shown_string(self.text)}"
        return f"'{_printable(_shorten(self.text))}'"

    def is_keyword(self, keyword: str) -> bool:
        return self.kind == "word" and self.text.lower() == keyword


def _is_word_character(char: str) -> bool:
    """Characters of names and numbers, and of the names a user may mistake for one (first-name, a.b, 2fa)."""
    return char.isalnum() or char in "_.-"


def _read_string(text: str, start: int) -> tuple[str, int]:
    """The value of the string whose opening quote is at index ``start``, and the index after its closing quote."""
    pieces, index = [], start + 1
    while True:
        quote = text.find("'", index)
        if quote == -1:
            raise FilterError(f"unterminated string starting at {start + 1}; end it with ' (a quote inside is written twice: 'it''s')")
        pieces.append(text[index:quote])
        if not text.startswith("''", quote):
            return "".join(pieces), quote + 1
        pieces.append("'")
        index = quote + 2


def _next_token(text: str, start: int) -> tuple[_Token, int]:
    """The token beginning at index ``start`` (not whitespace), and the index after it."""
    char = text[start]
    if char == "'":
        value, end = _read_string(text, start)
        problem = _string_problem(value)
        if problem is not None:
            raise FilterError(f"string {_shown_string(value)} at {start + 1} {problem}")
        return _Token("string", value, start + 1), end
    if char in "(),":
        return _Token(char, char, start + 1), start + 1
    operator = next((written for written in WRITTEN_OPERATORS if text.startswith(written, start)), None)
    if operator is not None:
        return _Token("operator", operator, start + 1), start + len(operator)
    if _is_word_character(char):
        end = start
        while end < len(text) and _is_word_character(text[end]):
            end += 1
        return _Token("word", text[start:end], start + 1), end
    raise FilterError(f"unknown character {_printable(repr(char))} at {start + 1}; {LEXICON}")


def _tokens(text: str) -> list[_Token]:
    found, index = [], 0
    while index < len(text):
        if text[index] in WHITESPACE:
            index += 1
            continue
        token, index = _next_token(text, index)
        found.append(token)
    found.append(_Token("end", "", len(text) + 1))
    return found


class _Parser:
    """Recursive descent over the grammar of ``parse_filter``; each method reads one rule."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.test_count = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def expect(self, kind: str, expected: str, purpose: str = "") -> _Token:
        if self.current.kind != kind:
            raise FilterError(f"expected {expected} at {self.current.at}{purpose}, found {self.current.shown()}")
        return self.take()

    def expect_keyword(self, keyword: str, expected: str) -> None:
        if not self.current.is_keyword(keyword):
            raise FilterError(f"expected {expected} at {self.current.at}, found {self.current.shown()}")
        self.take()

    def filter(self) -> Predicate:
        if self.current.kind == "end":
            raise FilterError(f"empty filter at 1; give at least one test, such as status = 'active'; {TEST_FORM}")
        predicate = self.or_expression()
        if self.current.kind != "end":
            raise FilterError(f"unexpected {self.current.shown()} at {self.current.at} after a complete filter; "
                              "join tests with AND or OR, and close each '(' once")
        return predicate

    def or_expression(self) -> Predicate:
        parts = [self.and_expression()]
        while self.current.is_keyword("or"):
            self.take()
            parts.append(self.and_expression())
        return _joined("or", parts)

    def and_expression(self) -> Predicate:
        parts = [self.factor()]
        while self.current.is_keyword("and"):
            self.take()
            parts.append(self.factor())
        return _joined("and", parts)

    def factor(self) -> Predicate:
        if self.current.kind == "(":
            return self.parenthesised()
        if self.current.kind != "word":
            raise FilterError(f"expected an attribute name or '(' at {self.current.at}, found {self.current.shown()}; {TEST_FORM}")
        return self.test(self.attribute())

    def parenthesised(self) -> Predicate:
        opening = self.take()
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FilterError(f"'(' at {opening.at} nests {self.depth} deep; parentheses nest at most {MAX_NESTING} deep")
        inside = self.or_expression()
        self.expect(")", "')'", f" to close the '(' at {opening.at}")
        self.depth -= 1
        return inside

    def attribute(self) -> _Token:
        token = self.take()
        problem = _attribute_problem(token.text)
        if problem is not None:
            raise FilterError(f"attribute name {_shown_name(token.text)} at {token.at} {problem}")
        self.test_count += 1
        if self.test_count > MAX_TESTS:
            raise FilterError(f"test {self.test_count} (of '{token.text}') at {token.at} is one too many; "
                              f"a filter has at most {MAX_TESTS} tests")
        return token

    def test(self, attribute: _Token) -> Test:
        name = attribute.text
        if self.current.kind == "operator":
            written = self.take().text
            return Comparison(name, NORMALISED_OPERATORS.get(written, written), self.literal())
        if self.current.is_keyword("in"):
            self.take()
            return InList(name, self.in_values())
        if self.current.is_keyword("is"):
            self.take()
            negated = self.current.is_keyword("not")
            if negated:
                self.take()
            self.expect_keyword("null", "NULL (IS NULL or IS NOT NULL)")
            return IsNull(name, negated)
        raise FilterError(f"expected an operator, IN or IS after {_shown_name(name)} at {self.current.at}, found {self.current.shown()}; "
                          f"{TEST_FORM}")

    def in_values(self) -> tuple[str | Decimal, ...]:
        opening = self.expect("(", "'('", " to open the IN list, as in status IN ('active', 'paused')")
        if self.current.kind == ")":
            raise FilterError(f"empty IN list at {opening.at}; give at least one value, such as status IN ('active', 'paused')")
        values = [self.literal()]
        while self.current.kind == ",":
            self.take()
            if len(values) == MAX_IN_VALUES:
                raise FilterError(f"IN list value {len(values) + 1} at {self.current.at} is one too many; "
                                  f"an IN list has at most {MAX_IN_VALUES} values (join several with OR)")
            values.append(self.literal())
        self.expect(")", "',' or ')'", f" in the IN list opened at {opening.at}")
        return tuple(values)

    def literal(self) -> str | Decimal:
        token = self.current
        if token.kind == "string":
            return self.take().text
        if token.kind == "word" and NUMBER.fullmatch(token.text):
            problem = _number_problem(token.text)
            if problem is not None:
                raise FilterError(f"number {_shorten(token.text)} at {token.at} {problem}")
            return Decimal(self.take().text)
        raise FilterError(f"expected a value at {token.at}, found {token.shown()}; {VALUE_FORM}")


def _joined(operator: str, parts: list[Predicate]) -> Predicate:
    """``parts`` joined by ``operator``, a part joined by the same operator spliced in: (a and b) and c is a and b and c."""
    if len(parts) == 1:
        return parts[0]
    flat: list[Predicate] = []
    for part in parts:
        flat.extend(part.parts if isinstance(part, BoolOp) and part.operator == operator else (part,))
    return BoolOp(operator, tuple(flat))


# Cached by the exact text: the predicate is immutable (frozen dataclasses of tuples, strings and Decimals), and one
# configuration is read several times per run (plan, estimate, check, the app), each copy's filter each time; a
# filter that fails raises again, as exceptions are not cached.
@functools.lru_cache(maxsize=1024)
def parse_filter(text: str) -> Predicate:
    """The predicate of a filter such as ``status = 'active' and (total > 10 or tier IN ('gold', 'silver'))``.

    Grammar (keywords in any case)::

        filter    := or_expr END
        or_expr   := and_expr ( OR and_expr )*
        and_expr  := factor ( AND factor )*
        factor    := '(' or_expr ')' | attribute test
        test      := operator literal | IN '(' literal ( ',' literal )* ')' | IS [NOT] NULL
        operator  := '=' | '!=' | '<>' | '<' | '<=' | '>' | '>='
        literal   := 'string' (a quote inside written twice) | -?digits(.digits)?
    """
    return _Parser(_tokens(text)).filter()


# --- What a predicate names and needs --------------------------------------------------------------
def _tests(predicate: Predicate) -> Iterator[Test]:
    if isinstance(predicate, BoolOp):
        for part in predicate.parts:
            yield from _tests(part)
    else:
        yield predicate


def _literals(test: Test) -> tuple[str | Decimal, ...]:
    if isinstance(test, Comparison):
        return (test.value,)
    if isinstance(test, InList):
        return test.values
    return ()


def attributes(predicate: Predicate) -> tuple[str, ...]:
    """Every attribute the predicate names, in first-seen order, each once."""
    return tuple(dict.fromkeys(test.attribute for test in _tests(predicate)))


def _literals_by_attribute(predicate: Predicate) -> dict[str, list[str | Decimal]]:
    found: dict[str, list[str | Decimal]] = {}
    for test in _tests(predicate):
        found.setdefault(test.attribute, []).extend(_literals(test))
    return found


def _refuse_declared(declared: Mapping[str, str]) -> None:
    for name, dynamodb_type in declared.items():
        if dynamodb_type not in HIVE_COLUMN_TYPES:
            raise FilterError(f"declared type {_shown_name(str(dynamodb_type))} of attribute {_shown_name(name)} must be S (string) or N (number)")


def _refuse_case_twins(names: tuple[str, ...]) -> None:
    """Hive folds column names to lower case: status and Status would be one column."""
    seen: dict[str, str] = {}
    for name in names:
        twin = seen.setdefault(name.lower(), name)
        if twin != name:
            raise FilterError(f"attributes {_shown_name(twin)} and {_shown_name(name)} differ only in case; Hive folds column names to "
                              "lower case, so a filter can name only one of them")


def _shown_literal(value: str | Decimal) -> str:
    return _shown_string(value) if isinstance(value, str) else _shorten(format(value, "f"))


def _compared_type(name: str, literals: list[str | Decimal]) -> str | None:
    """The DynamoDB type the literals compared with ``name`` give it, or None when there are none."""
    strings = [value for value in literals if isinstance(value, str)]
    numbers = [value for value in literals if isinstance(value, Decimal)]
    if strings and numbers:
        raise FilterError(f"attribute '{name}' is compared with both a string ({_shown_literal(strings[0])}) and a number "
                          f"({_shown_literal(numbers[0])}); an attribute has one DynamoDB type, so compare it with strings only (S) "
                          "or numbers only (N)")
    return "S" if strings else "N" if numbers else None


def _dynamodb_type(name: str, literals: list[str | Decimal], declared_type: str | None) -> str:
    compared_type = _compared_type(name, literals)
    if declared_type is not None and compared_type is not None and declared_type != compared_type:
        raise FilterError(f"attribute '{name}' is declared {declared_type} ({DYNAMODB_TYPE_NAMES[declared_type]}) but compared with "
                          f"{DYNAMODB_TYPE_NAMES[compared_type]} ({_shown_literal(literals[0])}); compare it with "
                          f"{DYNAMODB_TYPE_NAMES[declared_type]}, or declare it {compared_type}")
    found = declared_type or compared_type
    if found is None:
        raise FilterError(f"attribute '{name}' is only tested with IS NULL or IS NOT NULL, so its DynamoDB type is unknown, and a Hive "
                          f"column of the wrong type reads every item as null; declare it in attribute_types, e.g. "
                          f'{{"{name}": "S"}}')
    return found


def column_types(predicate: Predicate, declared: Mapping[str, str] = {}) -> dict[str, str]:
    """The Hive column type (STRING or DOUBLE) of each attribute the predicate names, in first-seen order.

    ``declared`` gives DynamoDB types (S or N) known without the filter: the table's keys, or the user's
    declaration. A number is read as DOUBLE, which reads integers and decimals alike (BIGINT fails on a decimal).
    """
    _refuse_declared(declared)
    _refuse_case_twins(attributes(predicate))
    return {name: HIVE_COLUMN_TYPES[_dynamodb_type(name, literals, declared.get(name))]
            for name, literals in _literals_by_attribute(predicate).items()}


# --- Hive text ---------------------------------------------------------------------------------------
def _hive_literal(value: str | Decimal) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return "'" + value.replace("'", "\\'") + "'"  # backslashes are refused, so this is the only escape


def _hive_test(test: Test) -> str:
    column = f"`{test.attribute}`"
    if isinstance(test, Comparison):
        return f"{column} {test.operator} {_hive_literal(test.value)}"
    if isinstance(test, InList):
        return f"{column} IN ({', '.join(_hive_literal(value) for value in test.values)})"
    return f"{column} IS NOT NULL" if test.negated else f"{column} IS NULL"


def to_hive(predicate: Predicate) -> str:
    """The predicate as Hive text for ``filterSql`` (without WHERE, which Data Pipeline adds)."""
    if not isinstance(predicate, BoolOp):
        return _hive_test(predicate)
    joiner = f" {predicate.operator.upper()} "
    return joiner.join(f"({to_hive(part)})" if isinstance(part, BoolOp) else to_hive(part) for part in predicate.parts)


# --- Words for reviewers -----------------------------------------------------------------------------
OPERATOR_WORDS = {"=": "is", "<>": "is not", "<": "is less than", "<=": "is at most", ">": "is more than", ">=": "is at least"}


def _described_literal(value: str | Decimal) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else format(value, "f")


def _described_test(test: Test) -> str:
    if isinstance(test, Comparison):
        return f"{test.attribute} {OPERATOR_WORDS[test.operator]} {_described_literal(test.value)}"
    if isinstance(test, InList):
        return f"{test.attribute} is one of {', '.join(_described_literal(value) for value in test.values)}"
    return f"{test.attribute} is {'present' if test.negated else 'absent'}"


def describe(predicate: Predicate) -> str:
    """The predicate in plain English, such as ``status is 'active' and (total is at least 10 or tier is absent)``."""
    if not isinstance(predicate, BoolOp):
        return _described_test(predicate)
    joiner = f" {predicate.operator} "
    return joiner.join(f"({describe(part)})" if isinstance(part, BoolOp) else describe(part) for part in predicate.parts)
