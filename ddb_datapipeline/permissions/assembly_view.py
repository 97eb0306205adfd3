"""The deployed world a cloud assembly describes: roles with their policies, buckets, tables, keys
and topics with their resource policies, and every pipeline's definition, with intrinsics resolved.

Names CloudFormation would generate are stood in for by stable, readable ones (``<stack>-<logical
id>``); an environment-agnostic stack gets the placeholder account ``000000000000``. What the
permission check needs from a name is only that every reference to one resource resolves to the
same string, which holds.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..assembly import CloudAssembly, StackArtifact
from ..definition.model import PipelineDefinition
from ..definition.render import from_cloudformation
from ..template_resolver import NAME_PROPERTY, Resolver
from .evaluator import Policy
from .runtime_calls import STATED_POLICIES

AGNOSTIC_ACCOUNT = "000000000000"
# The resource types whose policies or definitions the check reads; others are left unresolved.
_READ = {
    "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::InstanceProfile", "AWS::KMS::Key", "AWS::KMS::Alias",
    "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy",
    "AWS::DataPipeline::Pipeline", "AWS::StepFunctions::StateMachine", "AWS::Scheduler::Schedule",
    "AWS::Events::EventBus", "AWS::Events::Rule", "AWS::CloudWatch::Alarm", "AWS::Logs::LogGroup",
}


@dataclass
class Role:
    arn: str
    stack: str
    logical_id: str
    trust: Policy
    policies: list[Policy] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # the role's Tags: its requests carry them as aws:PrincipalTag/<key>


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    region: str
    key_arn: str | None
    policy: Policy | None


@dataclass(frozen=True)
class Table:
    arn: str
    encryption: str  # CUSTOMER_MANAGED, AWS_MANAGED or AWS_OWNED
    key_arn: str | None
    policy: Policy | None


@dataclass(frozen=True)
class Topic:
    arn: str
    key_arn: str | None
    policy: Policy | None


@dataclass(frozen=True)
class Pipeline:
    stack: str
    logical_id: str
    name: str
    account: str
    region: str
    tags: Mapping[str, str]
    definition: PipelineDefinition

    @property
    def label(self) -> str:
        return f"{self.stack}/{self.name}"


@dataclass(frozen=True)
class StateMachine:
    """A native-engine state machine, with its definition (Amazon States Language) resolved."""

    stack: str
    logical_id: str
    name: str
    arn: str
    account: str
    region: str
    role_arn: str
    definition: Mapping[str, Any]
    logging: bool
    tracing: bool
    tags: Mapping[str, str] = field(default_factory=lambda: {"ddb-datapipeline:kind": "native"})
    # The log group the machine logs to (its Fn::GetAtt Arn, ending in ':*'), when logging is on.
    log_group_arn: str | None = None

    @property
    def label(self) -> str:
        return f"{self.stack}/{self.name}"


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule: the role it assumes and what it starts."""

    role_arn: str
    target_arn: str
    group_arn: str


@dataclass(frozen=True)
class RuleTarget:
    arn: str
    role_arn: str | None


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule: the bus it listens on, what it matches, where it sends (as which role)."""

    arn: str
    bus_arn: str
    pattern: Mapping[str, Any]
    targets: tuple[RuleTarget, ...]


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm: what it watches (namespace, metric, dimensions) and the topics it publishes to."""

    arn: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    topics: tuple[str, ...]


@dataclass
class World:
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN
    instance_profiles: dict[str, str] = field(default_factory=dict)  # profile ARN -> role ARN
    buckets: dict[str, Bucket] = field(default_factory=dict)  # by name
    tables: dict[str, Table] = field(default_factory=dict)  # by ARN
    keys: dict[str, Policy] = field(default_factory=dict)  # key ARN -> key policy
    # alias ARN -> key ARN: a caller may name a key by its alias (DynamoDB's SSESpecification.KMSMasterKeyId, botocore's model),
    # but KMS authorizes the key itself, so the check decides the key's ARN.
    aliases: dict[str, str] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)  # by ARN
    pipelines: list[Pipeline] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # "<stack>/<logical id>" -> construct path in the stack
    managed_policies: set[str] = field(default_factory=set)  # logical ids of customer managed policies
    managed_by_arn: dict[str, Policy] = field(default_factory=dict)  # customer managed policies of every stack
    state_machines: list[StateMachine] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    buses: dict[str, Policy | None] = field(default_factory=dict)  # event bus ARN -> its resource policy
    rules: list[Rule] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    # log group ARN (Fn::GetAtt Arn, ending in ':*') -> the ARN of the KMS key it is encrypted with, or None
    log_groups: dict[str, str | None] = field(default_factory=dict)
    attachments: list[tuple[str, str, str]] = field(default_factory=list)  # role ARN, managed policy ARN, where


def _generated(name: str, limit: int) -> str:
    """A stand-in for a name CloudFormation generates: unique as the real one is, within ``limit``
    (a cut alone would give two roles of one long construct path the same name)."""
    if len(name) <= limit:
        return name
    return f"{name[:limit - 9]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _physical(stack: StackArtifact, account: str, region: str) -> tuple[dict[str, str], dict[str, str]]:
    types = {logical: resource.get("Type", "") for logical, resource in stack.resources.items()}
    physical: dict[str, str] = {}
    pending: dict[str, Any] = {}
    for logical, resource in stack.resources.items():
        type_ = types[logical]
        name = (resource.get("Properties") or {}).get(NAME_PROPERTY.get(type_, ""))
        if isinstance(name, str):
            physical[logical] = name
        elif name is not None:
            pending[logical] = name
        elif type_ == "AWS::S3::Bucket":
            physical[logical] = _generated(f"{stack.name}-{logical}".lower(), 63)
        elif type_ in ("AWS::IAM::Role", "AWS::IAM::InstanceProfile"):
            physical[logical] = _generated(f"{stack.name}-{logical}", 64)
        elif type_ in ("AWS::SNS::Topic", "AWS::KMS::Key"):  # two stacks of one account and region may share a logical id
            physical[logical] = _generated(f"{stack.name}-{logical}", 256)
        else:
            physical[logical] = logical
        if type_ == "AWS::SNS::Topic":
            physical[logical] = f"arn:aws:sns:{region}:{account}:{physical[logical]}"
        if type_ == "AWS::IAM::ManagedPolicy":
            physical[logical] = f"arn:aws:iam::{account}:policy/{physical[logical]}"
        if type_ == "AWS::DataPipeline::Pipeline":
            physical[logical] = f"df-{logical}"
        if type_ == "AWS::StepFunctions::StateMachine":  # Ref of a state machine is its ARN
            physical[logical] = f"arn:aws:states:{region}:{account}:stateMachine:{physical[logical]}"
    resolver = Resolver(stack.name, region, account, physical, types)
    for logical, name in pending.items():  # e.g. an instance profile named after its role
        physical[logical] = str(resolver(name))
    return physical, types


def stand_in_names(stack: StackArtifact) -> dict[str, str]:
    """Each resource's name (or ARN, for a topic or state machine) in the world, by logical id: what a
    deployed resource of that logical id is called in the permission check."""
    return _physical(stack, *_place(stack))[0]


def stack_resolvers(assembly: CloudAssembly, unknown_attribute: Callable[[str, str, str], str] | None = None) -> dict[str, Resolver]:
    """A resolver per stack of the assembly (by stack name) that gives every intrinsic the world's value:
    stand-in names, another stack's outputs and exports resolved in that stack, and a placeholder
    ``<logical.attribute>`` for an attribute the check does not model (a CodeBuild project's ARN in a
    delivery policy), which no runtime request ever names, or what ``unknown_attribute(logical, type,
    attribute)`` gives instead. The permission check and the IAM oracles of the tests read the same
    resolved documents."""
    stacks = [stack for stack in assembly.stacks if stack.region is not None]  # the delivery stack's replication stacks carry none
    by_name = {stack.name: stack for stack in stacks}
    physical = {stack.name: _physical(stack, *_place(stack)) for stack in stacks}

    def stack_output(stack_name: str, output: str) -> Any:
        """A value another stack of the assembly exports (Fn::GetStackOutput), resolved in that stack."""
        producer = by_name[stack_name]
        names, types = physical[stack_name]
        value = producer.template["Outputs"][output]["Value"]
        return Resolver(producer.name, producer.region or "", producer.account or AGNOSTIC_ACCOUNT, names, types,
                        stack_output=stack_output, exported=exported)(value)

    exports = {str(output["Export"]["Name"]): (stack.name, key) for stack in stacks
               for key, output in (stack.template.get("Outputs") or {}).items() if isinstance((output.get("Export") or {}).get("Name"), str)}

    def exported(name: str) -> Any:
        return stack_output(*exports[name])

    def placeholder(logical: str, type_: str, attribute: str) -> str:
        return f"<{logical}.{attribute}>"

    return {stack.name: Resolver(stack.name, _place(stack)[1], _place(stack)[0], *physical[stack.name], unknown_attribute or placeholder,
                                 stack_output=stack_output, exported=exported) for stack in stacks}


def load_world(assembly: CloudAssembly) -> World:
    world = World()
    resolvers = stack_resolvers(assembly)
    for stack in assembly.stacks:
        if stack.name in resolvers:
            _add_stack(world, stack, resolvers[stack.name])
    for role_arn, policy_arn, where in world.attachments:
        if policy_arn not in world.managed_by_arn:
            raise ValueError(f"{where}: managed policy {policy_arn} is not in the assembly; cannot evaluate it")
        world.roles[role_arn].policies.append(world.managed_by_arn[policy_arn])
    return world


def _place(stack: StackArtifact) -> tuple[str, str]:
    return stack.account or AGNOSTIC_ACCOUNT, stack.region or ""


def _add_stack(world: World, stack: StackArtifact, resolve: Resolver) -> None:
    account, region = _place(stack)
    for path, logical in stack.construct_paths().items():
        world.paths[f"{stack.name}/{logical}"] = path.partition("/")[2].removesuffix("/Resource")
    physical = resolve.physical
    resources = {logical: resolve(resource) for logical, resource in stack.resources.items() if resource.get("Type") in _READ}

    def arn(logical: str) -> str:
        return str(resolve({"Fn::GetAtt": [logical, "Arn"]}))

    role_arns_by_name = {}
    for logical, resource in resources.items():
        if resource.get("Type") == "AWS::IAM::Role":
            props = resource.get("Properties", {})
            role = Role(arn(logical), stack.name, logical, Policy(f"{stack.name}/{logical} trust", props["AssumeRolePolicyDocument"]),
                        tags={str(t["Key"]): str(t["Value"]) for t in props.get("Tags", []) or []})
            for inline in props.get("Policies", []) or []:
                role.policies.append(Policy(f"{stack.name}/{logical}/{inline['PolicyName']}", inline["PolicyDocument"]))
            world.roles[role.arn] = role
            role_arns_by_name[physical[logical]] = role.arn
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        type_ = resource.get("Type")
        if type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            policy = Policy(f"{stack.name}/{logical}", props["PolicyDocument"])
            if type_ == "AWS::IAM::ManagedPolicy":
                world.managed_by_arn[physical[logical]] = policy
                world.managed_policies.add(logical)
            # A role the assembly only references (a team's Role.from_role_arn) makes no request the check models;
            # its policy has nothing to decide here.
            for role_name in props.get("Roles", []) or []:
                if role_name in role_arns_by_name:
                    world.roles[role_arns_by_name[role_name]].policies.append(policy)
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        type_ = resource.get("Type")
        if type_ == "AWS::IAM::Role":
            for policy_arn in props.get("ManagedPolicyArns", []) or []:  # attached once every stack is read
                world.attachments.append((arn(logical), policy_arn, f"{stack.name}/{logical}"))
        elif type_ == "AWS::IAM::InstanceProfile":
            (role_name,) = props["Roles"]
            world.instance_profiles[arn(logical)] = role_arns_by_name[role_name]
        elif type_ == "AWS::KMS::Key":
            world.keys[arn(logical)] = Policy(f"{stack.name}/{logical} key policy", props["KeyPolicy"])
        elif type_ == "AWS::KMS::Alias":
            target = str(props["TargetKeyId"])
            world.aliases[f"arn:aws:kms:{region}:{account}:{props['AliasName']}"] = (
                target if target.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{target}")
        elif type_ == "AWS::DynamoDB::Table":
            sse = props.get("SSESpecification") or {}
            encryption = "AWS_OWNED"
            if str(sse.get("SSEEnabled")).lower() == "true":
                encryption = "CUSTOMER_MANAGED" if sse.get("KMSMasterKeyId") else "AWS_MANAGED"
            document = (props.get("ResourcePolicy") or {}).get("PolicyDocument")
            world.tables[arn(logical)] = Table(
                arn(logical), encryption, sse.get("KMSMasterKeyId"),
                Policy(f"{stack.name}/{logical} resource policy", document) if document else None,
            )
        elif type_ == "AWS::SNS::Topic":
            key = props.get("KmsMasterKeyId")
            world.topics[physical[logical]] = Topic(physical[logical], key, None)
    for stated in (stack.template.get("Metadata") or {}).get(STATED_POLICIES, []):
        policy = Policy(f"{stack.name} {stated['Kind']} policy as stated by the configuration", resolve(stated["PolicyDocument"]))
        if stated["Kind"] == "topic":
            world.topics[stated["Resource"]] = Topic(stated["Resource"], stated.get("KeyArn"), policy)
        else:
            world.keys[stated["Resource"]] = policy
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        type_ = resource.get("Type")
        if type_ == "AWS::S3::Bucket":
            rules = ((props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or [{}])
            default = rules[0].get("ServerSideEncryptionByDefault") or {}
            key = default.get("KMSMasterKeyID") if default.get("SSEAlgorithm") == "aws:kms" else None
            bucket_policy: Policy | None = next(
                (Policy(f"{stack.name}/{other}", r["Properties"]["PolicyDocument"]) for other, r in resources.items()
                 if r.get("Type") == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == physical[logical]),
                None,
            )
            world.buckets[physical[logical]] = Bucket(physical[logical], account, region, key, bucket_policy)
        elif type_ == "AWS::SNS::TopicPolicy":
            for topic_arn in props.get("Topics", []):
                topic = world.topics[topic_arn]
                world.topics[topic_arn] = Topic(topic.arn, topic.key_arn, Policy(f"{stack.name}/{logical}", props["PolicyDocument"]))
        elif type_ == "AWS::StepFunctions::StateMachine":
            destinations = (props.get("LoggingConfiguration") or {}).get("Destinations") or [{}]
            log_group = (destinations[0].get("CloudWatchLogsLogGroup") or {}).get("LogGroupArn")
            world.state_machines.append(StateMachine(
                stack.name, logical, physical[logical].rsplit(":", 1)[1], physical[logical], account, region, str(props["RoleArn"]),
                json.loads(str(props["DefinitionString"])), "LoggingConfiguration" in props,
                bool((props.get("TracingConfiguration") or {}).get("Enabled")),
                log_group_arn=str(log_group) if log_group else None,
            ))
        elif type_ == "AWS::Logs::LogGroup":
            key = props.get("KmsKeyId")
            world.log_groups[arn(logical)] = str(key) if key else None
        elif type_ == "AWS::Scheduler::Schedule":
            target = props["Target"]
            group = props.get("GroupName") or "default"
            world.schedules.append(Schedule(str(target["RoleArn"]), str(target["Arn"]),
                                            f"arn:aws:scheduler:{region}:{account}:schedule-group/{group}"))
        elif type_ == "AWS::Events::EventBus":
            policy = props.get("Policy")
            world.buses[arn(logical)] = Policy(f"{stack.name}/{logical} bus policy", policy) if policy else None
        elif type_ == "AWS::Events::Rule":
            bus = str(props.get("EventBusName") or "default")
            bus_arn = bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}"
            name = str(props.get("Name") or logical)
            path = name if bus == "default" else f"{bus_arn.rsplit('/', 1)[1]}/{name}"  # a custom bus's rules are rule/<bus>/<name>
            rule_arn = f"arn:aws:events:{region}:{account}:rule/{path}"
            targets = tuple(RuleTarget(str(t["Arn"]), str(t["RoleArn"]) if t.get("RoleArn") else None) for t in props.get("Targets", []))
            world.rules.append(Rule(rule_arn, bus_arn, props.get("EventPattern") or {}, targets))
        elif type_ == "AWS::CloudWatch::Alarm":
            world.alarms.append(Alarm(
                f"arn:aws:cloudwatch:{region}:{account}:alarm:{props['AlarmName']}", str(props.get("Namespace")), str(props.get("MetricName")),
                {str(d["Name"]): str(d["Value"]) for d in props.get("Dimensions", [])},
                tuple(str(action) for action in props.get("AlarmActions", []) if str(action).startswith("arn:aws:sns:")),
            ))
        elif type_ == "AWS::DataPipeline::Pipeline":
            tags = {t["Key"]: t["Value"] for t in props.get("PipelineTags", [])}
            world.pipelines.append(
                Pipeline(stack.name, logical, props["Name"], account, region, tags, from_cloudformation(_strings(props)))
            )


def _strings(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The definition part of a resolved pipeline resource."""
    return {key: properties.get(key, []) for key in ("PipelineObjects", "ParameterObjects", "ParameterValues")}
