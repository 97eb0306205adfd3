"""Local deploy settings never reach what ``make synth`` produces for real AWS."""
from __future__ import annotations

import re

from tests.conftest import ROOT, cdk_json_context


def test_the_real_synthesis_keeps_the_bootstrap_version_rule_and_the_configured_accounts(synthesis):
    manifest = synthesis.manifest()
    stacks = {name: artifact for name, artifact in manifest["artifacts"].items() if artifact["type"] == "aws:cloudformation:stack"}
    assert stacks
    for name in stacks:
        if name.startswith("cross-region-stack-"):
            continue  # CDK Pipelines' replication-bucket support stacks, synthesized by CDK its own way
        template = synthesis.template_named(name)
        assert "CheckBootstrapVersion" in template["Rules"], name
        assert "BootstrapVersion" in template["Parameters"], name
    environments = cdk_json_context()["environments"]
    for env_name, stack in synthesis.stacks.items():
        expected = environments[env_name].get("account") or "unknown-account"
        assert stacks[stack.stack_name]["environment"] == f"aws://{expected}/{environments[env_name]['region']}"
    assert "aws://123456789012/" not in str([a["environment"] for a in stacks.values()])


def test_the_local_flag_is_set_only_by_the_local_deploy():
    assert "local" not in cdk_json_context()
    makefile = (ROOT / "Makefile").read_text()
    synth_recipe = re.search(r"^synth:.*?(?=^\S)", makefile, re.MULTILINE | re.DOTALL).group(0)
    assert "local" not in synth_recipe
    assert "cdk.out.local" in (ROOT / ".gitignore").read_text()
