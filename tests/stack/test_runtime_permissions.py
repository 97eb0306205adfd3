"""Every pipeline of cdk.json, run against the runtime permission model: each call it makes at run
time is allowed by the synthesized policies, each grant is used by some call, and no cluster can
reach another pipeline's tables or folders."""
from __future__ import annotations

import copy
import dataclasses
from collections import defaultdict
from fnmatch import fnmatchcase

import pytest

from ddb_datapipeline.assembly import load_assembly
from ddb_datapipeline.permissions.assembly_view import World, load_world
from ddb_datapipeline.permissions.audit import cluster_isolation, denied, outcomes
from ddb_datapipeline.permissions.evaluator import Request, evaluate
from ddb_datapipeline.permissions.expand import expected_requests
from ddb_datapipeline.permissions.runtime_calls import CLUSTER_TAG
from tests.conftest import statement_actions, world_without
from tests.oracles.iam import model_mismatches

KINDS = {"export", "restore", "copy"}


@pytest.fixture(scope="module")
def world(synthesis) -> World:
    return load_world(load_assembly(synthesis.outdir))


def test_every_pipeline_kind_of_every_environment_is_checked(world):
    seen = {(p.stack, p.tags["ddb-datapipeline:kind"]) for p in world.pipelines}
    assert {kind for _, kind in seen} == KINDS
    assert {stack for stack, _ in seen} == {"DdbDataPipeline-dev", "DdbDataPipeline-prod"}
    names = {p.name.rsplit("-", 1)[0] for p in world.pipelines}
    # Same region, cross region, cross account.
    assert {"ddb-dev-orders-copy-orders-staging-eu-west-1", "ddb-prod-orders-copy-orders-us-west-2",
            "ddb-prod-orders-copy-orders-analytics-222222222222-us-east-1"} <= names


def test_every_runtime_call_is_allowed(synthesis, world):
    """The app's validation plugin checked every call during the session's synth (as make synth does); its verdict is
    read here rather than computed again."""
    report = synthesis.checks.last_report
    assert [f.description for f in report.findings] == []
    assert report.pipelines >= len(world.pipelines) and report.calls > 0


def test_every_request_of_the_model_agrees_with_aws_service_reference(world):
    """The model may not invent the context that makes a grant match: each key of each request is global (aws:)
    or listed for its action in AWS's Service Authorization Reference."""
    assert model_mismatches(world) == []


@pytest.mark.parametrize(
    "policy, predicate, expected",
    [
        # The table's customer managed key (the review's F1).
        ("ExportordersNodePermissions805FA6CE", lambda s: "kms:DescribeKey" in statement_actions(s),
         "ddb-prod-orders-export-"),
        ("ExportordersNodePermissions805FA6CE", lambda s: "kms:Decrypt" in statement_actions(s) and "kms:ViaService" in str(s),
         "kms:Decrypt on arn:aws:kms:us-east-1:111111111111:key/DdbDataPipeline-prod-TableordersKeyD6649E76"),
        # The import writes through GenerateDataKey* (DynamoDB's documented form), not GenerateDataKey alone.
        ("Copyordersordersuswest2NodePermissions4988B8B2", lambda s: "kms:GenerateDataKey*" in statement_actions(s),
         "kms:GenerateDataKeyWithoutPlaintext on arn:aws:kms:us-west-2:111111111111:key/DdbDataPipeline-prod-copy-targets-us-west-2-TableordersKeyD6649E76"),
        ("Copyordersordersuswest2NodePermissions4988B8B2", lambda s: "kms:Encrypt" in statement_actions(s),
         "kms:Encrypt on arn:aws:kms:us-west-2:111111111111:key/DdbDataPipeline-prod-copy-targets-us-west-2-TableordersKeyD6649E76"),
        # EMR's launch templates (F2) and Task Runner's steps and install (F3).
        ("RolesEmrServicePolicy4A591D9A", lambda s: s.get("Sid") == "RunClusterInstances", "ec2:CreateLaunchTemplate"),
        ("RolesNodePolicy1C3C9FEB", lambda s: s.get("Sid") == "RunStepsOnTheCluster", "elasticmapreduce:AddJobFlowSteps"),
        ("RolesNodePolicy1C3C9FEB", lambda s: s.get("Sid") == "InstallTaskRunner", "install-remote-runner-v2"),
        ("RolesPipelinePolicy08DB3F35", lambda s: s.get("Sid") == "PassTheRolesToEmrAndEc2", "iam:PassRole"),
        # The other account's side of a cross-account copy.
        ("StagingBucketPolicy30E8DF0E", lambda s: s.get("Sid", "").endswith("Objects"),
         "the resource policy of the other account does not allow it"),
        ("resource policy", lambda s: "dynamodb:BatchWriteItem" in statement_actions(s), "dynamodb:BatchWriteItem on arn:aws:dynamodb:us-east-1:222222222222"),
        # The cross-account target's customer managed key: DynamoDB uses it as the source account's node role, so both
        # the target's key policy and the node role's identity policy must allow.
        ("TableordersanalyticsKey54A7188D key policy", lambda s: s.get("Sid", "").endswith("Write"),
         "kms:Encrypt on arn:aws:kms:us-east-1:222222222222:key/DdbDataPipeline-prod-copy-targets-222222222222-us-east-1-TableordersanalyticsKey54A7188D: the key policy allows neither"),
        ("TableordersanalyticsKey54A7188D key policy", lambda s: s.get("Sid", "").endswith("Describe"),
         "kms:DescribeKey on arn:aws:kms:us-east-1:222222222222:key/"),
        ("Copyordersordersanalytics222222222222useast1NodePermissions428B45F3", lambda s: "kms:Encrypt" in statement_actions(s),
         "kms:Encrypt on arn:aws:kms:us-east-1:222222222222:key/DdbDataPipeline-prod-copy-targets-222222222222-us-east-1-TableordersanalyticsKey54A7188D: no identity policy"),
        # The step that removes an export's run folder before each attempt lists it (definition/emr.py).
        ("ExportordersNodePermissions805FA6CE", lambda s: "s3:ListBucket" in statement_actions(s),
         "[the removal lists the run folder's objects]"),
        # Who may assume the pipeline role.
        ("RolesPipelineRole8C550129 trust", lambda s: s["Principal"] == {"Service": "elasticmapreduce.amazonaws.com"}, "sts:AssumeRole"),
    ],
)
def test_removing_a_grant_fails_with_a_line_naming_pipeline_principal_action_and_resource(world, policy, predicate, expected):
    lines = [o.line() for o in denied(world_without(world, policy, predicate))]
    assert any(expected in line for line in lines), lines[:5]
    assert all(" may not " in line and line.startswith("DdbDataPipeline-") for line in lines)


def test_an_export_and_a_copys_staging_export_remove_their_run_folder_first_as_their_node_role(world):
    """Each attempt of an export first removes its run folder (a retry would otherwise meet its own files):
    the model has the removal's calls, as the pipeline's node role, on that folder (its files and marker, and the
    parent's marker EMRFS may write back), and they are allowed (test_every_runtime_call_is_allowed)."""
    for prefix, parent in (("ddb-prod-orders-export-", "/exports/orders"), ("ddb-prod-orders-copy-orders-us-west-2-", "/copies/")):
        pipeline = next(p for p in world.pipelines if p.name.startswith(prefix))
        clears = [e.request for e in expected_requests(world, pipeline) if e.call.trigger == "clears S3DataNode"]
        assert {r.action for r in clears} == {"s3:ListBucket", "s3:DeleteObject", "s3:GetObject", "s3:PutObject"}, prefix
        objects = [r.resource for r in clears if r.action != "s3:ListBucket"]
        assert objects and all(parent in r for r in objects), objects
        assert any(r.endswith("/2026-01-31-00-00-00/5e1c7a2b-part-00000.gz") for r in objects)
        (listing,) = [r for r in clears if r.action == "s3:ListBucket"]
        assert listing.context["s3:prefix"].endswith("/2026-01-31-00-00-00/") and parent.lstrip("/") in listing.context["s3:prefix"]
        assert len({r.principal for r in clears}) == 1 and "-nodes-" in clears[0].principal, clears[0].principal


def test_every_granted_action_is_used_by_a_runtime_call(world):
    used: dict[str, set[str]] = defaultdict(set)
    for outcome in outcomes(world):
        for label in outcome.decision.allowed_by:
            used[label].add(outcome.expected.request.action.lower())
    unused = []

    def unused_by(label: str, statement) -> list[str]:  # an action pattern (kms:GenerateDataKey*) is used by any request it matches
        return [f"{label} {a}" for a in statement_actions(statement) if not any(fnmatchcase(u, a.lower()) for u in used[label])]

    stacks = {p.stack for p in world.pipelines}
    for role in (r for r in world.roles.values() if r.stack in stacks):
        for policy in [role.trust, *role.policies]:
            for index, statement in enumerate(policy.document["Statement"]):
                label = f"{policy.name}#{statement.get('Sid') or index}"
                unused += unused_by(label, statement) if statement["Effect"] == "Allow" else []
    for bucket in world.buckets.values():
        if bucket.policy is None or "-copy-targets-" not in bucket.policy.name:
            continue  # the environment stacks' own buckets admit no other principal
        for index, statement in enumerate(bucket.policy.document["Statement"] if bucket.policy else []):
            label = f"{bucket.policy.name}#{statement.get('Sid') or index}"
            if statement["Effect"] == "Allow" and "AWS" in statement.get("Principal", {}):
                unused += unused_by(label, statement)
    assert unused == []


def _probe(world: World, nodes: str, action: str, resource: str) -> bool:
    principal = world.roles[nodes]
    request = Request(nodes, action, resource, {"aws:SecureTransport": "true", "aws:PrincipalArn": nodes,
                                                "aws:RequestedRegion": resource.split(":")[3] or "us-east-1"})
    bucket = world.buckets.get(resource.removeprefix("arn:aws:s3:::").split("/")[0]) if ":s3:::" in resource else None
    table = world.tables.get(resource)
    policy = bucket.policy if bucket else table.policy if table else None
    account = bucket.account if bucket else resource.split(":")[4]
    return evaluate(request, identity=principal.policies, resource_policy=policy, resource_account=account).allowed


def test_each_cluster_reaches_only_its_own_tables_and_folders(world):
    requests = {p.label: expected_requests(world, p) for p in world.pipelines}
    tables = set(world.tables) | {e.facts["table_arn"] for calls in requests.values() for e in calls if "table_arn" in e.facts}
    folders = {e.facts["object_arn"] for calls in requests.values() for e in calls if "object_arn" in e.facts}
    assert len(tables) >= 10 and len(folders) >= 12
    leaks = []
    for pipeline in world.pipelines:
        calls = requests[pipeline.label]
        nodes = calls[0].facts["nodes_arn"]
        reads = {e.facts["table_arn"] for e in calls if e.call.trigger == "reads DynamoDBDataNode"}
        writes = {e.facts["table_arn"] for e in calls if e.call.trigger == "writes DynamoDBDataNode"}
        # A folder's parent is the pipeline's prefix (exports/<table>, copies/<copy>): runs are its children.
        own = {e.facts["object_arn"].rsplit("/", 2)[0] + "/" for e in calls if e.call.trigger.endswith("S3DataNode")}
        if pipeline.tags["ddb-datapipeline:kind"] == "export":
            assert not writes
        for table in tables:
            if table not in reads and _probe(world, nodes, "dynamodb:Scan", table):
                leaks.append(f"{pipeline.label} scans {table}")
            for action in ("dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"):
                if table not in writes and _probe(world, nodes, action, table):
                    leaks.append(f"{pipeline.label} {action} {table}")
        for folder in (f for f in folders if not any(f.startswith(prefix) for prefix in own)):
            for action in ("s3:DeleteObject", "s3:GetObject", "s3:PutObject"):
                if _probe(world, nodes, action, folder):
                    leaks.append(f"{pipeline.label} {action} {folder}")
    assert leaks == []


def test_the_isolation_probe_sees_a_shared_grant(world):
    """The isolation test above would notice one node role granted another pipeline's table."""
    changed = copy.deepcopy(world)
    export = next(p for p in changed.pipelines if p.name.startswith("ddb-prod-customers-export"))
    nodes = expected_requests(changed, export)[0].facts["nodes_arn"]
    changed.roles[nodes].policies[0].document["Statement"].append(  # type: ignore[index]
        {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "arn:aws:dynamodb:us-east-1:111111111111:table/orders"}
    )
    assert _probe(changed, nodes, "dynamodb:Scan", "arn:aws:dynamodb:us-east-1:111111111111:table/orders")
    assert not _probe(world, nodes, "dynamodb:Scan", "arn:aws:dynamodb:us-east-1:111111111111:table/orders")


def test_every_write_into_another_accounts_bucket_is_pinned_to_that_account(world):
    foreign = {name: b.account for name, b in world.buckets.items() if b.account == "222222222222"}
    assert foreign
    for role in world.roles.values():
        if not role.arn.startswith("arn:aws:iam::111111111111:"):
            continue
        for policy in role.policies:
            for statement in policy.document["Statement"]:
                resources = statement.get("Resource", [])
                resources = resources if isinstance(resources, list) else [resources]
                if any(r.removeprefix("arn:aws:s3:::").split("/")[0] in foreign for r in resources):
                    condition = statement.get("Condition", {}).get("StringEquals", {})
                    assert condition.get("s3:ResourceAccount") == "222222222222", (policy.name, statement)


def test_the_readme_tables_are_the_model_on_cdk_json(world):
    from pathlib import Path

    from ddb_datapipeline.permissions.report import README_END, README_START, markdown

    readme = (Path(__file__).resolve().parents[2] / "docs" / "permissions.md").read_text()
    shown = readme.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert shown == markdown(world), "README tables are stale: run python -m ddb_datapipeline permissions --markdown"
    assert "**DENIED**" not in shown
    for kind in ("Export", "Restore", "Copy in the same region", "Copy to another region", "Copy to another account"):
        assert f"#### {kind}: `ddb-" in shown


def test_every_role_stays_inside_iams_inline_policy_quota(world):
    """IAM refuses more than 10,240 characters (no whitespace) of inline policy per role, and moto does
    not check it. The stand-in names here are up to 13 characters shorter than the ones CloudFormation
    generates, so each role keeps a tenth of the quota free."""
    import json

    for role in world.roles.values():
        inline = [p for p in role.policies if p.name.split("/", 1)[1] not in world.managed_policies]
        size = sum(len(json.dumps(p.document, separators=(",", ":"))) for p in inline)
        assert size < 9216, (role.arn, size)


def test_every_state_machine_of_cdk_json_passes_botocore_and_asl_validator(synthesis):
    """The state machine oracles on the session's synthesis of cdk.json: the machines of its native environment
    (analytics/events: an export, a restore and a copy) are judged, and no other environment has any."""
    from tests.oracles.state_machines import check_assembly

    machines = [resource for stack in ("dev", "analytics", "prod") for resource in synthesis.template(stack)["Resources"].values()
                if resource["Type"] == "AWS::StepFunctions::StateMachine"]
    assert len(machines) == 3
    assert check_assembly(synthesis.outdir) == len(machines)


def test_a_filtered_copy_queries_nothing_because_its_cluster_turns_pushdown_off(world):
    """The filtered copy's cluster sets dynamodb.filter.pushdown=false, so the model asks for no Query and none is
    granted; the same definition without the cluster's configuration would Query, and the role may not."""
    import dataclasses

    from ddb_datapipeline.definition.model import PipelineObject
    from ddb_datapipeline.permissions.audit import decide

    pipeline = next(p for p in world.pipelines if p.name.startswith("ddb-dev-orders-copy-orders-open-"))
    assert not [e for e in expected_requests(world, pipeline) if e.request.action == "dynamodb:Query"]
    objects = tuple(PipelineObject(o.id, o.name, tuple(f for f in o.fields if f.key != "configuration")) if o.type == "EmrCluster" else o
                    for o in pipeline.definition.objects)
    bare = dataclasses.replace(pipeline, definition=dataclasses.replace(pipeline.definition, objects=objects))
    queries = [e for e in expected_requests(world, bare) if e.request.action == "dynamodb:Query"]
    assert queries and not any(decide(world, e).allowed for e in queries)


def _node_step_statement(world: World) -> dict:
    (policy,) = {id(p): p for r in world.roles.values() for p in r.policies if p.name == "DdbDataPipeline-prod/RolesNodePolicy1C3C9FEB"}.values()
    (statement,) = [s for s in policy.document["Statement"] if s.get("Sid") == "RunStepsOnTheCluster"]
    return statement


def test_every_pipeline_and_its_node_role_carry_the_node_roles_name_as_cluster_tag(world):
    """Data Pipeline puts the pipeline's tags on its clusters; the node role carries the same tag, so the node
    policy can compare them. The value is the node role's name: IAM keeps it unique in the account."""
    for pipeline in world.pipelines:
        nodes = expected_requests(world, pipeline)[0].facts["nodes_arn"]
        name = nodes.rsplit("/", 1)[1]
        assert pipeline.tags[CLUSTER_TAG] == name and world.roles[nodes].tags[CLUSTER_TAG] == name, pipeline.label
    statement = _node_step_statement(world)
    assert statement["Condition"]["StringEquals"][f"aws:ResourceTag/{CLUSTER_TAG}"] == f"${{aws:PrincipalTag/{CLUSTER_TAG}}}"


def test_each_node_role_adds_steps_to_its_own_pipelines_clusters_and_to_no_other(world):
    crossings = cluster_isolation(world)
    assert [c.line() for c in crossings if c.wrong] == []
    pairs = {(c.caller.label, c.owner.label) for c in crossings}
    assert len(world.pipelines) >= 10 and len(pairs) == len(world.pipelines) ** 2
    assert {c.caller.label for c in crossings if c.own and c.decision.allowed} == {p.label for p in world.pipelines}


def test_without_the_tag_condition_every_node_role_reaches_every_cluster(world):
    changed = copy.deepcopy(world)
    del _node_step_statement(changed)["Condition"]["StringEquals"][f"aws:ResourceTag/{CLUSTER_TAG}"]
    wrong = [c for c in cluster_isolation(changed) if c.wrong]
    assert wrong and all(not c.own and c.decision.allowed for c in wrong)
    prod = [p for p in changed.pipelines if p.stack == "DdbDataPipeline-prod"]
    assert len({(c.caller.label, c.owner.label) for c in wrong}) >= len(prod) * (len(prod) - 1)
    assert "its node role may elasticmapreduce:AddJobFlowSteps on the cluster of DdbDataPipeline-prod/" in wrong[0].line()


def test_a_pipeline_whose_tag_is_not_its_node_roles_name_cannot_run_on_its_own_cluster(world):
    changed = copy.deepcopy(world)
    index, export = next((i, p) for i, p in enumerate(changed.pipelines) if p.name.startswith("ddb-prod-orders-export"))
    changed.pipelines[index] = dataclasses.replace(export, tags={**export.tags, CLUSTER_TAG: "ddb-prod-us-east-1-nodes-other"})
    wrong = [c for c in cluster_isolation(changed) if c.wrong]
    assert [(c.caller.name, c.own) for c in wrong] == [(export.name, True)]
    assert wrong[0].line().startswith(f"DdbDataPipeline-prod/{export.name}: its node role may not elasticmapreduce:AddJobFlowSteps on its own cluster")
    lost = {o.expected.request.action for o in denied(changed)}
    assert lost == {"elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:DescribeCluster", "elasticmapreduce:DescribeJobFlows",
                    "elasticmapreduce:DescribeStep", "elasticmapreduce:ListInstanceGroups", "elasticmapreduce:ListInstances"}


def test_every_action_of_the_step_statement_receives_the_tag_it_is_conditioned_on(world):
    """A condition on a key an action's request never carries denies that action at run time, silently: each
    action of RunStepsOnTheCluster must act on a resource type whose condition keys (SAR) include the cluster's
    tag, and the model must send it (the SAR rule on the model checks the service's own form of the key)."""
    from tests.oracles.iam import sar

    statement = _node_step_statement(world)
    (key,) = [k for k in statement["Condition"]["StringEquals"] if "ResourceTag" in k]
    pattern = key.split("/", 1)[0] + "/${TagKey}"
    reference = sar()
    for action in statement["Action"]:
        keys = reference.action(action).keys  # type: ignore[union-attr]
        assert pattern in keys and f"{action.split(':')[0]}:ResourceTag/${{TagKey}}" in keys, action
    sent = {e.request.action: e.request.context for p in world.pipelines for e in expected_requests(world, p)
            if e.request.action in statement["Action"] and "nodes" in e.request.principal}
    assert set(sent) == set(statement["Action"]) and all(key in context for context in sent.values())
