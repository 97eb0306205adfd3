"""Property: whatever configuration a user writes, loading and planning it ends in a plan or in one
ConfigError line naming a configuration path, never in another exception.

Configurations are generated from the documented schema (docs/configuration.md): environments of both
engines with tables, exports, restores, copies (incremental, filtered, some attributes), drills, stack
groups, buckets, topics and keys, each field drawn from values that are valid, nearly valid (a pasted line
break, full-width digits, a string where a number belongs, a neighbouring region, a length at a limit) or
of the wrong type, or with one such mistake in an otherwise valid configuration. An accepted configuration's
filtered and incremental copies are rendered too (their Hive definitions, built and validated without the CDK).
Budget: ``EXAMPLES`` examples, derandomized (the same examples on every run): about 2.5 s of CPU for this module's
pytest run on this project's 2-core test machine (time.process_time around pytest.main, collection included).
"""
from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.config.planning import Plan, plan
from ddb_datapipeline.definition.common import PipelineSettings
from ddb_datapipeline.definition.hive_copy import HiveCopySpec, build_hive_copy_definition

EXAMPLES = 300

# --- Valid configurations, from the documented schema ------------------------------------------------
KEY_NAMES = ("pk", "sk", "id", "updated_at", "status")
TABLE_NAMES = ("orders", "events", "customers", "t" * 200, "u" * 230)
PERIODS = ("15 minutes", "1 hour", "6 hours", "1 day", "2 days", "1 week")
FILTERS = ("status = 'OPEN'", "total > 100", "pk = 5", "pk = 'a'", "sk > 3", "status is null", "updated_at > 5",
           "status in ('A', 'B') and total >= 1", "id = 'x' or total < 2", "DDB_ITEM = 'x'", "status = 'a' and", "total > 1e5",
           "select > 1", "Status = 'a' or status = 'b'")


@st.composite
def owned(draw: st.DrawFn) -> dict[str, Any]:
    partition = draw(st.sampled_from(KEY_NAMES[:3]))
    found: dict[str, Any] = {"partition_key": {"name": partition, "type": draw(st.sampled_from("SSNNB"))}}
    if draw(st.booleans()):
        found["sort_key"] = {"name": draw(st.sampled_from([name for name in KEY_NAMES if name != partition])),
                             "type": draw(st.sampled_from("SN"))}
    return found


@st.composite
def datapipeline_copy(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A copy of an owned table: whole, incremental, filtered or both, valid by construction unless the
    filter's or the window's types disagree with the key's."""
    kind = draw(st.sampled_from(("whole", "incremental", "filter", "filter", "both")))
    schedules = ("6 hours", "1 day", "2 days") if kind in ("incremental", "both") else ("ondemand", *PERIODS)
    copy: dict[str, Any] = {"target_table": f"copy-{index}", "owned": draw(st.booleans()),
                            "region": draw(st.sampled_from(("us-east-1", "eu-west-1", "us-west-2"))),
                            "schedule": draw(st.sampled_from(schedules))}
    if kind in ("incremental", "both"):
        copy["incremental"] = {"attribute": draw(st.sampled_from(KEY_NAMES)), "format": draw(st.sampled_from(("epoch_seconds", "iso8601"))),
                               "overlap": draw(st.sampled_from(("15 minutes", "1 hour")))}
    if kind in ("filter", "both"):
        copy["filter"] = draw(st.sampled_from(FILTERS))
        if "is null" in copy["filter"] or draw(st.integers(0, 4)) == 0:
            copy["attribute_types"] = {draw(st.sampled_from(("status", *KEY_NAMES))): draw(st.sampled_from("SN"))}
        if draw(st.booleans()):
            copy["attributes"] = ["status", "total"]
    return copy


@st.composite
def table(draw: st.DrawFn, index: int, engine: str) -> dict[str, Any]:
    name = draw(st.sampled_from(TABLE_NAMES))
    found: dict[str, Any] = {"name": f"{name}{index}" if index else name}
    if draw(st.integers(0, 3)) > 0:
        found["owned"] = draw(owned())
    schedule = draw(st.sampled_from(("ondemand", *PERIODS)))
    found["export"] = {"schedule": schedule}
    if schedule != "ondemand" and draw(st.booleans()):
        found["export"]["late_after"] = draw(st.sampled_from(("1 hour", "6 hours", "2 days")))
    if engine == "native":
        if draw(st.booleans()):
            found["export"]["incremental"] = draw(st.sampled_from(("15 minutes", "1 hour", "1 day")))
        found["restore"] = {"target_prefix": f"{found['name']}-r"}
        if "owned" in found and draw(st.booleans()):
            found["restore"]["drill"] = draw(st.sampled_from(("1 day", "7 days")))
        if "owned" in found and draw(st.booleans()):
            found["copies"] = [{"target_prefix": draw(st.sampled_from(("copy", f"{found['name']}-c", "x" * 240))),
                                "region": draw(st.sampled_from(("us-east-1", "us-west-2"))),
                                "schedule": draw(st.sampled_from(("ondemand", "1 day")))}]
    elif "owned" in found and draw(st.integers(0, 3)) > 0:
        found["copies"] = [draw(datapipeline_copy(number)) for number in range(draw(st.integers(1, 2)))]
    if draw(st.booleans()):
        found["size_gib"], found["item_count"] = 10, 1_000_000
    return found


@st.composite
def environment(draw: st.DrawFn) -> dict[str, Any]:
    engine = draw(st.sampled_from(("datapipeline", "native")))
    env: dict[str, Any] = {"account": draw(st.sampled_from(("111111111111", "222222222222"))),
                           "region": draw(st.sampled_from(("us-east-1", "eu-west-1", "ap-northeast-1"))), "engine": engine,
                           "alarm_emails": ["oncall@example.com"]}
    if draw(st.booleans()):
        env["alarm_topic_arn"] = f"arn:aws:sns:{env['region']}:111111111111:alerts"
        env["alarm_topic_admits_cloudwatch"] = True
    if draw(st.booleans()):
        env["table_stacks"] = 3  # several table stacks state their assignment (config/stack_groups.py)
        env["stack_assignment"] = draw(st.sampled_from(("rendezvous", "modulo")))
    env["tables"] = [draw(table(index, engine)) for index in range(draw(st.integers(1, 2)))]
    return env


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(("dev", "prod", "analytics", "e" * 20)), min_size=1, max_size=2, unique=True))
    return {"environments": {name: draw(environment()) for name in names}}


# --- Mutations: the plausible mistakes ----------------------------------------------------------------
FULL_WIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")
NEAR = (
    lambda value: f"{value}\n", lambda value: f" {value}", lambda value: str(value).translate(FULL_WIDTH),
    lambda value: str(value), lambda value: str(value).upper(), lambda value: f"{value}{'x' * 250}",
)
WRONG = (None, 2, "2", -1, 0.5, True, "", [], {}, "1 month", "10 minutes", "25 hours", "30 days", "a@.com",
         "arn:aws-cn:sns:cn-north-1:111111111111:alerts", "arn:aws:sns:eu-west-2:111111111111:alerts",
         "arn:aws:kms:eu-west-2:111111111111:key/12345678-1234-1234-1234-123456789012",
         "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/12345678-1234-1234-1234-123456789012",
         "2026-02-30T10:00:00", "2026-01-31T10:00:00", "status > 'x' and status < 3", "pk > 'a'", "us-esat-1")
FIELDS = ("alarm_topic_arn", "alarm_topic_key_arn", "late_after", "incremental", "drill", "filter", "attribute_types", "start",
          "stack_group", "existing_bucket_name", "existing_key_arn", "shedule", "target_prefix", "subnet_id")


def places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value or an object in ``node``."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += places(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking configuration with one mistake: a value replaced, nearly right or of another type, or a field
    added to an object (sometimes misspelt, sometimes one that belongs elsewhere)."""
    context = draw(configurations())
    path = draw(st.sampled_from(places(context["environments"])[1:]))
    parent: Any = context["environments"]
    for key in path[:-1]:
        parent = parent[key]
    value = parent[path[-1]]
    if isinstance(value, dict) and draw(st.booleans()):
        value[draw(st.sampled_from(FIELDS))] = draw(st.sampled_from(WRONG))
    elif isinstance(value, (str, int)) and not isinstance(value, bool) and draw(st.booleans()):
        parent[path[-1]] = draw(st.sampled_from(NEAR))(value)
    else:
        parent[path[-1]] = draw(st.sampled_from(WRONG))
    return context


CONTEXTS = st.one_of(configurations(), mutated(), mutated())


SETTINGS = PipelineSettings("eu-west-1", "PipelineRole", "NodesProfile", "s3://logs/dp", "arn:aws:sns:eu-west-1:111111111111:alerts")


def rendered(planned: Plan) -> None:
    """What synth does with a selective copy, without the CDK: its Hive definition, built and validated (the Hive
    rendering is where filter and window combinations used to end in a ValueError)."""
    for env in planned.environments:
        for table in env.tables:
            for copy in table.copies:
                if copy.selection is None:
                    continue
                spec = HiveCopySpec(source_table_name=table.name, target_table=copy.target_table, target_region=copy.region,
                                    read_ratio=copy.read_ratio, write_ratio=copy.write_ratio, cluster=env.emr, selection=copy.selection,
                                    schedule=copy.schedule)
                build_hive_copy_definition(spec, SETTINGS)


def checked(context: dict[str, Any]) -> None:
    """Plans ``context``: a plan whose selective copies render, or a ConfigError of one line that starts with a
    configuration path."""
    try:
        planned = plan(context)
    except ConfigError as error:
        message = str(error)
        assert message and "\n" not in message, message
        assert message.startswith(("environments", "delivery", "env")), message
        return
    rendered(planned)


# No shrinking: a failure prints the first failing configuration at once (shrinking one took minutes here).
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(CONTEXTS)
# Found while writing this test: the connector scripts' own column name in a filter passed the loader and ended in a
# ValueError in the Hive rendering (kept as an explicit example, since 300 draws rarely combine it with attributes).
@example({"environments": {"dev": {"region": "eu-west-1", "tables": [
    {"name": "orders", "owned": {"partition_key": {"name": "pk", "type": "S"}},
     "copies": [{"target_table": "orders-c", "owned": True, "schedule": "1 day", "filter": "ddb_item = 'x'", "attributes": ["status"]}]}]}}})
def test_planning_ends_in_a_plan_or_one_configuration_line(context: dict[str, Any]) -> None:
    checked(context)
