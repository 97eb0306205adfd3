"""Rules for ``HiveCopyActivity``: which nodes it copies between, the formats of its DynamoDB nodes,
its ``filterSql``, and the ``column`` declarations of ``DynamoDBExportDataFormat``.

PutPipelineDefinition checks none of this: it accepts a HiveCopyActivity whose filter starts with
WHERE, has an unclosed quote or names a column its input never declared, and whose DynamoDB node has
no export format. Each of these fails only when Hive runs on the cluster, hours after activation and
after the cluster was paid for, so they are errors here. The filter is scanned as Hive text with each
``#{...}`` expression left opaque (Data Pipeline replaces it before Hive sees the statement); a filter
holding a CDK token or a ``${...}`` variable is not scanned, since its text is not known yet.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from . import rules as R
from .expressions import shorten
from .model import PipelineObject
from .view import DefinitionView, Violation, listed

# --- Tables -------------------------------------------------------------------------------------
HIVE_COPY = "HiveCopyActivity"
S3_NODE, DYNAMODB_NODE = "S3DataNode", "DynamoDBDataNode"
EXPORT_FORMAT = "DynamoDBExportDataFormat"
# Developer Guide, "HiveCopyActivity", input and output: "This must be a S3DataNode or DynamoDBDataNode";
# "If input is S3DataNode, this [output] must be DynamoDBDataNode"; "If you use DynamoDBNode, specify a
# DynamoDBExportDataFormat".
HIVE_COPY_NODE_TYPES = (S3_NODE, DYNAMODB_NODE)
OUTPUT_OF_S3_INPUT = DYNAMODB_NODE
# Hive Language Manual, "Hive Data Types" > "Primitive Types": the types a DynamoDBExportDataFormat
# column may declare ("column: Column name with datatype ... Ex: hostname STRING"). DECIMAL also takes
# Hive's optional (precision[, scale]).
HIVE_COLUMN_TYPES = ("STRING", "BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "DECIMAL", "BINARY",
                     "BOOLEAN", "TIMESTAMP")
TYPES_WITH_PRECISION = frozenset({"DECIMAL"})
# Developer Guide, "DynamoDBExportDataFormat", note: "DynamoDB Boolean types are not mapped to Hive
# Boolean types. However, it is possible to map DynamoDB integer values of 0 or 1 to Hive Boolean types."
UNMAPPED_TYPES = frozenset({"BOOLEAN"})
# Hive's reserved keywords: an unquoted column name may not be one (Hive Language Manual, DDL, "Keywords,
# Non-reserved Keywords and Reserved Keywords", the reserved rows of Hive 1.2.0 to 3.0.0; the 1.2.0 identifiers
# are HIVE-6617's list of 74, REGEXP and RLIKE HIVE-11703, TIME, NUMERIC and SYNC Hive 3). HiveCopyActivity
# declares each ``column`` of a DynamoDBExportDataFormat in the table it generates; the guide shows them
# unquoted ("hostname STRING") and the generated statement is not published, so a reserved name is taken to
# fail Hive's parse on EMR 5 and later (Hive 2 and 3, where these words are reserved by default; inferred). The
# guide's own example declares "timeStamp BIGINT" (TIMESTAMP is reserved since Hive 1.2.0): it may predate that
# or the service may quote names, which is not known, so the validator leaves foreign definitions alone and
# only this project's configuration refuses such a name for a whole-item copy, where a copy with ``attributes``
# (a script that quotes every name, hive_tables) is the way around. Used by config/selection.py.
HIVE_RESERVED = frozenset("""
ALL ALTER AND ARRAY AS AUTHORIZATION BETWEEN BIGINT BINARY BOOLEAN BOTH BY CASE CAST CHAR COLUMN CONF CREATE CROSS
CUBE CURRENT CURRENT_DATE CURRENT_TIMESTAMP CURSOR DATABASE DATE DECIMAL DELETE DESCRIBE DISTINCT DOUBLE DROP ELSE END
EXCHANGE EXISTS EXTENDED EXTERNAL FALSE FETCH FLOAT FOLLOWING FOR FROM FULL FUNCTION GRANT GROUP GROUPING HAVING IF
IMPORT IN INNER INSERT INT INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LESS LIKE LOCAL MACRO MAP MORE NONE NOT NULL OF
ON OR ORDER OUT OUTER OVER PARTIALSCAN PARTITION PERCENT PRECEDING PRESERVE PROCEDURE RANGE READS REDUCE REVOKE RIGHT
ROLLUP ROW ROWS SELECT SET SMALLINT TABLE TABLESAMPLE THEN TIMESTAMP TO TRANSFORM TRIGGER TRUE TRUNCATE UNBOUNDED UNION
UNIQUEJOIN UPDATE USER USING UTC_TMESTAMP VALUES VARCHAR WHEN WHERE WINDOW WITH
COMMIT ONLY REGEXP RLIKE ROLLBACK START
CACHE CONSTRAINT FOREIGN PRIMARY REFERENCES
DAYOFWEEK EXTRACT FLOOR INTEGER PRECISION VIEWS
TIME NUMERIC SYNC
""".split())
# Hive identifiers as the project writes them (a letter or '_', then letters, digits and '_').
COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# "<name> <TYPE>", TYPE optionally followed by "(precision[, scale])".
COLUMN = re.compile(r"\s*(?P<name>\S+)\s+(?P<type>[A-Za-z]+)\s*(?P<precision>\(\s*\d+\s*(?:,\s*\d+\s*)?\))?\s*")
# HiveCopyActivity, filterSql: "should only contain predicates and not begin with a WHERE clause,
# because AWS Data Pipeline adds it automatically".
LEADING_WHERE = re.compile(r"\s*where\b", re.IGNORECASE)
QUOTE_NAMES = {"'": "single quote (')", '"': 'double quote (")', "`": "backquote (`)"}
OPAQUE = "\x00"  # stands for each character of a #{...} expression while the filter is scanned


# --- Nodes and formats --------------------------------------------------------------------------
def _targets(ctx: DefinitionView, obj: PipelineObject, key: str) -> list[PipelineObject]:
    """The objects ``key`` refers to on ``obj`` (inherited fields included); dangling references
    and plain strings are the reference rule's findings, not these."""
    return [ctx.objects[f.value] for f in ctx.lookup(obj, key) if f.is_ref and f.value in ctx.objects]


def _activities(ctx: DefinitionView) -> list[PipelineObject]:
    return [obj for obj in ctx.definition.objects if ctx.type_of(obj) == HIVE_COPY and not ctx.is_template(obj)]


def _node_types(ctx: DefinitionView, activity: PipelineObject) -> Iterator[Violation]:
    for key in ("input", "output"):
        for node in _targets(ctx, activity, key):
            node_type = ctx.type_of(node)
            # a type that is no data node at all is the reference rule's finding
            if node_type in R.DATA_NODE_TYPES and node_type not in HIVE_COPY_NODE_TYPES:
                yield Violation(activity.id, key, f"{key} refers to '{node.id}' of type {node_type}; a {HIVE_COPY} "
                                                  f"copies between {' and '.join(HIVE_COPY_NODE_TYPES)} nodes only", "DP501")
    s3_inputs = [node.id for node in _targets(ctx, activity, "input") if ctx.type_of(node) == S3_NODE]
    if s3_inputs:
        for node in _targets(ctx, activity, "output"):
            node_type = ctx.type_of(node)
            if node_type in HIVE_COPY_NODE_TYPES and node_type != OUTPUT_OF_S3_INPUT:
                yield Violation(activity.id, "output", f"output refers to '{node.id}' of type {node_type} while input "
                                                       f"'{s3_inputs[0]}' is an {S3_NODE}; with an {S3_NODE} input "
                                                       f"the output must be a {OUTPUT_OF_S3_INPUT}", "DP502")


def _format_problem(ctx: DefinitionView, node: PipelineObject, role: str, activity_id: str) -> str | None:
    fields = ctx.lookup(node, "dataFormat")
    if not fields:
        return (f"{DYNAMODB_NODE} '{node.id}' is the {role} of {HIVE_COPY} '{activity_id}' but has no dataFormat; "
                f"it needs a dataFormat referring to a {EXPORT_FORMAT}")
    for target in _targets(ctx, node, "dataFormat"):
        format_type = ctx.type_of(target)
        if format_type in R.DATA_FORMAT_TYPES and format_type != EXPORT_FORMAT:
            return (f"dataFormat refers to '{target.id}' of type {format_type}; as the {role} of {HIVE_COPY} "
                    f"'{activity_id}', {node.id} needs a dataFormat referring to a {EXPORT_FORMAT}")
    return None


def _node_formats(ctx: DefinitionView, activity: PipelineObject, reported: set[str]) -> Iterator[Violation]:
    for role in ("input", "output"):
        for node in _targets(ctx, activity, role):
            if ctx.type_of(node) != DYNAMODB_NODE or node.id in reported:
                continue
            problem = _format_problem(ctx, node, role, activity.id)
            if problem:
                reported.add(node.id)  # once per node, however many activities use it
                yield Violation(node.id, "dataFormat", problem, "DP503")


# --- filterSql ----------------------------------------------------------------------------------
def _hive_text(ctx: DefinitionView, value: str) -> str | None:
    """``value`` with each ``#{...}`` expression overwritten by OPAQUE characters (same length, so
    positions still point into ``value``), or None when the text Hive will see cannot be known: a CDK
    token or ``${...}`` variable, or an expression the ``expressions`` rule already reports as broken."""
    found, problems = ctx.scan(value)
    if problems or "${" in value:  # "${Token[" included
        return None
    pieces, cursor = [], 0
    for expression in found:
        # No '#{' lies between the previous expression and this one, so its first match is its place.
        start = value.index(expression.text, cursor)
        pieces += [value[cursor:start], OPAQUE * len(expression.text)]
        cursor = start + len(expression.text)
    return "".join(pieces) + value[cursor:]


def _scan_sql(text: str) -> tuple[str | None, list[str]]:
    """(what is unbalanced, or None; the backquoted identifiers). Inside '...' and "..." a backslash
    escapes the next character; inside `...` a doubled backquote is one backquote (Hive's lexer)."""
    quote, opened_at, identifiers, parentheses = "", 0, [], []
    i = 0
    while i < len(text):
        char = text[i]
        if quote == "`" and text.startswith("``", i):
            i += 2
            continue
        if quote and quote != "`" and char == "\\":
            i += 2
            continue
        if quote and char == quote:
            if quote == "`":
                identifiers.append(text[opened_at + 1: i].replace("``", "`"))
            quote = ""
        elif not quote and char in QUOTE_NAMES:
            quote, opened_at = char, i
        elif not quote and char == "(":
            parentheses.append(i)
        elif not quote and char == ")":
            if not parentheses:
                return f"the ')' at character {i + 1} closes no '('", identifiers
            parentheses.pop()
        i += 1
    if quote:
        return f"the {QUOTE_NAMES[quote]} at character {opened_at + 1} is never closed", identifiers
    if parentheses:
        count = len(parentheses)
        return (f"{count} '(' {'is' if count == 1 else 'are'} never closed (the first at character "
                f"{parentheses[0] + 1})"), identifiers
    return None, identifiers


def scan_hive(ctx: DefinitionView, value: str) -> tuple[str | None, list[str]] | None:
    """``_scan_sql`` of the Hive text of ``value``, or None when that text is not known before run time."""
    text = _hive_text(ctx, value)
    return None if text is None else _scan_sql(text)


def _declared_columns(ctx: DefinitionView, node: PipelineObject) -> tuple[str, dict[str, str]] | None:
    """(format id, column names by their lower-cased form) of a DynamoDB node's export format; None when
    the node has no such format (another finding) or a column's text is not known before run time."""
    formats = [f for f in _targets(ctx, node, "dataFormat") if ctx.type_of(f) == EXPORT_FORMAT]
    if not formats:
        return None
    names: dict[str, str] = {}
    for column in ctx.lookup(formats[0], "column"):
        known = ctx.literal(column.value)
        if known is None:
            return None
        words = known[0].split()
        if words:  # a malformed column is reported on its format, not again here
            names.setdefault(words[0].lower(), words[0])
    return formats[0].id, names


def _unknown_columns(ctx: DefinitionView, activity: PipelineObject, identifiers: list[str]) -> Iterator[Violation]:
    used: dict[str, str] = {}  # each column once, as first spelled; names made by an expression are unknown
    for name in identifiers:
        if OPAQUE not in name:
            used.setdefault(name.lower(), name)
    for node in _targets(ctx, activity, "input"):
        declared = _declared_columns(ctx, node) if ctx.type_of(node) == DYNAMODB_NODE else None
        if declared is None:
            continue
        format_id, names = declared
        said = f"it declares {listed(names.values())}" if names else "it declares no column"
        for lower, name in used.items():
            if lower not in names:
                yield Violation(activity.id, "filterSql", f"filterSql names column `{name}`, which {EXPORT_FORMAT} "
                                                          f"'{format_id}' of input '{node.id}' does not declare ({said}); "
                                                          "Hive would fail with an unknown column", "DP506")


def _filters(ctx: DefinitionView, activity: PipelineObject) -> Iterator[Violation]:
    for f in ctx.lookup(activity, "filterSql"):
        if f.is_ref:
            continue
        known = ctx.literal(f.value)  # a whole-value #{myParameter} with a literal value is checked as that
        value, shown = known if known else (f.value, f"'{shorten(f.value)}'")
        if LEADING_WHERE.match(value):
            yield Violation(activity.id, "filterSql", f"filterSql {shown} begins with WHERE; give only the predicates, "
                                                      "AWS Data Pipeline adds the WHERE itself", "DP504")
        scanned = scan_hive(ctx, value)
        if scanned is None:
            continue
        unbalanced, identifiers = scanned
        if unbalanced:
            yield Violation(activity.id, "filterSql", f"filterSql {shown}: {unbalanced}; quotes and parentheses must "
                                                      "balance outside #{...} expressions, or Hive fails at run time", "DP505")
            continue  # identifiers of an unbalanced text are guesses
        yield from _unknown_columns(ctx, activity, identifiers)


# --- DynamoDBExportDataFormat columns -----------------------------------------------------------
def _column_problem(shown: str, text: str) -> tuple[str, str] | None:
    """(problem, rule id) of one column declaration, or None."""
    match = COLUMN.fullmatch(text)
    expected = f"a column is '<name> <TYPE>' (e.g. 'hostname STRING') with TYPE one of {listed(HIVE_COLUMN_TYPES)}"
    if match is None:
        return f"column {shown} is not '<name> <TYPE>'; {expected}", "DP507"
    name, hive_type = match.group("name"), match.group("type").upper()
    if not COLUMN_NAME.fullmatch(name):
        return (f"column {shown} names '{name}'; a column name is a letter or '_' followed by letters, digits "
                "or '_'"), "DP507"
    if hive_type not in HIVE_COLUMN_TYPES or (match.group("precision") and hive_type not in TYPES_WITH_PRECISION):
        return f"column {shown} has type '{text.split(None, 1)[1].strip()}'; {expected}", "DP507"
    if hive_type in UNMAPPED_TYPES:
        return (f"column {shown} is {hive_type}, but DynamoDB Boolean attributes are not mapped to Hive "
                f"{hive_type} (only the numbers 0 and 1 are); declare the attribute's stored type"), "DP508"
    return None


def _columns(ctx: DefinitionView, data_format: PipelineObject) -> Iterator[Violation]:
    first: dict[str, str] = {}  # lower-cased name -> the declaration that used it first
    for column in data_format.values("column"):
        known = ctx.literal(column)
        if known is None:
            continue  # an expression or a CDK token: its text is known at run time only
        text, shown = known
        found = _column_problem(shown, text)
        if found:
            problem, rule_id = found
            yield Violation(data_format.id, "column", problem, rule_id)
        words = text.split()
        if not words:
            continue
        name = words[0].lower()
        if name in first:
            yield Violation(data_format.id, "column", f"column {shown} declares '{words[0]}' again, after "
                                                      f"'{first[name]}'; each column name may appear once per "
                                                      f"{EXPORT_FORMAT} (names are compared case-insensitively)", "DP509")
        else:
            first[name] = text


# --- The rule -----------------------------------------------------------------------------------
def hive_copy(ctx: DefinitionView) -> Iterator[Violation]:
    """Every HiveCopyActivity (nodes, their formats, its filterSql), then every DynamoDBExportDataFormat."""
    reported: set[str] = set()
    for activity in _activities(ctx):
        yield from _node_types(ctx, activity)
        yield from _node_formats(ctx, activity, reported)
        yield from _filters(ctx, activity)
    for obj in ctx.definition.objects:
        if ctx.type_of(obj) == EXPORT_FORMAT:
            yield from _columns(ctx, obj)
