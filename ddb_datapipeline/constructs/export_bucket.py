"""The bucket that holds exports and pipeline logs, with its key and its access-log bucket."""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..definition.bucket_layout import COPIES_PREFIX, EXPORTS_PREFIX, LOGS_PREFIX
from ..definition.bucket_layout import exports_folder as exports_prefix
from ..definition.bucket_layout import logs_folder as logs_prefix
from .access_logs import access_log_bucket, log_access_of
from .reads import attribute

__all__ = ["COPIES_PREFIX", "EXPORTS_PREFIX", "LOGS_PREFIX", "ExportBucket", "ObjectLock", "exports_prefix", "logs_prefix", "s3_uri"]

COPY_STAGING_RETENTION_DAYS = 14  # a safety net: a successful copy removes its run folder itself


@dataclass(frozen=True)
class ObjectLock:
    """S3 Object Lock's default retention for every new object version of the bucket (``mode`` GOVERNANCE or
    COMPLIANCE, the S3 API names). Why: an export then cannot be removed or overwritten for ``days``, not even by
    the pipelines' own deletes (they add delete markers instead; the locked version stays). Only at creation
    through this construct; the configuration refuses it for a bucket the project does not own."""

    mode: str
    days: int


def s3_uri(bucket: s3.IBucket, prefix: str) -> str:
    return f"s3://{attribute(bucket, 'bucket_name')}/{prefix}"


class ExportBucket(Construct):
    """KMS-encrypted, versioned, TLS-only, private, access-logged; exports expire after the retention
    and may move to a colder storage class (``transition_storage_class``, the S3 API name) first.
    Retained on stack deletion unless ``retain=False``. ``kms_encrypted=False`` (S3-managed keys) is
    for a bucket that another account writes into, where a customer key would need a key policy
    across accounts."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retain: bool = True,
        export_retention_days: int = 35,
        transition_after_days: int | None = None,
        transition_storage_class: str = "GLACIER_IR",
        log_retention_days: int = 90,
        kms_encrypted: bool = True,
        bucket_name: str | None = None,
        object_lock: ObjectLock | None = None,
    ) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.key: kms.IKey | None = (
            kms.Key(
                self,
                "Key",
                description="Encrypts DynamoDB exports and Data Pipeline logs",
                enable_key_rotation=True,
                removal_policy=removal,
            )
            if kms_encrypted
            else None
        )
        access_logs = access_log_bucket(self, "AccessLogs", removal=removal, retention_days=log_retention_days)
        transitions = []
        if transition_after_days is not None:
            transitions.append(
                s3.Transition(
                    storage_class=s3.StorageClass(transition_storage_class),  # the S3 API name
                    transition_after=Duration.days(transition_after_days),
                )
            )
        self.bucket: s3.IBucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS if self.key else s3.BucketEncryption.S3_MANAGED,
            encryption_key=self.key,
            bucket_key_enabled=True if self.key else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal,
            # Object Lock needs versioning (on above); the access-log bucket stays unlocked, as S3 refuses a locked
            # bucket as a destination of server access logs.
            object_lock_enabled=True if object_lock else None,
            object_lock_default_retention=(
                s3.ObjectLockRetention.governance(Duration.days(object_lock.days)) if object_lock.mode == "GOVERNANCE"
                else s3.ObjectLockRetention.compliance(Duration.days(object_lock.days))
            ) if object_lock else None,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireExports",
                    prefix=f"{EXPORTS_PREFIX}/",
                    expiration=Duration.days(export_retention_days),
                    transitions=transitions or None,
                ),
                s3.LifecycleRule(
                    id="ExpireLogs", prefix=f"{LOGS_PREFIX}/", expiration=Duration.days(log_retention_days)
                ),
                s3.LifecycleRule(
                    id="ExpireCopyStaging",
                    prefix=f"{COPIES_PREFIX}/",
                    expiration=Duration.days(COPY_STAGING_RETENTION_DAYS),
                ),
                s3.LifecycleRule(
                    id="CleanUpVersionsAndUploads",
                    noncurrent_version_expiration=Duration.days(7),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
        )
        # Through a bucket policy, whatever the app's feature flags (the ACL route would clash with
        # bucket-owner-enforced ownership).
        log_access_of(self.bucket, destination=access_logs, prefix="export-bucket/")
