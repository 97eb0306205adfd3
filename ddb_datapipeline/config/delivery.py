"""The optional ``delivery`` context: where the CodePipeline lives, its source, and the stage order."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..definition.patterns import ACCOUNT
from .model import EnvironmentConfig
from .names import branch_rule, bucket_name_rule
from .reader import ConfigError, Section
from .regions import region_rule

SOURCE_KINDS = ("connection", "codecommit", "s3")
CONNECTION_ARN = r"arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[A-Za-z0-9-]+"
# CodeCommit: 1-100 ASCII letters, digits, '.', '_' and '-', not ending in .git (CreateRepository API reference).
CODECOMMIT_REPOSITORY = r"(?!.*\.git$)(?!\.{1,2}$)[A-Za-z0-9_.-]{1,100}"


@dataclass(frozen=True)
class SourceConfig:
    kind: str  # connection, codecommit or s3
    branch: str | None = None
    repository: str | None = None  # owner/name for a connection, a name for CodeCommit
    connection_arn: str | None = None
    bucket: str | None = None
    object_key: str | None = None


@dataclass(frozen=True)
class StageConfig:
    environment: EnvironmentConfig
    protected: bool  # a manual approval precedes the deployment


@dataclass(frozen=True)
class DeliveryConfig:
    account: str
    region: str
    source: SourceConfig
    stages: tuple[StageConfig, ...]

    @property
    def stack_name(self) -> str:
        return "DdbDataPipeline-delivery"


def _branch(section: Section) -> str:
    branch: str = section.string("branch", "main", allowed="a git branch name such as main")
    if rule := branch_rule(branch):
        raise section.fail("branch", branch, rule)
    return branch


def _bucket(section: Section) -> str:
    bucket: str = section.string("bucket", allowed="an S3 bucket name")
    if rule := bucket_name_rule(bucket):
        raise section.fail("bucket", bucket, rule)
    return bucket


def _source(section: Section) -> SourceConfig:
    kind = section.string("kind", "connection", choices=SOURCE_KINDS)
    if kind == "s3":
        source = SourceConfig(
            kind=kind,
            bucket=_bucket(section),
            object_key=section.string("object_key", pattern=r".+\.zip", allowed="the key of a zip archive of the repository"),
        )
    elif kind == "codecommit":
        source = SourceConfig(
            kind=kind,
            repository=section.string("repository", pattern=CODECOMMIT_REPOSITORY, allowed="a CodeCommit repository name"),
            branch=_branch(section),
        )
    else:
        source = SourceConfig(
            kind=kind,
            repository=section.string("repository", pattern=r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", allowed="owner/name of the repository"),
            branch=_branch(section),
            connection_arn=section.string(
                "connection_arn", pattern=CONNECTION_ARN, allowed="a CodeConnections (or CodeStar connections) connection ARN"
            ),
        )
    section.finish()
    return source


def _region(delivery: Section) -> str:
    region: str = delivery.string("region", allowed="an AWS region such as eu-west-1")
    if rule := region_rule(region, pipelines=False):
        raise delivery.fail("region", region, rule)
    return region


def load_delivery(context: Mapping[str, Any], environments: Mapping[str, EnvironmentConfig]) -> DeliveryConfig | None:
    """None when the context has no ``delivery`` object: the app then holds the environments alone."""
    if context.get("delivery") is None:
        return None
    delivery = Section(context["delivery"], "delivery")
    stages = []
    seen: set[str] = set()
    raw_stages = delivery.items("stages")
    if not raw_stages:
        raise ConfigError("delivery.stages: 0 stages is not allowed; expected at least one environment to deploy")
    for index, raw in enumerate(raw_stages):
        stage = Section(raw, f"delivery.stages[{index}]")
        name = stage.string("environment", choices=list(environments))
        if name in seen:
            raise stage.fail("environment", name, "each environment once")
        seen.add(name)
        stages.append(StageConfig(environment=environments[name], protected=stage.boolean("protected", False)))
        stage.finish()
    config = DeliveryConfig(
        account=delivery.string("account", pattern=ACCOUNT, allowed="the 12-digit account id of the pipeline"),
        region=_region(delivery),
        source=_source(delivery.section("source")),
        stages=tuple(stages),
    )
    delivery.finish()
    return config
