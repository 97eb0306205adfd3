"""The synthesized environment stacks: secure defaults, data retention, scoped roles, pipelines."""
from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from ddb_datapipeline.definition.render import to_cloudformation


@pytest.fixture(scope="module")
def prod(synthesis) -> Template:
    return Template.from_json(synthesis.template("prod"))


@pytest.fixture(scope="module")
def dev(synthesis) -> Template:
    return Template.from_json(synthesis.template("dev"))


def resources(template: dict[str, Any], type_name: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found.append((logical_id, statement))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_export_bucket_is_encrypted_private_versioned_logged_and_expires_exports(prod):
    prod.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": Match.any_value()}})
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "export-bucket/"},
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Prefix": "exports/",
                                "ExpirationInDays": 90,
                                "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}],
                                "Status": "Enabled",
                            }
                        ),
                        Match.object_like({"Prefix": "logs/", "ExpirationInDays": 90}),
                    ]
                )
            },
        },
    )


def test_every_bucket_and_topic_refuses_plain_http(synthesis):
    for env in ("dev", "prod"):
        template = synthesis.template(env)
        buckets = resources(template, "AWS::S3::Bucket")
        policies = resources(template, "AWS::S3::BucketPolicy")
        tls_only = {
            json.dumps(p["Properties"]["Bucket"])
            for p in policies.values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        }
        assert tls_only == {json.dumps({"Ref": b}) for b in buckets}
        topic_policies = resources(template, "AWS::SNS::TopicPolicy")
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for p in topic_policies.values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )


def test_alert_topic_is_encrypted_and_mails_the_configured_address(prod):
    prod.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    prod.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "data-platform-oncall@example.com"})


def test_prod_keeps_its_data_when_the_stack_or_a_resource_goes(synthesis):
    template = synthesis.template("prod")
    tables = resources(template, "AWS::DynamoDB::Table")
    assert {t["Properties"]["TableName"] for t in tables.values()} == {"orders", "orders-restore"}
    for table in tables.values():
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["Properties"]["SSESpecification"]["SSEType"] == "KMS"
    for type_name in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        kept = {k: v.get("DeletionPolicy") for k, v in resources(template, type_name).items()}
        keys_of_alerts = {k for k in kept if k.startswith("Alerts")}
        assert all(policy == "Retain" for k, policy in kept.items() if k not in keys_of_alerts), kept


def test_dev_may_be_torn_down(synthesis):
    for table in resources(synthesis.template("dev"), "AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False


def test_an_existing_table_is_referenced_not_declared(synthesis):
    template = synthesis.template("prod")
    names = {t["Properties"]["TableName"] for t in resources(template, "AWS::DynamoDB::Table").values()}
    assert "customers" not in names and "customers-restore" not in names
    table_resources = {
        json.dumps(r)
        for _, s in statements(template)
        if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
        for r in as_list(s["Resource"])
    }
    assert any(":table/customers" in r and "customers-restore" not in r for r in table_resources)
    assert any(":table/customers-restore" in r for r in table_resources)


def test_roles_trust_only_their_services_and_use_no_aws_managed_policies(prod):
    roles = prod.find_resources("AWS::IAM::Role")
    trusts = sorted(
        json.dumps([s["Principal"]["Service"], s.get("Condition", {})], sort_keys=True)
        for role in roles.values()
        for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    )
    pipelines = len(prod.find_resources("AWS::DataPipeline::Pipeline"))
    account = {"Ref": "AWS::AccountId"}
    emr_guard = {
        "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":elasticmapreduce:*:", account, ":*"]]}},
        "StringEquals": {"aws:SourceAccount": account},
    }
    # One pipeline role (Data Pipeline, and EMR for this account's clusters only); one node role per pipeline.
    assert trusts == sorted(
        [json.dumps(["datapipeline.amazonaws.com", {}]), json.dumps(["elasticmapreduce.amazonaws.com", emr_guard], sort_keys=True)]
        + [json.dumps(["ec2.amazonaws.com", {}])] * pipelines
    )
    managed = set(prod.find_resources("AWS::IAM::ManagedPolicy"))
    for role in roles.values():
        assert all(arn["Ref"] in managed for arn in role["Properties"].get("ManagedPolicyArns", [])), role
    prod.resource_count_is("AWS::IAM::InstanceProfile", pipelines)


def test_no_pass_role_or_data_access_on_everything(synthesis):
    for env in ("dev", "prod"):
        for logical_id, statement in statements(synthesis.template(env)):
            actions = as_list(statement["Action"])
            targets = as_list(statement["Resource"])
            assert not any(a.endswith(":*") or a == "*" for a in actions), (logical_id, actions)
            if "*" in targets:
                assert all(a.split(":")[0] in ("ec2", "elasticmapreduce", "datapipeline") for a in actions), (logical_id, actions)
                assert "elasticmapreduce:RunJobFlow" in actions or statement.get("Condition"), logical_id


def table_name_of(template: dict[str, Any], arn: Any) -> str:
    """The table an ARN in a policy points at: a declared table by GetAtt, or a name in a joined ARN."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return template["Resources"][arn["Fn::GetAtt"][0]]["Properties"]["TableName"]
    parts = arn["Fn::Join"][1] if isinstance(arn, dict) else [arn]
    flat = "".join(p if isinstance(p, str) else "" for p in parts)
    region = flat.split(":dynamodb:")[1].split(":")[0] if ":dynamodb:" in flat and not flat.split(":dynamodb:")[1].startswith(":") else ""
    return flat.rsplit("table/", 1)[1] + (f"@{region}" if region else "")


def test_table_access_is_limited_to_export_reads_and_restore_writes(synthesis):
    template = synthesis.template("prod")
    granted: dict[str, set[str]] = {}
    for _, statement in statements(template):
        for action in as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                for resource in as_list(statement["Resource"]):
                    granted.setdefault(table_name_of(template, resource), set()).add(action)
    reads = {"dynamodb:DescribeTable", "dynamodb:Scan"}
    writes = {"dynamodb:DescribeTable", "dynamodb:BatchWriteItem"}
    assert granted == {
        "orders": reads,  # read by its export and its two copies, never written
        "customers@us-east-1": reads,  # existing tables, referenced by name in the stack's region
        "orders-restore": writes,
        "customers-restore@us-east-1": writes,
        "orders@us-west-2": writes,  # the cross-region copy target
        "orders-analytics@us-east-1": writes,  # the cross-account copy target
    }


AWS_SOFTWARE_BUCKETS = ("dynamodb-dpl-", "datapipeline-", ".elasticmapreduce/")


def test_bucket_object_access_stays_under_the_pipeline_prefixes(synthesis):
    template = synthesis.template("prod")
    object_actions = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    # EMRFS looks for, and marks, the ancestors of the folders it writes: exact keys, no data.
    ancestors = {"/exports", "/copies", "/exports/orders", "/exports/customers", "/copies/orders-to-orders-us-west-2",
                 "/copies/orders-to-orders-analytics-222222222222-us-east-1"}
    for logical_id, statement in statements(template):
        actions = set(as_list(statement["Action"]))
        if not object_actions & actions:
            continue
        for resource in as_list(statement["Resource"]):
            joined = json.dumps(resource)
            if any(name in joined for name in AWS_SOFTWARE_BUCKETS):
                continue
            tail = resource["Fn::Join"][1][-1] if isinstance(resource, dict) else "/" + resource.split("/", 1)[1]
            if logical_id.startswith("RolesPipelinePolicy"):
                # The one pipeline role all pipelines share: every pipeline's logs, and reading exports
                # for a restore's precondition; it never deletes.
                assert (tail, actions) in (("/logs/*", {"s3:GetObject", "s3:PutObject"}), ("/exports/*", {"s3:GetObject"})), (tail, actions)
                continue
            if tail.removesuffix("_$folder$") in ancestors:
                continue
            assert tail.startswith(("/exports/orders/", "/exports/customers/", "/logs/", "/copies/orders-to-")), (logical_id, tail)


def test_export_pipelines_activate_and_restore_pipelines_never_do(synthesis):
    for env in ("dev", "prod"):
        pipelines = resources(synthesis.template(env), "AWS::DataPipeline::Pipeline")
        activation = {p["Properties"]["Name"].rsplit("-", 1)[0]: p["Properties"]["Activate"] for p in pipelines.values()}
        copies = (
            {"ddb-prod-orders-copy-orders-us-west-2": True, "ddb-prod-orders-copy-orders-analytics-222222222222-us-east-1": True}
            if env == "prod"
            else {"ddb-dev-orders-copy-orders-staging-eu-west-1": True, "ddb-dev-orders-copy-orders-recent-eu-west-1": True,
                  "ddb-dev-orders-copy-orders-open-eu-west-1": True}
        )
        assert activation == {
            f"ddb-{env}-orders-export": True,
            f"ddb-{env}-orders-restore": False,
            f"ddb-{env}-customers-export": True,
            f"ddb-{env}-customers-restore": False,
            **copies,
        }


def test_pipelines_in_the_template_are_the_rendered_definitions(synthesis):
    stack = synthesis.stacks["prod"]
    template = synthesis.template("prod")
    by_name = {p["Properties"]["Name"]: p["Properties"] for p in resources(template, "AWS::DataPipeline::Pipeline").values()}
    assert len(by_name) == len(stack.pipelines) == 6
    for key, construct in stack.pipelines.items():
        pipeline = construct.pipeline
        assert pipeline.pipeline_name == f"ddb-prod-{key}-{pipeline.definition.fingerprint()}"
        deployed = by_name[pipeline.pipeline_name]
        expected = stack.resolve(to_cloudformation(pipeline.definition))
        assert deployed["PipelineObjects"] == expected["PipelineObjects"]
        assert deployed["ParameterObjects"] == expected["ParameterObjects"]
        assert deployed["ParameterValues"] == expected["ParameterValues"]
        tags = {t["Key"]: t["Value"] for t in deployed["PipelineTags"]}
        assert tags["dynamodbdatapipeline"] == "true" and tags["ddb-datapipeline:environment"] == "prod"


def test_pipelines_wait_for_their_permissions(synthesis):
    template = synthesis.template("prod")
    policies = set(resources(template, "AWS::IAM::Policy")) | set(resources(template, "AWS::IAM::ManagedPolicy"))
    shared = {p for p in policies if p.startswith(("RolesEmrServicePolicy", "RolesNodePolicy", "RolesPipelinePolicy"))}
    assert len(shared) == 3
    for logical_id, pipeline in resources(template, "AWS::DataPipeline::Pipeline").items():
        own_prefix = logical_id.split("Pipeline")[0]  # e.g. Exportorders (its NodePermissions)
        own = {p for p in policies if p.startswith(own_prefix)}
        assert len(own) == 1, (logical_id, own)
        assert shared | own <= set(pipeline["DependsOn"]), logical_id


def test_outputs_name_bucket_topic_tables_and_pipeline_ids(prod):
    outputs = prod.find_outputs("*")
    assert {"ExportBucketName", "AlertTopicArn", "OrdersExportPipelineId", "OrdersRestorePipelineId", "CustomersRestoreTargetTable"} <= set(outputs)
    value = Capture()
    prod.has_output("OrdersExportPipelineId", {"Value": value})
    assert "Ref" in value.as_object()


def test_log_delivery_is_admitted_only_for_this_accounts_buckets(synthesis):
    """aws:SourceArn alone matches a bucket of that name in any account; aws:SourceAccount pins ours."""
    found = 0
    for template_file in synthesis.outdir.glob("*.template.json"):
        template = json.loads(template_file.read_text())
        for policy in resources(template, "AWS::S3::BucketPolicy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement.get("Principal") == {"Service": "logging.s3.amazonaws.com"}:
                    found += 1
                    assert set(statement["Condition"]) == {"ArnLike", "StringEquals"}, template_file.name
                    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert found >= 6  # dev, prod, the staging bucket, the delivery artifacts and two replication buckets


def test_no_activation_value_reaches_code_in_any_synthesized_pipeline(synthesis):
    """Issue 25: across every stack of the app, no parameter reaches a code field (command, hiveScript, filterSql,
    step, ...), however it is referenced, except the restore's folder in its step, behind the guard."""
    from ddb_datapipeline.definition.injection_rules import CODE_FIELDS, parameter_code, parameters_reached
    from ddb_datapipeline.definition.render import from_cloudformation
    from ddb_datapipeline.definition.view import DefinitionView
    from ddb_datapipeline.review import intrinsics

    code_fields, behind_guard, restores = set(), [], 0
    for path in sorted(synthesis.outdir.glob("*.template.json")):
        for logical_id, pipeline in resources(json.loads(path.read_text()), "AWS::DataPipeline::Pipeline").items():
            definition = from_cloudformation(intrinsics.resolve(pipeline["Properties"]))  # references as placeholders
            view = DefinitionView(definition)
            assert list(parameter_code(view)) == [], logical_id
            restores += any(o.id == "ExportFolderCheck" for o in definition.objects)
            for obj in definition.objects:
                for field in (f for f in obj.fields if f.key in CODE_FIELDS):
                    code_fields.add(field.key)
                    if reached := parameters_reached(view, obj, field.value):
                        behind_guard.append((set(reached), obj.id, field.key, obj.value("dependsOn")))
    assert code_fields == {"step", "command", "hiveScript", "filterSql"} and restores > 0  # cdk.json has each kind
    assert behind_guard == [({"myInputS3Loc"}, "TableLoadActivity", "step", "ExportFolderCheck")] * restores
