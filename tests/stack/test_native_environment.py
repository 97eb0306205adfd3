"""engine: native in the configuration: a native environment has no Data Pipeline, no EMR, no Lambda and
no pipeline role, a schedule and a state machine per table; a mixed one has both kinds side by side."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.permissions.assembly_view import load_world
from ddb_datapipeline.permissions.audit import denied, outcomes
from local_deploy.deploy import project_context
from tests.conftest import Synthesis, statement_actions, synthesize, world_without

OWNED = {"partition_key": {"name": "pk", "type": "S"}}


@pytest.fixture(scope="module")
def native(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    base = {k: v for k, v in project_context().items() if k not in ("environments", "delivery")}
    environments = {
        "nat": {"account": "111111111111", "region": "eu-west-1", "engine": "native", "tables": [
            {"name": "orders", "owned": OWNED, "export": {"schedule": "6 hours", "late_after": "2 hours", "incremental": "1 hour"},
             "restore": {"drill": "7 days"},
             "copies": [{"target_prefix": "orders-staging", "schedule": "1 day"},
                        {"target_prefix": "orders-analytics", "account": "222222222222"},
                        {"target_prefix": "orders-dr", "region": "us-west-2", "schedule": "1 day"},
                        {"target_prefix": "orders-far", "region": "us-east-1", "account": "222222222222"}]},
            {"name": "customers", "export": {"schedule": "1 day"}},  # referenced: its key may be a customer managed one
        ]},
        "mix": {"account": "111111111111", "region": "us-east-1", "tables": [
            {"name": "ledger", "owned": OWNED},
            {"name": "events", "owned": OWNED, "engine": "native"},
        ]},
        # native tables in table stacks: the bucket, topic and keys are the environment stack's
        # log_retention_days 100: CloudWatch Logs has no 100-day period, so its machines keep their logs 120 days
        "spread": {"account": "111111111111", "region": "us-west-2", "engine": "native", "table_stacks": 2,
                   "stack_assignment": "rendezvous", "export_bucket": {"log_retention_days": 100}, "tables": [
            {"name": "alpha", "stack_group": "tables-01", "owned": OWNED},
            {"name": "beta", "stack_group": "tables-02", "owned": OWNED},
        ]},
    }
    return synthesize({**base, "environments": environments}, tmp_path_factory.mktemp("native"))


def kinds(synthesis: Synthesis, environment: str) -> Counter[str]:
    return Counter(r["Type"] for r in synthesis.template(environment)["Resources"].values())


def test_a_native_environment_has_no_data_pipeline_emr_lambda_or_pipeline_role(native):
    found = kinds(native, "nat")
    # an export per table, incremental exports, a restore and a copy for the owned one (a referenced table's key schema is unknown)
    assert found["AWS::StepFunctions::StateMachine"] == 9 and found["AWS::Scheduler::Schedule"] == 6
    assert not any(t.startswith(("AWS::DataPipeline::", "AWS::EMR::", "AWS::Lambda::")) for t in found)
    assert found["AWS::IAM::InstanceProfile"] == 0 and found["AWS::IAM::ManagedPolicy"] == 0
    outputs = native.template("nat")["Outputs"]
    assert {"OrdersExportStateMachineArn", "CustomersExportStateMachineArn", "OrdersRestoreStateMachineArn",
            "OrdersCopyOrdersStagingStateMachineArn", "OrdersIncrementalStateMachineArn", "OrdersRestoreDrillStateMachineArn"} <= set(outputs)
    assert "CustomersRestoreStateMachineArn" not in outputs


def test_a_mixed_environment_has_both_engines_side_by_side(native):
    found = kinds(native, "mix")
    assert found["AWS::DataPipeline::Pipeline"] == 2  # ledger: export and restore
    assert found["AWS::StepFunctions::StateMachine"] == 2  # events: export and restore


def test_the_machines_keep_their_logs_the_configured_log_retention_days_encrypted_with_their_stacks_key(native):
    """nat and its copy targets: the default 90 days; spread: 100 days configured, kept 120 (the next period CloudWatch
    Logs offers). Each stack's log groups name its own LogsKey."""
    groups, machines = {}, 0
    for stack in load_assembly(native.outdir).stacks:
        resources = json.loads(stack.template_text)["Resources"]
        machines += sum(1 for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine")
        for logical, resource in resources.items():
            if resource["Type"] == "AWS::Logs::LogGroup":
                key = resource["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]
                assert key.startswith("LogsKey") and resources[key]["Type"] == "AWS::KMS::Key", (stack.name, logical)
                groups[(stack.name, logical)] = resource["Properties"]["RetentionInDays"]
    assert len(groups) == machines > 0  # a log group per state machine
    assert {(name, days) for (name, _), days in groups.items() if days != 90} == {
        (name, 120) for name, _ in groups if name.startswith("DdbDataPipeline-spread")}
    assert any(name.startswith("DdbDataPipeline-nat-copy-targets") for name, _ in groups)


def test_cdk_nag_is_clean(native):
    (solutions,) = [p for p in native.report()["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert [v["ruleName"] for v in solutions["violations"]] == []


def test_every_runtime_call_is_allowed_on_both_engines(native):
    world = load_world(load_assembly(native.outdir))
    assert len(world.state_machines) == 11 + 2 + 4 and len(world.pipelines) == 2  # nat, its two import machines elsewhere, mix, spread
    assert {m.stack for m in world.state_machines if "spread" in m.stack} == {"DdbDataPipeline-spread-tables-01", "DdbDataPipeline-spread-tables-02"}
    actions = {o.expected.request.action for o in outcomes(world)}
    assert {"dynamodb:ExportTableToPointInTime", "dynamodb:ImportTable", "states:StartExecution", "elasticmapreduce:RunJobFlow",
            "events:PutEvents"} <= actions
    assert [o.line() for o in denied(world)] == []


def test_cfn_lint_reports_nothing(native, cfn_lint):
    assert cfn_lint(native.outdir) == []


def test_parliament_accepts_every_policy_and_the_model_agrees_with_aws_service_reference(native):
    from tests.oracles.iam import model_mismatches, parliament_findings

    assert parliament_findings(native.outdir) == []
    assert model_mismatches(load_world(load_assembly(native.outdir))) == []


def test_the_permission_check_counts_the_state_machines(native, capsys):
    from ddb_datapipeline.__main__ import main

    assert main(["permissions", "--cdk-out", str(native.outdir)]) == 0
    assert capsys.readouterr().err.startswith("2 pipelines, 17 state machines, ")


def test_the_review_draws_each_state_machine_and_names_its_schedule(native):
    from ddb_datapipeline.assembly import load_assembly
    from ddb_datapipeline.review import state_machines
    from tests.review.mermaid_subset import parse

    stack = load_assembly(native.outdir).stack("DdbDataPipeline-nat")
    text = state_machines.section(stack, 3)
    assert "#### ddb-nat-orders-native-export" in text and "started by EventBridge Scheduler, `rate(6 hours)`" in text
    assert "#### ddb-nat-orders-native-restore" in text and "started by hand" in text
    assert "#### ddb-nat-orders-native-copy-orders-staging" in text and "`rate(1 day)`" in text
    diagrams = [block.split("```", 1)[0] for block in text.split("```mermaid\n")[1:]]
    assert "#### ddb-nat-orders-native-incremental" in text and "`rate(1 hour)`" in text
    assert len(diagrams) == 9
    export = text.split("#### ddb-nat-orders-native-export", 1)[1].split("```mermaid\n", 1)[1].split("```", 1)[0]
    chart = parse(export)
    assert ("n_Export", "error", "n_Failed") in chart.edges and ("n_Finished_", "rule 1", "n_Exported") in chart.edges


def test_a_copy_into_another_account_stages_there_and_imports_as_a_role_there(native):
    from ddb_datapipeline.assembly import load_assembly

    machines = [m for m in native.template("nat")["Resources"].values() if m["Type"] == "AWS::StepFunctions::StateMachine"
                and m["Properties"]["StateMachineName"] == "ddb-nat-orders-native-copy-orders-analytics"]
    assert len(machines) == 1
    text = json.dumps(machines[0]["Properties"]["DefinitionString"])
    assert '\\"S3BucketOwner\\":\\"222222222222\\"' in text and "ddb-nat-copies-222222222222-eu-west-1" in text
    assert ('\\"Credentials\\":{\\"RoleArn\\":\\"arn:' in text and
            ":iam::222222222222:role/ddb-nat-orders-copy-orders-analytics-import" in text)
    target = load_assembly(native.outdir).stack("DdbDataPipeline-nat-copy-targets-222222222222-eu-west-1")
    (role,) = [r["Properties"] for r in target.resources_of_type("AWS::IAM::Role").values()
               if r["Properties"].get("RoleName") == "ddb-nat-orders-copy-orders-analytics-import"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}  # the role may not exist yet when this stack deploys
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/ddb-nat-orders-copy-orders-analytics-machine"}}
    policies = [p["Properties"]["PolicyDocument"]["Statement"] for p in target.resources_of_type("AWS::IAM::Policy").values()]
    actions = {a for statements in policies for st in statements for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])}
    assert {"dynamodb:ImportTable", "dynamodb:DescribeImport", "s3:GetObject", "s3:ListBucket"} <= actions
    assert not {a for a in actions if a.startswith("dynamodb:") and a not in ("dynamodb:ImportTable", "dynamodb:DescribeImport")}
    statements = [st for policy in target.resources_of_type("AWS::S3::BucketPolicy").values()
                  for st in policy["Properties"]["PolicyDocument"]["Statement"]]
    export = [st for st in statements if st.get("Sid", "").endswith("Export")]
    assert len(export) == 1 and export[0]["Condition"] == trust["Condition"]


def test_a_cross_account_copy_needs_both_sides_of_the_assume_role(native):
    """Take sts:AssumeRole off the copy's machine role: the trust policy in the other account still names it,
    but the machine's own account no longer lets it assume the role, and the check says so."""
    world = world_without(load_world(load_assembly(native.outdir)), "", lambda st: st["Action"] == "sts:AssumeRole"
                          and "Principal" not in st)
    lines = [o.line() for o in denied(world)]
    assert lines == [
        "DdbDataPipeline-nat/ddb-nat-orders-native-copy-orders-analytics (native): machine "
        "arn:aws:iam::111111111111:role/ddb-nat-orders-copy-orders-analytics-machine may not sts:AssumeRole on "
        "arn:aws:iam::222222222222:role/ddb-nat-orders-copy-orders-analytics-import: cross-account: the trust policy allows, "
        "but no identity policy of the caller allows sts:AssumeRole [the machine assumes the role a Task runs as]"
    ]


def test_a_copy_into_another_region_hands_over_to_an_import_machine_there_by_an_event(native):
    """The source machine exports into the target region's staging bucket and puts an event; its rule
    forwards to the copies' bus there, whose rule starts the import machine with the event's detail.
    Into another account too, where the bus admits that one rule only."""
    template = native.template("nat")
    machines = {m["Properties"]["StateMachineName"]: json.dumps(m["Properties"]["DefinitionString"])
                for m in template["Resources"].values() if m["Type"] == "AWS::StepFunctions::StateMachine"}
    source = machines["ddb-nat-orders-native-copy-orders-dr"]
    assert "ddb-nat-copies-111111111111-us-west-2" in source and "events:putEvents" in source and "importTable" not in source
    assert '\\"copy\\":\\"orders/orders-dr\\"' in source
    assert '\\"S3BucketOwner\\":\\"222222222222\\"' in machines["ddb-nat-orders-native-copy-orders-far"]
    forwards = {r["Properties"]["Name"]: r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"}
    assert forwards["ddb-nat-orders-copy-orders-dr-forward"]["Targets"][0]["Arn"] == "arn:aws:events:us-west-2:111111111111:event-bus/ddb-nat-copies"
    assert forwards["ddb-nat-orders-copy-orders-dr-forward"]["EventPattern"]["detail"] == {"copy": ["orders/orders-dr"]}

    target = load_assembly(native.outdir).stack("DdbDataPipeline-nat-copy-targets-us-west-2")
    (bus,) = target.resources_of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == "ddb-nat-copies"
    (deny,) = bus["Properties"]["Policy"]["Statement"]  # the same account: only the forward rule's deliveries pass
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", {"AWS": "*"}, "events:PutEvents")
    assert deny["Condition"] == {"ArnNotEquals": {"aws:SourceArn": ["arn:aws:events:eu-west-1:111111111111:rule/"
                                                                    "ddb-nat-orders-copy-orders-dr-forward/ddb-nat-orders-copy-orders-dr-forward"]}}
    (start,) = [r["Properties"] for r in target.resources_of_type("AWS::Events::Rule").values()]
    assert start["EventPattern"]["detail"] == {"copy": ["orders/orders-dr"]} and start["Targets"][0]["InputPath"] == "$.detail"
    (machine,) = target.resources_of_type("AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["StateMachineName"] == "ddb-nat-orders-native-copy-orders-dr-import"
    assert "importTable" in json.dumps(machine["Properties"]["DefinitionString"])
    assert target.resources_of_type("AWS::SNS::Topic")  # Step Functions publishes in its own region only
    from ddb_datapipeline.review import state_machines

    assert ("started by an EventBridge rule on the bus `ddb-nat-copies`, for events `ddb-datapipeline`, "
            "`DynamoDB copy exported`, copy `orders/orders-dr`.") in state_machines.section(target, 3)

    far = load_assembly(native.outdir).stack("DdbDataPipeline-nat-copy-targets-222222222222-us-east-1")
    (bus,) = far.resources_of_type("AWS::Events::EventBus").values()
    statement, deny = bus["Properties"]["Policy"]["Statement"]
    far_rule = "arn:aws:events:eu-west-1:111111111111:rule/ddb-nat-orders-copy-orders-far-forward/ddb-nat-orders-copy-orders-far-forward"
    assert statement["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": far_rule}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"ArnNotEquals": {"aws:SourceArn": [far_rule]}}


def test_a_cross_account_copy_into_another_region_needs_the_bus_policy(native):
    world = world_without(load_world(load_assembly(native.outdir)), "bus policy", lambda st: True)
    (line,) = [o.line() for o in denied(world)]
    assert line.startswith("DdbDataPipeline-nat/ddb-nat-orders-native-copy-orders-far (native): rule arn:aws:iam::111111111111:role/")
    assert line.endswith("may not events:PutEvents on arn:aws:events:us-east-1:222222222222:event-bus/ddb-nat-copies: "
                         "the resource policy of the other account does not allow it [the rule forwards the event to a "
                         "bus in another region or account]")


@pytest.mark.parametrize("lost, expected", [
    ("start", "ddb-nat-orders-native-copy-orders-dr: its event ddb-datapipeline/DynamoDB copy exported on "
              "arn:aws:events:eu-west-1:111111111111:event-bus/ddb-nat-orders-copy-orders-dr-forward starts no state machine"),
    ("forward", "ddb-nat-orders-native-copy-orders-dr: its event ddb-datapipeline/DynamoDB copy exported on "
                "arn:aws:events:eu-west-1:111111111111:event-bus/ddb-nat-orders-copy-orders-dr-forward starts no state machine"),
])
def test_an_event_that_starts_no_import_is_a_gap_of_the_model(native, lost, expected):
    """A copy whose export event reaches no import machine would export and never import: the check refuses it."""
    import copy

    from ddb_datapipeline.permissions.expand import ModelGap

    world = copy.deepcopy(load_world(load_assembly(native.outdir)))
    dropped = [r for r in world.rules if ("forward" in r.arn) == (lost == "forward") and "orders-dr" in json.dumps(r.pattern)]
    assert len(dropped) == 1
    world.rules.remove(dropped[0])
    with pytest.raises(ModelGap) as raised:
        outcomes(world)
    assert expected in str(raised.value)


def test_the_rules_roles_are_checked(native):
    """Take states:StartExecution off the import rule's role, and events:PutEvents off the forward rule's."""
    world = load_world(load_assembly(native.outdir))
    for action, step in (("states:StartExecution", "the rule starts the machine the event is for"),
                         ("events:PutEvents", "the rule forwards the event to a bus in another region or account")):
        # the import machines' ARNs end in -import; the forward rules send to the copies' buses
        changed = world_without(world, "", lambda st, action=action: statement_actions(st) == [action] and "Principal" not in st
                                and any(part in json.dumps(st["Resource"]) for part in ("-import", "event-bus/ddb-nat-copies")))
        lines = [o.line() for o in denied(changed)]
        assert lines and all(step in line for line in lines), lines


def test_each_rule_of_a_copy_into_another_region_alarms_when_it_drops_an_event(native):
    """EventBridge gives up on an event after a day of retries; neither machine runs then, so each rule has
    an alarm on its FailedInvocations, published by CloudWatch to the topic of its region."""
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in native.template("nat")["Resources"].values()
              if a["Type"] == "AWS::CloudWatch::Alarm"}
    forward = alarms["ddb-nat-orders-copy-orders-dr-forward-failed-deliveries"]
    assert (forward["Namespace"], forward["MetricName"], forward["TreatMissingData"]) == ("AWS/Events", "FailedInvocations", "notBreaching")
    assert forward["Dimensions"] == [{"Name": "EventBusName", "Value": "ddb-nat-orders-copy-orders-dr-forward"},
                                     {"Name": "RuleName", "Value": "ddb-nat-orders-copy-orders-dr-forward"}]
    target = load_assembly(native.outdir).stack("DdbDataPipeline-nat-copy-targets-us-west-2")
    (start,) = [a["Properties"] for a in target.resources_of_type("AWS::CloudWatch::Alarm").values()
                if a["Properties"]["Namespace"] == "AWS/Events"]
    assert {d["Name"]: d["Value"] for d in start["Dimensions"]}["RuleName"] == "ddb-nat-orders-copy-orders-dr-start"
    world = load_world(load_assembly(native.outdir))
    published = [o for o in outcomes(world) if o.expected.call.trigger == "alarm"]
    assert {o.expected.request.resource.split(":")[3] for o in published if o.expected.request.action == "sns:Publish"} == {
        "eu-west-1", "us-west-2", "us-east-1"}
    for sid, expected in (("CloudWatchAlarmsPublish", "sns:Publish"), ("CloudWatchAlarmsEncrypt", "kms:")):
        lines = [o.line() for o in denied(world_without(world, "", lambda st, sid=sid: st.get("Sid") == sid))]
        assert lines and all(f"service:cloudwatch.amazonaws.com may not {expected}" in line for line in lines), lines


def test_every_state_machine_passes_botocore_and_asl_validator(native):
    """tests/oracles/state_machines.py on every machine of the three environments (and the copies' import machines)."""
    from tests.oracles.state_machines import check_assembly

    assert check_assembly(native.outdir) == 17


def test_no_state_machine_of_the_environments_fails_silently(native):
    """Every machine of the three environments and the copies' import machines in their own regions: every Task
    catches into an alarm, and each machine has its three execution alarms (tests/oracles/silent_failures.py)."""
    from tests.oracles.silent_failures import silent_failures

    assert silent_failures(native.outdir) == (17, [])


@pytest.mark.parametrize("stack", ["DdbDataPipeline-nat-copy-targets-us-west-2", "DdbDataPipeline-nat-copy-targets-222222222222-us-east-1"])
def test_a_copy_into_another_region_of_a_cmk_source_imports_onto_a_rotated_key_of_the_target_stack(native, stack):
    """CT.DYNAMODB.PR.2 / CKV_AWS_119: orders is on a customer managed key (the default of an owned table), so the tables its
    import machine creates in another region are on one too: a key of that stack (a table's key is of its own region),
    retained, since the copies are not resources of the stack and outlive it."""
    target = load_assembly(native.outdir).stack(stack)
    (key_logical,) = [k for k in target.resources_of_type("AWS::KMS::Key") if k.startswith("CopyKeyorders")]  # the alert topic has its own
    key = target.resources_of_type("AWS::KMS::Key")[key_logical]
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    (machine,) = target.resources_of_type("AWS::StepFunctions::StateMachine").values()
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert '\\"SSESpecification\\":{\\"Enabled\\":true,\\"SSEType\\":\\"KMS\\",\\"KMSMasterKeyId\\":\\"' in definition
    assert json.dumps({"Fn::GetAtt": [key_logical, "Arn"]}) in definition


def test_a_copy_import_without_its_key_grant_is_denied_creating_the_table(native):
    """Each import of a copy into another region or account creates its table on a key of the copy-target stack; without
    the new-table key grant each is reported (the one into another account as the source's machine, whose import Task
    runs as the role there)."""
    world = load_world(load_assembly(native.outdir))
    without = world_without(world, "", lambda s: "kms:CreateGrant" in statement_actions(s))
    lines = [o.line() for o in denied(without) if "native-copy-orders-" in o.line()]
    assert {line.split(" ", 1)[0] for line in lines if "may not kms:CreateGrant" in line} == {
        "DdbDataPipeline-nat/ddb-nat-orders-native-copy-orders-staging",
        "DdbDataPipeline-nat/ddb-nat-orders-native-copy-orders-analytics",
        "DdbDataPipeline-nat-copy-targets-us-west-2/ddb-nat-orders-native-copy-orders-dr-import",
        "DdbDataPipeline-nat-copy-targets-222222222222-us-east-1/ddb-nat-orders-native-copy-orders-far-import"}, lines[:4]


def test_a_copy_into_another_account_of_a_cmk_source_names_the_target_stacks_key_by_its_alias(native):
    """The source stack cannot read the other account's key id: its ImportTable names the key by an alias ARN (botocore's
    SSESpecification.KMSMasterKeyId takes one), and the copy-target stack declares that alias on a rotated key it grants
    its import role; the permission check resolves the alias to the key (AWS::KMS::Alias)."""
    template = native.template("nat")
    (machine,) = [m for m in template["Resources"].values() if m["Type"] == "AWS::StepFunctions::StateMachine"
                  and m["Properties"]["StateMachineName"] == "ddb-nat-orders-native-copy-orders-analytics"]
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    target = load_assembly(native.outdir).stack("DdbDataPipeline-nat-copy-targets-222222222222-eu-west-1")
    (alias,) = target.resources_of_type("AWS::KMS::Alias").values()
    name = alias["Properties"]["AliasName"]
    assert f'\\"KMSMasterKeyId\\":\\"arn:aws:kms:eu-west-1:222222222222:{name}\\"' in definition
    key_logical = alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]
    key = target.resources_of_type("AWS::KMS::Key")[key_logical]
    assert key["Properties"]["EnableKeyRotation"] is True and key["DeletionPolicy"] == "Retain"
    world = load_world(load_assembly(native.outdir))
    assert world.aliases[f"arn:aws:kms:eu-west-1:222222222222:{name}"].endswith(f":key/DdbDataPipeline-nat-copy-targets-222222222222-eu-west-1-{key_logical}")


def test_only_the_copys_machine_puts_its_events_and_only_its_forward_rule_reaches_the_copies_bus(native):
    """Forged copy events: any other principal of the account, even one whose identity policy allows every PutEvents,
    is denied on the copy's announce bus (explicit Deny in the bus policy) and on the copies' bus of the target
    region (no aws:SourceArn of a forward rule); the machine's own PutEvents and the forward rule's delivery pass."""
    from ddb_datapipeline.permissions.evaluator import Policy, Request, evaluate

    world = load_world(load_assembly(native.outdir))
    calls = [o for o in outcomes(world) if o.expected.request.action == "events:PutEvents" and "orders-dr" in o.expected.request.resource + o.line()]
    announce = next(o.expected.request for o in calls if o.expected.request.resource.endswith("event-bus/ddb-nat-orders-copy-orders-dr-forward"))
    forward = next(o.expected.request for o in calls if o.expected.request.resource.endswith("event-bus/ddb-nat-copies"))
    assert announce.principal.endswith(":role/ddb-nat-orders-copy-orders-dr-machine") and all(o.decision.allowed for o in calls)
    anything = Policy("admin", {"Statement": [{"Effect": "Allow", "Action": "events:*", "Resource": "*"}]})
    other = "arn:aws:iam::111111111111:role/someone-else"
    for bus_arn in (announce.resource, forward.resource):
        forged = evaluate(Request(other, "events:PutEvents", bus_arn, {"aws:PrincipalArn": other, "aws:PrincipalAccount": "111111111111"}),
                          identity=[anything], resource_policy=world.buses[bus_arn], resource_account="111111111111")
        assert not forged.allowed and "explicitly denied" in forged.reason, (bus_arn, forged)
    for request in (announce, forward):
        assert evaluate(request, identity=[anything], resource_policy=world.buses[request.resource], resource_account="111111111111").allowed


# Which conditions each service principal's statements carry, in every template of the native environments (data: the
# source of each is named in the README's "Confused deputy" section). A new statement for one of these services without
# them, or one that loses them, fails here. cloudwatch's key statement is bare by choice (constructs/delivery_alarm.py).
# datapipeline, ec2 and elasticmapreduce (the Data Pipeline roles) are constructs/pipeline_roles.py's and not listed.
SOURCE_KEYS = {
    ("states.amazonaws.com", "sts:AssumeRole"): {"aws:SourceAccount", "aws:SourceArn"},
    ("scheduler.amazonaws.com", "sts:AssumeRole"): {"aws:SourceAccount", "aws:SourceArn"},
    ("events.amazonaws.com", "sts:AssumeRole"): {"aws:SourceAccount", "aws:SourceArn"},
    ("cloudwatch.amazonaws.com", "sns:Publish"): {"aws:SourceAccount", "aws:SourceArn"},
    ("cloudwatch.amazonaws.com", "kms:Decrypt"): set(),
    ("logging.s3.amazonaws.com", "s3:PutObject"): {"aws:SourceAccount", "aws:SourceArn"},
    # The logs key's statement (constructs/logs_key.py): CloudWatch Logs' regional principal, pinned to this account's
    # log groups by kms:EncryptionContext:aws:logs:arn (CloudWatch Logs User Guide, "Encrypt log data ... using AWS KMS").
    ("logs.<region>.amazonaws.com", "kms:Decrypt"): set(),
}


def _service_statements(document):
    if isinstance(document, dict):
        for statement in document.get("Statement", []) if isinstance(document.get("Statement"), list) else []:
            services = (statement.get("Principal") or {}).get("Service") if isinstance(statement.get("Principal"), dict) else None
            for service in [services] if isinstance(services, str) else services or []:
                yield service, statement
        for value in document.values():
            yield from _service_statements(value)
    elif isinstance(document, list):
        for value in document:
            yield from _service_statements(value)


def test_each_service_principal_carries_the_source_keys_its_service_sends(native):
    seen = set()
    for stack in load_assembly(native.outdir).stacks:
        for service, statement in _service_statements(json.loads(stack.template_text)["Resources"]):
            action = statement_actions(statement)[0]
            if service in ("datapipeline.amazonaws.com", "ec2.amazonaws.com", "elasticmapreduce.amazonaws.com"):
                continue
            keys = {key for operator in (statement.get("Condition") or {}).values() for key in operator if key.startswith("aws:Source")}
            service = re.sub(r"^logs\.[a-z0-9-]+\.amazonaws\.com$", "logs.<region>.amazonaws.com", service)
            assert (service, action) in SOURCE_KEYS, (stack.name, service, action)
            assert keys == SOURCE_KEYS[(service, action)], (stack.name, service, action, statement.get("Condition"))
            seen.add((service, action))
    assert seen == set(SOURCE_KEYS)


def test_the_copy_targets_start_rules_and_import_roles_are_pinned(native):
    """In the copy-target stacks: each start rule's role trusts EventBridge for that rule of that account only, and the
    imports (the machine there, or the role a copy from another account imports as) read only the staging bucket of
    that account (s3:ResourceAccount)."""
    for name, account, region in (("DdbDataPipeline-nat-copy-targets-us-west-2", "111111111111", "us-west-2"),
                                  ("DdbDataPipeline-nat-copy-targets-222222222222-us-east-1", "222222222222", "us-east-1"),
                                  ("DdbDataPipeline-nat-copy-targets-222222222222-eu-west-1", "222222222222", "eu-west-1")):
        target = load_assembly(native.outdir).stack(name)
        roles = target.resources_of_type("AWS::IAM::Role")
        for rule in target.resources_of_type("AWS::Events::Rule").values():
            (statement,) = roles[rule["Properties"]["Targets"][0]["RoleArn"]["Fn::GetAtt"][0]]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Join"][1]
            assert source[0] == f"arn:aws:events:{region}:{account}:rule/" and source[2] == f"/{rule['Properties']['Name']}"
            assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
        reads = [st for policy in target.resources_of_type("AWS::IAM::Policy").values() for st in policy["Properties"]["PolicyDocument"]["Statement"]
                 if statement_actions(st) in (["s3:GetObject"], ["s3:ListBucket"])]
        assert len(reads) == 2, name
        assert all(st["Condition"]["StringEquals"] == {"s3:ResourceAccount": account} for st in reads), name
