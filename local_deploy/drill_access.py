"""Every call a local run makes, decided first as AWS would decide it for the role that makes it.

moto enforces no IAM, so a run on it would succeed with any policy. The local runner therefore asks the
project's permission model (``ddb_datapipeline.permissions``: the synthesized identity, bucket, table,
key and trust policies, IAM's evaluation rules) before each call, and a call the role may not make
stops the run with one line, as the service would fail the activity.

The model is read from the assembly as it would be deployed to AWS, not from the local one: the local
assembly puts every stack into the emulator's one account while the policies still name the configured
accounts, so a copy into another account would be decided against a world that cannot exist. Each call
is therefore decided in the accounts of the AWS assembly: the caller's account is its role's, a bucket's
or a table's account its own (a table given by ARN names it).

The model names resources as the templates do; CloudFormation on the emulator gave the generated ones
other names (a bucket ``ddb-dev-exportbucket...-1a2b3c``, a role ``DdbDataPipeline-dev-RolesNodes...``).
``Access`` translates each deployed name back to the model's by the stack's logical ids.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ddb_datapipeline.assembly import StackArtifact
from ddb_datapipeline.permissions.assembly_view import World, stand_in_names
from ddb_datapipeline.permissions.audit import decide_request
from ddb_datapipeline.permissions.evaluator import Request

from . import LocalDeployError

# Physical ids of these types are names the policies use (a key's is its id; a topic's its ARN).
_NAMED = ("AWS::S3::Bucket", "AWS::IAM::Role", "AWS::KMS::Key", "AWS::SNS::Topic", "AWS::IAM::InstanceProfile")


class RunFailed(LocalDeployError):
    """A run's activity failed; the message is one line naming pipeline and object."""


class Refused(RunFailed):
    """A call the role's policies do not allow: the activity fails, as it would on AWS."""


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def _named(arns: Iterable[str], kind: str, name: str) -> str:
    """The one ARN of ``kind`` (role, instance-profile) whose name is ``name``."""
    found = [arn for arn in arns if arn.split(":")[5] == f"{kind}/{name}"]
    if len(found) != 1:
        raise Refused(f"{kind} {name} is {'not' if not found else 'more than once'} in the synthesized assembly")
    return found[0]


@dataclass
class Access:
    world: World  # of the assembly as deployed to AWS
    names: dict[str, str]  # deployed physical name -> the model's name

    @classmethod
    def of(cls, world: World, stacks: Iterable[StackArtifact], deployed: Mapping[str, list[dict[str, Any]]]) -> Access:
        """``stacks``: the AWS assembly's; ``deployed``: each stack's resources as CloudFormation describes them
        on the emulator (the local assembly's stacks have the same names and logical ids)."""
        names: dict[str, str] = {}
        for stack in stacks:
            model = stand_in_names(stack)
            for resource in deployed.get(stack.name, []):
                if resource.get("ResourceType") in _NAMED and resource.get("LogicalResourceId") in model and resource.get("PhysicalResourceId"):
                    names[resource["PhysicalResourceId"]] = model[resource["LogicalResourceId"]]
        return cls(world, names)

    def model_name(self, name: str) -> str:
        return self.names.get(name, name)

    def role_arn(self, role_name: str) -> str:
        return _named(self.world.roles, "role", self.model_name(role_name))

    def profile_role_arn(self, profile_name: str) -> str:
        """The role of an instance profile (a definition's ``resourceRole``): the node role."""
        return self.world.instance_profiles[_named(self.world.instance_profiles, "instance-profile", self.model_name(profile_name))]

    def bucket_arn(self, bucket: str, key: str | None = None) -> str:
        name = self.model_name(bucket)
        return f"arn:aws:s3:::{name}" + (f"/{key}" if key is not None else "")

    def bucket_key(self, bucket: str) -> str | None:
        found = self.world.buckets.get(self.model_name(bucket))
        return found.key_arn if found else None

    @staticmethod
    def table_arn(table: str, region: str, account: str) -> str:
        """A table named by ARN (a copy into another account) is in that ARN's account, else in ``account``."""
        return table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"

    def table_key(self, table_arn: str) -> str | None:
        found = self.world.tables.get(table_arn)
        return found.key_arn if found is not None and found.encryption == "CUSTOMER_MANAGED" else None

    def check(self, where: str, principal: str, action: str, resource: str, region: str, **context: str) -> None:
        """Raise ``Refused`` (naming ``where``: pipeline and object) unless ``principal`` may make the call."""
        request = Request(principal, action, resource, {
            "aws:SecureTransport": "true", "aws:RequestedRegion": region, "aws:PrincipalArn": principal,
            "aws:PrincipalAccount": account_of(principal), **context,
        })
        decision = decide_request(self.world, request)
        if not decision.allowed:
            raise Refused(f"{where}: {principal.rsplit('/', 1)[-1]} may not {action} on {resource}: {decision.reason}")

    def _bucket_place(self, bucket: str, principal: str, region: str) -> tuple[str, str]:
        """The bucket's region (S3 and KMS answer there, whichever region the caller runs in) and account."""
        found = self.world.buckets.get(self.model_name(bucket))
        return (found.region if found is not None and found.region else region,
                found.account if found is not None else account_of(principal))

    def check_listing(self, where: str, principal: str, bucket: str, prefix: str, region: str) -> None:
        region, owner = self._bucket_place(bucket, principal, region)
        self.check(where, principal, "s3:ListBucket", self.bucket_arn(bucket), region, **{"s3:prefix": prefix, "s3:ResourceAccount": owner})

    def check_objects(self, where: str, principal: str, actions: Iterable[str], bucket: str, key: str, region: str, *,
                      writes: bool) -> None:
        """An object call, and the bucket key's use through S3 that it implies (S3 calls KMS in the
        bucket's region, whichever region the caller runs in)."""
        region, owner = self._bucket_place(bucket, principal, region)
        for action in actions:
            self.check(where, principal, action, self.bucket_arn(bucket, key), region, **{"s3:ResourceAccount": owner})
        key_arn = self.bucket_key(bucket)
        if key_arn:
            self.check(where, principal, "kms:GenerateDataKey" if writes else "kms:Decrypt", key_arn, region,
                       **{"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account_of(principal)})

    def check_table(self, where: str, principal: str, actions: Iterable[str], table: str, region: str, *, writes: bool) -> None:
        """A table call, and the table key's use through DynamoDB that it implies."""
        arn = self.table_arn(table, region, account_of(principal))
        for action in actions:
            self.check(where, principal, action, arn, region)
        key_arn = self.table_key(arn)
        if key_arn:
            via = {"kms:ViaService": f"dynamodb.{region}.amazonaws.com", "kms:CallerAccount": account_of(principal),
                   "kms:EncryptionContext:aws:dynamodb:tableName": arn.rsplit("/", 1)[-1]}
            for action in (("kms:Encrypt", "kms:GenerateDataKey") if writes else ("kms:Decrypt",)):
                self.check(where, principal, action, key_arn, region, **via)
