"""What the smoke check found: rows for the summary, differences, and the failure they raise."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from . import LocalDeployError


class SmokeCheckFailed(LocalDeployError):
    def __init__(self, report: SmokeReport) -> None:
        first = report.differences[0]
        more = f" (and {len(report.differences) - 1} more)" if len(report.differences) > 1 else ""
        super().__init__(f"smoke check: {first}{more}")
        self.report = report


@dataclass(frozen=True)
class Difference:
    where: str  # stack, or stack/resource
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class TableRow:
    environment: str
    region: str
    name: str
    keys: str
    billing: str
    state: str  # "deployed", "missing", "referenced, not deployed"


@dataclass
class BucketRow:
    stack: str
    name: str
    encryption: str
    tls_only: bool


@dataclass
class PipelineRow:
    stack: str
    name: str
    pipeline_id: str
    state: str


@dataclass
class StackRow:
    name: str
    region: str
    status: str


@dataclass
class SmokeReport:
    endpoint: str
    stacks: list[StackRow] = field(default_factory=list)
    tables: list[TableRow] = field(default_factory=list)
    buckets: list[BucketRow] = field(default_factory=list)
    pipelines: list[PipelineRow] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    instance_profiles: list[str] = field(default_factory=list)
    not_modelled: Counter = field(default_factory=Counter)  # resource type -> resources the emulator skipped
    differences: list[Difference] = field(default_factory=list)
    checks: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def raise_for_differences(self) -> None:
        if self.differences:
            raise SmokeCheckFailed(self)

