"""The receiving side of copies that leave the source stack's account or region.

Declares the target tables this project owns there and, for copies from another account, a staging
bucket and table policies that admit exactly the source environment's node role, by ARN, never the
whole source account.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from ..config import CopyConfig, OwnedTable
from ..config.patterns import output_key
from ..constructs.data_table import DataTable
from ..constructs.export_bucket import COPIES_PREFIX, ExportBucket
from ..constructs.pipeline_roles import BATCH_WRITE, EXPORT_WRITES


@dataclass(frozen=True)
class CopyTarget:
    source_table: str
    source_shape: OwnedTable | None
    copy: CopyConfig


@dataclass(frozen=True)
class SourceIdentity:
    """Who writes from the other account: the source account and its node role's ARN."""

    account: str
    nodes_role_arn: str


class CopyTargetStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: str,
        targets: Sequence[CopyTarget],
        retain: bool,
        log_retention_days: int,
        source: SourceIdentity | None = None,
        staging_bucket_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self._retain = retain
        Tags.of(self).add("project", "ddb-datapipeline")
        Tags.of(self).add("environment", environment)
        admitted = _admit(source) if source else None
        if source is not None:
            self.staging = ExportBucket(
                self,
                "StagingBucket",
                retain=False,
                export_retention_days=14,
                transition_after_days=None,
                transition_storage_class="GLACIER_IR",
                log_retention_days=log_retention_days,
                kms_encrypted=False,
                bucket_name=staging_bucket_name,
            )
            bucket = self.staging.bucket
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="SourceNodesWriteStagingFolders",
                    principals=[iam.AccountPrincipal(source.account)],
                    actions=list(EXPORT_WRITES),
                    resources=[bucket.arn_for_objects(f"{COPIES_PREFIX}/*")],
                    conditions=admitted,
                )
            )
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="SourceNodesListStagingFolders",
                    principals=[iam.AccountPrincipal(source.account)],
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={**admitted, "StringLike": {"s3:prefix": [f"{COPIES_PREFIX}/*"]}},
                )
            )
            CfnOutput(self, "StagingBucketName", value=bucket.bucket_name)
        for target in targets:
            if not target.copy.owned or target.source_shape is None:
                continue
            self._declare(target, admitted, source)

    def _declare(self, target: CopyTarget, admitted: dict[str, Any] | None, source: SourceIdentity | None) -> None:
        shape = target.source_shape
        name = target.copy.target_table
        policy = None
        if admitted is not None and source is not None:
            table_arn = f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{name}"
            policy = iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        sid="SourceNodesWriteCopies",
                        principals=[iam.AccountPrincipal(source.account)],
                        actions=list(BATCH_WRITE),
                        resources=[table_arn],
                        conditions=admitted,
                    )
                ]
            )
        DataTable(
            self,
            f"Table-{name}",
            table_name=name,
            partition_key=(shape.partition_key.name, shape.partition_key.type),
            sort_key=(shape.sort_key.name, shape.sort_key.type) if shape.sort_key else None,
            # Another account reaches the table through its resource policy; a customer key would need its own.
            encryption="AWS_OWNED" if policy else shape.encryption,
            point_in_time_recovery=shape.point_in_time_recovery,
            resource_policy=policy,
            retain=self._retain,
        )
        CfnOutput(self, f"Target{output_key(name)}", value=name)


def _admit(source: SourceIdentity) -> dict[str, Any]:
    """The principal is the source account, narrowed to one role: a role ARN as principal would be
    refused while that role does not exist yet, and the two stacks deploy in either order."""
    return {"ArnEquals": {"aws:PrincipalArn": source.nodes_role_arn}}
