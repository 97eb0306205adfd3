"""The package's arrows point one way: stacks -> constructs -> definition, and config feeds stacks. definition
and config import no CDK; constructs and definition never import config or stacks; the acceptance run imports
neither the CDK nor the dev-only local_deploy."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ddb_datapipeline"
FORBIDDEN = {
    "definition": ("config", "constructs", "stacks", "aws_cdk"),
    "constructs": ("config", "stacks"),
    "config": ("constructs", "stacks", "aws_cdk"),
    "permissions": ("constructs", "stacks", "aws_cdk"),
    # the acceptance run reads the configuration and the permission model; the local runner is injected from the tests
    "acceptance": ("constructs", "stacks", "aws_cdk", "local_deploy"),
}
EXTERNAL = ("aws_cdk", "local_deploy")  # top-level packages, not layers of ddb_datapipeline


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against the package."""
    names = set()
    layer = path.relative_to(PACKAGE).parts[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
            elif node.level == 1:
                names.add(f"ddb_datapipeline.{layer}.{node.module or ''}")
            else:
                names.add(f"ddb_datapipeline.{node.module or ''}")
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def crossings(layer: str) -> list[str]:
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imported(path):
            for target in FORBIDDEN[layer]:
                if name.startswith((f"ddb_datapipeline.{target}", target if target in EXTERNAL else "\0")):
                    found.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_import_points_the_wrong_way(layer):
    assert crossings(layer) == []
