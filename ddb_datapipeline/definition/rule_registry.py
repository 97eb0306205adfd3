"""The validator's rule registry: every finding the validator can report has a stable id, a severity, a
one-line title and the source that makes it a rule. Pure data plus lookups; no logic of the rules lives here.

Severity policy (issue 28): a rule is an **error** only when its source says the service refuses the
definition (PutPipelineDefinition, activation, the API's field constraints) or the run certainly fails (the
connector's or Hive's own code refuses the input); anything else is a **warning** (lint). The ids group the
rules by family so ``--select``/``--ignore`` can take a prefix: DP1 shape, DP2 values, DP3 flow and connector
steps, DP4 the guide's per-type field tables, DP5 Hive, DP6 attempts and activation values.

This project's own synth holds every definition it builds to all rules at any severity (``validator.ensure_valid``
raises on any finding), so moving a rule to warning here never weakens the synth-time check.

Sources are named as: the Developer Guide page (``GUIDE`` + page) with the sentence, the API model (botocore's
``datapipeline/2012-10-29/service-2.json``, which mirrors the API reference's length constraints), the connector's
source (awslabs/emr-dynamodb-connector at 4.11.0), Hive's language manual, or "inferred" with the reasoning.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

ERROR, WARNING = "error", "warning"
GUIDE = "https://docs.aws.amazon.com/datapipeline/latest/DeveloperGuide/"
API_MODEL = "AWS Data Pipeline API model (botocore datapipeline/2012-10-29/service-2.json)"
CONNECTOR = "awslabs/emr-dynamodb-connector 4.11.0, emr-dynamodb-tools"
HIVE_MANUAL = "Hive Language Manual"


@dataclass(frozen=True)
class Rule:
    """One kind of finding. ``check`` is the rule family (the validator function) that reports it."""

    id: str
    check: str
    severity: str
    title: str
    source: str


# id, family, severity, title, source. Ordered by id; ids are never reused for another meaning.
_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    # --- DP1: shape (structure_rules.py) ---
    ("DP101", "limits", WARNING, "more objects than the default 100 per pipeline",
     GUIDE + "dp-limits.html: 'Number of objects per pipeline | 100 | Adjustable: Yes' (an account may have a raised limit)"),
    ("DP102", "limits", WARNING, "more than 50 parameters",
     "inferred: a limit named in third-party notes; the guide's Limits page lists no parameter limit"),
    ("DP103", "limits", ERROR, "more than 50 fields in an object",
     GUIDE + "dp-limits.html: 'Number of fields per object | 50 | Adjustable: No'"),
    ("DP104", "limits", ERROR, "a field value over 10,240 UTF-8 bytes",
     GUIDE + "dp-limits.html: 'Number of UTF8 bytes per field | 10,240 | No'; " + API_MODEL + ": fieldStringValue max 10240"),
    ("DP105", "limits", ERROR, "an object over 15,360 UTF-8 bytes",
     GUIDE + "dp-limits.html: 'Number of UTF8 bytes per object | 15,360 (including field names) | No'"),
    ("DP110", "ids_and_names", ERROR, "an object or parameter id or name outside 1-1024 characters",
     API_MODEL + ": PipelineObject id and name are shape 'id', min 1, max 1024"),
    ("DP111", "ids_and_names", WARNING, "an object or parameter id used twice",
     "inferred: references name objects by id, so a second object of the same id cannot be told apart"),
    ("DP112", "ids_and_names", ERROR, "a field key outside 1-256 UTF-8 bytes",
     GUIDE + "dp-limits.html: 'Number of UTF8 bytes per field name or identifier | 256 | No'; " + API_MODEL
     + ": fieldNameString min 1, max 256"),
    ("DP113", "ids_and_names", WARNING, "an empty field value",
     API_MODEL + ": fieldStringValue has min 0, so the API accepts it; leaving the field out says the same"),
    ("DP120", "references", ERROR, "a reference to an id no object of the definition has",
     API_MODEL + ": Field.refValue 'A field value that you specify as an identifier of another object in the same "
     "pipeline definition'"),
    ("DP121", "references", WARNING, "a reference to an object of a type the field does not take",
     "each field's description on its type's guide page (e.g. " + GUIDE + "dp-object-emractivity.html 'runsOn: "
     "the Amazon EMR cluster'); the guide does not say the service refuses another type"),
    ("DP122", "references", ERROR, "a reference field given as a plain string",
     GUIDE + "dp-writing-pipeline-definition.html: a reference is written {\"ref\": \"id\"}; every object page gives "
     "these fields the slot type 'Reference Object'"),
    ("DP123", "references", WARNING, "a parent chain that loops",
     "inferred: fields are inherited along parent, which a loop never ends"),
    ("DP130", "types_and_required_fields", ERROR, "an object without type (other than Default or a parent)",
     GUIDE + "dp-writing-pipeline-definition.html: 'type: The type of object. Use one of the predefined AWS Data "
     "Pipeline object types'"),
    ("DP131", "types_and_required_fields", ERROR, "an unknown object type",
     GUIDE + "dp-writing-pipeline-definition.html: 'Use one of the predefined AWS Data Pipeline object types' "
     "(dp-pipeline-objects.html lists them)"),
    ("DP132", "types_and_required_fields", ERROR, "runsOn or workerGroup on a resource",
     GUIDE + "dp-object-emrcluster.html: 'runsOn: This field is not allowed on this object.' (Ec2Resource page: the same)"),
    ("DP133", "types_and_required_fields", ERROR, "a required field that no object, parent or Default sets",
     "the 'Required Fields' table of the type's guide page; " + API_MODEL + ": PutPipelineDefinition 'errored' "
     "means the definition 'cannot be activated until you correct' it"),
    ("DP134", "types_and_required_fields", WARNING, "both releaseLabel and amiVersion on an EmrCluster",
     GUIDE + "dp-object-emrcluster.html lists both as optional; that they exclude each other is inferred from EMR "
     "(a release label replaced AMI versions from emr-4.0.0)"),
    ("DP135", "types_and_required_fields", ERROR, "both fields of an either-or pair (startAt/startDateTime, "
     "command/scriptUri, directoryPath/filePath)",
     GUIDE + "dp-object-schedule.html: 'You must use either startDateTime or startAt but not both.'; the other "
     "pairs are each page's 'Required Group (One of the following is required)'"),
    ("DP136", "types_and_required_fields", WARNING, "both runsOn and workerGroup on an activity",
     GUIDE + "dp-object-emractivity.html: 'If you provide a runsOn value and workerGroup exists, workerGroup is "
     "ignored.' (the same sentence on every activity page)"),
    ("DP137", "types_and_required_fields", ERROR, "none of a required group set",
     "each type's guide page: 'Required Group (One of the following is required)' (runsOn/workerGroup on "
     "activities, command/scriptUri, startAt/startDateTime); " + GUIDE + "dp-object-s3datanode.html: 'You must "
     "provide either a filePath or directoryPath value.'"),
    ("DP138", "types_and_required_fields", WARNING, "an EmrActivity without step",
     GUIDE + "dp-object-emractivity.html lists step under 'Optional Fields' ('One or more steps for the cluster to "
     "run'); without one the activity runs nothing (inferred)"),
    ("DP140", "user_defined_fields", ERROR, "a field that is neither a Data Pipeline field nor user-defined (my...)",
     GUIDE + "dp-writing-pipeline-definition.html: 'A user-defined field must have a name prefixed with the word "
     "\"my\" in all lower-case letters, followed by a capital letter or underscore character.'"),
    # --- DP2: values (value_rules.py) ---
    ("DP201", "expressions", ERROR, "an expression without its closing brace, or an empty one",
     GUIDE + "dp-pipeline-expressions.html: an expression is '#{' ... '}'"),
    ("DP202", "expressions", WARNING, "'#{' inside an expression",
     "inferred: the guide nests function calls inside one #{...} (dp-pipeline-expressions.html, 'Nested "
     "Expressions'), never a #{ inside another"),
    ("DP203", "expressions", ERROR, "a function that is not a Data Pipeline function",
     GUIDE + "dp-pipeline-reference-functions-datetime.html lists the functions"),
    ("DP204", "expressions", ERROR, "a runtime @field that does not exist",
     "the 'Runtime Fields' tables of the object pages, e.g. " + GUIDE + "dp-object-emractivity.html"),
    ("DP205", "expressions", ERROR, "node. used outside an action or a precondition",
     GUIDE + "dp-pipeline-expressions.html: node refers to the object that lists the current object (actions, "
     "preconditions)"),
    ("DP206", "expressions", ERROR, "input./output. read from an object without that reference or field",
     GUIDE + "dp-pipeline-expressions.html, 'Referencing Fields and Objects'"),
    ("DP207", "expressions", ERROR, "a parameter used but not declared",
     GUIDE + "dp-custom-templates.html: variables '#{myVariable}' are declared in the parameters section"),
    ("DP208", "expressions", ERROR, "an unknown identifier in an expression",
     GUIDE + "dp-pipeline-expressions.html: an expression reads a field of the object, a parameter, a runtime "
     "field or input./output./node. paths"),
    ("DP210", "parameters", ERROR, "a parameter id that does not start with 'my'",
     GUIDE + "dp-custom-templates.html: 'It is required that the variable is prefixed by my.'"),
    ("DP211", "parameters", WARNING, "an unknown parameter attribute",
     GUIDE + "dp-custom-templates.html, table 'Parameter Attributes' (id, description, type, optional, allowedValues, "
     "default, isArray); AWS's own templates add watermark, helpText, helpLink, so the service accepts more"),
    ("DP212", "parameters", ERROR, "an unknown parameter type",
     GUIDE + "dp-custom-templates.html, Parameter Attributes: type is 'String, Integer, Double, or AWS::S3::ObjectKey'"),
    ("DP213", "parameters", WARNING, "a parameter declared but never used",
     "lint: an unused parameter has no effect; one referenced from an object's field or from another parameter's "
     "attribute or value counts as used"),
    ("DP214", "parameters", ERROR, "a parameter without default or value (with --require-values)",
     GUIDE + "dp-custom-templates.html, optional: 'Indicates whether the parameter is optional or required. The default "
     "is false.'"),
    ("DP215", "parameters", ERROR, "a parameter value that is not of its type",
     GUIDE + "dp-custom-templates.html, type: 'The parameter type that defines the allowed range of input values and "
     "validation rules.'"),
    ("DP216", "parameters", ERROR, "a parameter value outside its allowedValues",
     GUIDE + "dp-custom-templates.html, allowedValues: 'Enumerates all permitted values for the parameter.'"),
    ("DP217", "parameters", WARNING, "a value for a parameter that is not declared",
     "inferred: a value without its parameter is never read"),
    ("DP220", "scheduling", ERROR, "a scheduleType that is not cron, timeseries or ondemand",
     GUIDE + "dp-object-emractivity.html, scheduleType: 'Values are: cron, ondemand, and timeseries.'"),
    ("DP221", "scheduling", ERROR, "ondemand set elsewhere than on Default, or mixed with other schedule types",
     GUIDE + "dp-object-emractivity.html, scheduleType: 'If you use an ondemand schedule, it must be specified in the "
     "default object and must be the only scheduleType specified for objects in the pipeline.'"),
    ("DP222", "scheduling", ERROR, "a failureAndRerunMode that is not none or cascade",
     GUIDE + "dp-manage-cascade-failandrerun.html: the Enumeration failureAndRerunMode is cascade or none (the default)"),
    ("DP223", "scheduling", ERROR, "a Schedule object or schedule reference in an on-demand pipeline",
     GUIDE + "dp-concepts-schedules.html: 'On-demand pipelines require that you not use a schedule object'"),
    ("DP224", "scheduling", WARNING, "lateAfterTimeout in an on-demand pipeline",
     GUIDE + "dp-object-emractivity.html, lateAfterTimeout: 'It is triggered only when the schedule type is not set "
     "to ondemand.' (no effect)"),
    ("DP225", "scheduling", ERROR, "a scheduled object without schedule (directly, by a parent or by Default)",
     GUIDE + "dp-object-copyactivity.html, schedule: 'Users must specify a schedule reference to another object ... "
     "put the schedule reference on the default pipeline object so that all objects inherit that schedule'"),
    ("DP226", "scheduling", ERROR, "a Schedule period that is not '<n> <unit>' or is under 15 minutes",
     GUIDE + "dp-limits.html: 'Minimum scheduling interval | 15 minutes | No'; dp-object-schedule.html, period"),
    ("DP227", "scheduling", ERROR, "a Schedule startAt, startDateTime, endDateTime or occurrences out of format",
     GUIDE + "dp-object-schedule.html: startAt's only value is FIRST_ACTIVATION_DATE_TIME; DateTime is "
     "YYYY-MM-DDTHH:MM:SS"),
    ("DP228", "scheduling", WARNING, "a Schedule with both endDateTime and occurrences",
     GUIDE + "dp-object-schedule.html lists both as optional; that one excludes the other is inferred"),
    ("DP230", "value_ranges", ERROR, "a read or write throughput ratio outside 0.1-1.0",
     GUIDE + "dp-object-dynamodbdatanode.html, readThroughputPercent: 'The value is a double between 0.1 and 1.0, "
     "inclusively.'"),
    ("DP231", "value_ranges", ERROR, "maximumRetries that is not 0-5",
     GUIDE + "dp-limits.html: 'Retries of a pipeline activity | 5 per task | No'"),
    ("DP232", "value_ranges", ERROR, "a retryDelay that is not a period of at least 2 minutes",
     GUIDE + "dp-limits.html: 'Minimum delay between retry attempts | 2 minutes | No'"),
    ("DP233", "value_ranges", ERROR, "a count field that is not a whole number",
     "the guide's slot type Integer of coreInstanceCount, taskInstanceCount and the EBS fields"),
    ("DP234", "value_ranges", ERROR, "a period field that is not '<n> <unit>'",
     GUIDE + "dp-object-emractivity.html: the slot type 'Period' (e.g. attemptTimeout, lateAfterTimeout)"),
    ("DP235", "value_ranges", ERROR, "an s3EncryptionType that is not SERVER_SIDE_ENCRYPTION or NONE",
     GUIDE + "dp-object-s3datanode.html, s3EncryptionType: 'Values are SERVER_SIDE_ENCRYPTION or NONE.'"),
    ("DP236", "value_ranges", ERROR, "a DynamoDBDataNode tableName that is neither a table name nor a table ARN",
     "DynamoDB Developer Guide, 'Naming rules': a table name is 3-255 characters of a-z A-Z 0-9 _ - .; DynamoDB's "
     "API reference: TableName also takes the table's ARN (what a copy into another account writes)"),
    ("DP240", "jar_class_pairing", ERROR, "a connector jar run with a class it does not hold",
     CONNECTOR + ": the tools' classes are DynamoDBExport and DynamoDBImport (java ClassNotFoundException otherwise); "
     "emr-ddb-2.1.0.jar's are DynamoDbExport and DynamoDbImport (AWS's data-pipeline-samples)"),
    # --- DP3: flow and connector steps (flow_rules.py) ---
    ("DP301", "depends_on_cycles", ERROR, "a dependsOn loop",
     "inferred: no activity of a loop can start, since each waits for another of it"),
    ("DP302", "connector_arguments", ERROR, "a connector tool step with too few arguments",
     CONNECTOR + ": DynamoDBExport/DynamoDBImport run() 'if (args.length < 2) { printUsage(\"Not enough parameters\"); "
     "return -1; }'"),
    ("DP303", "connector_arguments", WARNING, "a connector tool step with more arguments than the tool reads",
     CONNECTOR + ": 'Usage: Export <path> <table-name> [<read-ratio>] [<total-segment-count>]', 'Usage: Import "
     "<path> <table-name> [<write-ratio>]'; further arguments are ignored"),
    ("DP304", "connector_arguments", ERROR, "a connector tool argument in the wrong place (a swap)",
     CONNECTOR + ": args[0] is the S3 path, args[1] the table, args[2] Double.parseDouble(ratio) ('Could not parse "
     "read ratio'), args[3] Integer.parseInt(segments)"),
    ("DP305", "instance_generations", WARNING, "a previous-generation EMR instance type",
     "EC2 'Previous generation instances' page; Amazon EMR 'Supported instance types'"),
    # --- DP4: the guide's per-type field tables (guide_rules.py) ---
    ("DP401", "guide_fields", WARNING, "a deprecated object type",
     GUIDE + "dp-object-mysqldatanode.html: deprecated, use SqlDataNode"),
    ("DP402", "guide_fields", WARNING, "a field the guide marks deprecated",
     "the type's guide page (object_fields.py): the field's description is 'Deprecated.'"),
    ("DP403", "guide_fields", WARNING, "a field the guide does not list for the type",
     "the type's guide page (object_fields.py); the archived guide lags the service in places"),
    ("DP404", "guide_fields", ERROR, "a Reference field given as a string",
     "the type's guide page (object_fields.py): slot type 'Reference Object, e.g. \"field\":{\"ref\":\"id\"}'"),
    ("DP405", "guide_fields", WARNING, "a Boolean field that is not true or false",
     "the type's guide page (object_fields.py): slot type Boolean; what the service does with another value is not "
     "documented"),
    ("DP406", "guide_fields", ERROR, "a field the guide requires that is not set",
     "the 'Required Fields' table of the type's guide page (object_fields.py)"),
    ("DP407", "guide_fields", ERROR, "none of a group the guide requires set",
     "the 'Required Group (One of the following is required)' table of the type's guide page (object_fields.py)"),
    # --- DP5: Hive (hive_rules.py, hive_script_rules.py, attempt_rules.py) ---
    ("DP501", "hive_copy", ERROR, "a HiveCopyActivity input or output that is not an S3 or DynamoDB node",
     GUIDE + "dp-object-hivecopyactivity.html, input: 'This must be a S3DataNode or DynamoDBDataNode.'"),
    ("DP502", "hive_copy", ERROR, "a HiveCopyActivity from S3 into anything but DynamoDB",
     GUIDE + "dp-object-hivecopyactivity.html, output: 'If input is S3DataNode, this must be DynamoDBDataNode.'"),
    ("DP503", "hive_copy", ERROR, "a HiveCopyActivity DynamoDB node without a DynamoDBExportDataFormat",
     GUIDE + "dp-object-hivecopyactivity.html, input: 'If you use DynamoDBNode, specify a DynamoDBExportDataFormat.'"),
    ("DP504", "hive_copy", ERROR, "a filterSql that begins with WHERE",
     GUIDE + "dp-object-hivecopyactivity.html, filterSql: 'should only contain predicates and not begin with a WHERE "
     "clause, because AWS Data Pipeline adds it automatically'"),
    ("DP505", "hive_copy", ERROR, "a filterSql with unbalanced quotes or parentheses",
     HIVE_MANUAL + ": the statement does not parse"),
    ("DP506", "hive_copy", ERROR, "a filterSql column the input's format does not declare",
     HIVE_MANUAL + ": an unknown column fails semantic analysis"),
    ("DP507", "hive_copy", ERROR, "a DynamoDBExportDataFormat column that is not '<name> <TYPE>' with a Hive type",
     GUIDE + "dp-object-dynamodbexportdataformat.html, column: 'Column name with datatype ... Ex: hostname STRING'; "
     + HIVE_MANUAL + ", 'Primitive Types'"),
    ("DP508", "hive_copy", WARNING, "a BOOLEAN column",
     GUIDE + "dp-object-dynamodbexportdataformat.html: 'DynamoDB Boolean types are not mapped to Hive Boolean types.'"),
    ("DP509", "hive_copy", ERROR, "a column declared twice in one format",
     HIVE_MANUAL + ": a table's column names are unique (case-insensitive)"),
    ("DP510", "hive_clusters", WARNING, "a cluster that runs Hive without hive-site MapReduce and no filter pushdown",
     "Amazon EMR Release Guide, 'Set up a Hive table to run Hive commands' (recommends MapReduce with DynamoDB); "
     "the connector's DynamoDBFilterPushdown"),
    ("DP511", "script_backslashes", WARNING, "a hiveScript with a backslash",
     "inferred from Data Pipeline removing a backslash from a step's arguments"),
    ("DP520", "hive_scripts", WARNING, "this project's HiveActivity without its input and output tables",
     "this project's script (hive_projection.py, hive_verify.py) reads and writes DynamoDB nodes only"),
    ("DP521", "hive_scripts", WARNING, "this project's HiveActivity script holding '${'",
     HIVE_MANUAL + ", 'Variable Substitution': Hive substitutes ${...} before the script runs"),
    ("DP522", "hive_scripts", WARNING, "a HiveActivity script that starts as this project's but is not one it writes",
     "this project's script reader (hive_projection.read_script, hive_verify.read_verify_script)"),
    ("DP523", "hive_scripts", ERROR, "this project's HiveActivity WHERE with unbalanced quotes or parentheses",
     HIVE_MANUAL + ": the statement does not parse"),
    ("DP524", "hive_scripts", ERROR, "this project's HiveActivity WHERE naming an undeclared column",
     HIVE_MANUAL + ": an unknown column fails semantic analysis"),
    ("DP525", "hive_scripts", WARNING, "this project's HiveActivity with staging on",
     GUIDE + "dp-object-hiveactivity.html, stage: staging declares tables of its own from the nodes' formats"),
    # --- DP6: attempts and activation values (attempt_rules.py, injection_rules.py) ---
    ("DP601", "export_retries", WARNING, "a removal step that removes another folder than the activity's output",
     "inferred: the step deletes data this activity does not write"),
    ("DP602", "export_retries", WARNING, "an export into an S3 folder its retries find full",
     CONNECTOR + ": ExportOutputFormat writes no _temporary folder, so a retry fails with FileAlreadyExistsException "
     "(the first attempt runs)"),
    ("DP610", "parameter_code", WARNING, "a parameter that reaches code (a command, script or step)",
     GUIDE + "dp-pipeline-expressions.html: a value given at activation replaces the stored one as text; the "
     "service checks nothing about it (a security lint, never a refusal)"),
)

RULES: tuple[Rule, ...] = tuple(Rule(*row) for row in _TABLE)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


class SelectorError(ValueError):
    """A --select/--ignore value that names no rule; str() is the one-line message."""


def check_selectors(option: str, values: tuple[str, ...]) -> None:
    """Each value must be a rule id or a prefix of one (``DP1``, ``DP30``); raises SelectorError naming the
    option, the value and what is allowed, with the closest id."""
    for value in values:
        if not any(rule.id.startswith(value.upper()) for rule in RULES) or not value:
            close = difflib.get_close_matches(value.upper(), [r.id for r in RULES], n=1) if len(value) >= 5 else []
            hint = f"; did you mean {close[0]}?" if close else ""
            raise SelectorError(f"{option}: '{value}' is not allowed; expected a rule id or a prefix of one "
                                f"(DP1 to DP6, e.g. DP1 or DP304){hint}")


def is_selected(rule_id: str, *, select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> bool:
    """``select`` (when given) keeps the rules whose id starts with one of its values; ``ignore`` then drops
    those whose id starts with one of its own. The longer match wins when both name a rule (``--ignore DP3
    --select DP304`` keeps DP304), as in ruff."""
    rule_id = rule_id.upper()

    def best(prefixes: tuple[str, ...]) -> int:
        return max((len(p) for p in prefixes if rule_id.startswith(p.upper())), default=-1)

    chosen = best(select) if select else 0
    if chosen < 0:
        return False
    dropped = best(ignore)
    return dropped < 0 or chosen > dropped


def markdown(rules: tuple[Rule, ...] = RULES) -> str:
    """docs/linter-rules.md: every rule with its severity, title and source, generated from this table."""
    lines = [
        "# Definition linter rules",
        "",
        "Generated by `python -m ddb_datapipeline validate --list-rules --format markdown` from",
        "`ddb_datapipeline/definition/rule_registry.py`; do not edit by hand.",
        "",
        "An **error** is what the service refuses (its source says so) or what certainly fails at run time; a",
        "**warning** is lint. `--select` and `--ignore` take ids or prefixes (`--ignore DP1`). This project's",
        "own synth fails on every finding, whatever its severity.",
        "",
        "| id | severity | rule | family | source |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        cells = (rule.id, rule.severity, rule.title, f"`{rule.check}`", rule.source)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
