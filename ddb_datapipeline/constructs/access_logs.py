"""Server access logging for a bucket: one private, TLS-only destination bucket per stack."""
from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

DEFAULT_RETENTION_DAYS = 90


def access_log_bucket(scope: Construct, id: str, *, removal: RemovalPolicy, retention_days: int = DEFAULT_RETENTION_DAYS) -> s3.Bucket:
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.S3_MANAGED,  # the only encryption S3 server access logging accepts
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=removal,
        lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(retention_days))],
    )
    # cdk-nag's S1 recognises a bucket that receives access logs, so nothing is acknowledged here.
    return bucket


def log_access_of(bucket: s3.IBucket, *, destination: s3.Bucket, prefix: str) -> None:
    """Turns on access logging through the destination's bucket policy: for buckets another construct
    created (CDK Pipelines' artifact and replication buckets offer no option for it), and for ours, so
    the result does not depend on the app's ``serverAccessLogsUseBucketPolicy`` feature flag."""
    resource = bucket.node.default_child
    if not isinstance(resource, s3.CfnBucket):
        raise TypeError(f"{bucket.node.path}: access logging is set on a bucket this app declares, not an imported one")
    resource.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=destination.bucket_name, log_file_prefix=prefix
    )
    destination.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject"],
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            resources=[destination.arn_for_objects(f"{prefix}*")],
            # Both keys, as the S3 User Guide's log-delivery policy shows: a bucket of that name in
            # another account cannot write here.
            conditions={"ArnLike": {"aws:SourceArn": bucket.bucket_arn}, "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        )
    )
