"""One review per test session, built from the session's synthesis (no second app is built)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ddb_datapipeline.assembly import CloudAssembly, load_assembly
from ddb_datapipeline.review.report import ReviewSummary, build_review

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Review:
    out: Path
    summary: ReviewSummary
    assembly: CloudAssembly

    @property
    def readme(self) -> str:
        return (self.out / "README.md").read_text(encoding="utf-8")

    def stack_section(self, stack: str) -> str:
        sections = self.readme.split("\n## Stack ")
        (found,) = [s for s in sections if s.startswith(stack + "\n")]
        return found

    def pipeline_section(self, stack: str, name: str) -> str:
        pipelines = self.stack_section(stack).split("\n### Pipelines\n", 1)[1].split("\n### IAM\n", 1)[0]
        (found,) = [s for s in pipelines.split("\n#### ") if s.startswith(name + "\n")]
        return found

    def iam_section(self, stack: str) -> str:
        return self.stack_section(stack).split("\n### IAM\n", 1)[1].split("\n### cdk-nag\n", 1)[0]


@pytest.fixture(scope="session")
def review(synthesis, tmp_path_factory) -> Review:
    out = tmp_path_factory.mktemp("review")
    summary = build_review(synthesis.outdir, out)
    return Review(out, summary, load_assembly(synthesis.outdir))
