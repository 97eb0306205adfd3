"""AWS's per-stack limits, each said in one configuration line before a deploy would fail on it.

Each test crosses one limit on the session's synthesis by lowering the limit to just under what the
real templates hold (the same code path as a real crossing, without a second synth of a huge app).
"""
from __future__ import annotations

import re

import aws_cdk as cdk
import pytest

from ddb_datapipeline import limits
from ddb_datapipeline.app_builder import build, check_resource_counts, plan, stack_owners
from ddb_datapipeline.config import ConfigError
from ddb_datapipeline.config.stack_groups import automatic_group

MOVES = 'now 1; a change moves tables between stacks, see docs/configuration.md, "Large environments"'
ADVICE = f"raise table_stacks ({MOVES}) or give tables a stack_group of their own"  # where the table count is not the cause


def suggested_table_stacks(message: str, env: str, tables: list[str], fits: int) -> int:
    """The table_stacks a message suggests (with the assignment it names: the environment of one table stack
    states none); at that count the tables really do spread to ``fits`` per stack, and the plan-stacks command
    it names is the one for that count."""
    found = re.search(r': set table_stacks to (\d+) or more with stack_assignment "rendezvous" \(now 1; python -m ddb_datapipeline '
                      rf"plan-stacks --env {env} --table-stacks (\d+) lists the tables that would move\) or give tables a "
                      r"stack_group of their own$", message)
    assert found, message
    count = int(found.group(1))
    assert int(found.group(2)) == count
    groups = [automatic_group(t, count, assignment="rendezvous") for t in tables]
    assert max(groups.count(g) for g in groups) <= fits and count >= 2
    return count


def test_the_limits_are_awss():
    assert limits.MAX_RESOURCES_PER_STACK == 500
    assert limits.MAX_TEMPLATE_BYTES == 1_000_000
    assert (limits.MAX_INLINE_POLICY_CHARACTERS, limits.MAX_MANAGED_POLICY_CHARACTERS, limits.MAX_MANAGED_POLICIES_PER_ROLE) == (10_240, 6_144, 10)


def one_line(raises) -> str:
    with pytest.raises(ConfigError) as error:
        raises()
    message = str(error.value)
    assert "\n" not in message
    return message


def test_an_environment_over_the_resource_quota_is_one_configuration_line(synthesis):
    """On the session's synthesis: the stacks keep their construct tree after the synth."""
    stacks = synthesis.stacks
    counts = {env: sum(1 for r in synthesis.template(env)["Resources"].values() if r["Type"] != "AWS::CDK::Metadata")
              for env in ("dev", "prod")}
    env = max(counts, key=lambda name: counts[name])  # the largest stack reaches a lowered quota first
    declared = counts[env]
    check_resource_counts(stacks, limit=declared)  # exactly at the limit: allowed
    message = one_line(lambda: check_resource_counts(stacks, limit=declared - 1))
    assert message.startswith(
        f"environments.{env}.tables: 2 tables make stack DdbDataPipeline-{env} hold {declared} resources; expected at most "
        f"{declared - 1} (CloudFormation's quota of resources per stack): set table_stacks to "
    )
    suggested_table_stacks(message, env, ["orders", "customers"], fits=1)


def test_building_the_app_checks_the_resource_quota(context, monkeypatch):
    """dev alone (``env``, as ``make synth ENV=dev`` selects it): the check stops the build at dev, the first environment,
    so the app with every environment says the same line; building analytics and prod too would only cost CPU."""
    monkeypatch.setattr(limits, "MAX_RESOURCES_PER_STACK", 10)
    context["env"] = "dev"
    with pytest.raises(ConfigError, match=r"^environments\.dev\.tables: 2 tables make stack DdbDataPipeline-dev hold \d+ resources; expected at most 10 "):
        build(cdk.App(context=context), plan(context))


def test_a_stacks_resource_count_leaves_out_the_resources_of_a_stack_beneath_it():
    """The count check_resource_counts takes of a stack: its own resources (with the one a nested stack adds to it,
    AWS::CloudFormation::Stack), not the nested stack's, and every resource of a stack with none beneath it."""
    from ddb_datapipeline.app_builder import _own_resources

    app = cdk.App()
    outer, plain = cdk.Stack(app, "Outer"), cdk.Stack(app, "Plain")
    for index in range(3):
        cdk.CfnWaitConditionHandle(outer, f"Own{index}")
    cdk.CfnWaitConditionHandle(cdk.NestedStack(outer, "Inner"), "Theirs")
    cdk.CfnWaitConditionHandle(plain, "Only")
    assert (_own_resources(outer), _own_resources(plain)) == (4, 1)


def owner_of(synthesis, stack_name):
    return stack_owners(synthesis.stacks)[stack_name]


def test_a_template_over_the_size_quota_less_its_margin_is_one_configuration_line(synthesis):
    size = (synthesis.outdir / "DdbDataPipeline-dev.template.json").stat().st_size
    owner = owner_of(synthesis, "DdbDataPipeline-dev")
    at_limit = -(-size * 100 // 95)  # the quota whose 95% is just the template's size
    limits.check_template_size("DdbDataPipeline-dev", size, owner, limit=at_limit)
    message = one_line(lambda: limits.check_template_size("DdbDataPipeline-dev", size, owner, limit=at_limit - 100))
    allowed = int((at_limit - 100) * 0.95)
    assert message.startswith(
        f"environments.dev.tables: 2 tables make stack DdbDataPipeline-dev a template of {size:,} bytes; expected at most "
        f"{allowed:,} (CloudFormation's quota of {at_limit - 100:,} bytes, less a 5% margin): set table_stacks to "
    )
    suggested_table_stacks(message, "dev", ["orders", "customers"], fits=1)


def test_the_app_checks_template_sizes_after_its_synth(context, tmp_path, monkeypatch, capsys):
    import app as entry  # app.py at the repository root, as the CDK CLI runs it

    monkeypatch.setattr(limits, "MAX_TEMPLATE_BYTES", 1000)
    # dev alone (make synth ENV=dev, no delivery stack): the check after the synth refuses dev, the first environment,
    # whether or not analytics and prod were synthesized beside it, so they would only cost CPU.
    context.pop("delivery")
    context["env"] = "dev"
    assert entry.main(cdk.App(context=context, outdir=str(tmp_path))) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert line.startswith("configuration error: environments.dev.tables: 2 tables make stack DdbDataPipeline-dev a template of ")
    assert "expected at most 950 (CloudFormation's quota of 1,000 bytes, less a 5% margin): " in line
    assert line.endswith(ADVICE)  # not even one table fits 950 bytes: no count of stacks would do


def measured(synthesis, stack_name):
    template = synthesis.template_named(stack_name)
    outputs = limits.Outputs(limits.stack_templates(synthesis.outdir), {})
    return template, outputs


def test_a_roles_inline_policies_over_iams_limit_are_one_configuration_line(synthesis):
    template, outputs = measured(synthesis, "DdbDataPipeline-prod")
    owner = owner_of(synthesis, "DdbDataPipeline-prod")
    sizes = limits.role_sizes("DdbDataPipeline-prod", template, outputs)
    role, size = max(((role, s.inline) for role, s in sizes.items()), key=lambda found: found[1])
    assert sizes["RolesPipelineRole8C550129"].inline > 1000  # the pipeline role's policy is measured too
    limits.check_policy_sizes("DdbDataPipeline-prod", template, owner, outputs, inline_limit=size)
    message = one_line(lambda: limits.check_policy_sizes("DdbDataPipeline-prod", template, owner, outputs, inline_limit=size - 1))
    assert message == (
        f"environments.prod.tables: 2 tables make stack DdbDataPipeline-prod give role {role} {size:,} characters "
        f"of inline policy; expected at most {size - 1:,} (IAM's size of a role's inline policies together): {ADVICE}"
    )


def test_a_managed_policy_over_iams_limit_and_too_many_per_role_are_one_configuration_line(synthesis):
    template, outputs = measured(synthesis, "DdbDataPipeline-prod")
    owner = owner_of(synthesis, "DdbDataPipeline-prod")
    message = one_line(lambda: limits.check_policy_sizes("DdbDataPipeline-prod", template, owner, outputs, managed_limit=100))
    assert message.startswith("environments.prod.tables: 2 tables make stack DdbDataPipeline-prod write managed policy Roles")
    assert "characters; expected at most 100 (IAM's size of a managed policy)" in message
    message = one_line(lambda: limits.check_policy_sizes("DdbDataPipeline-prod", template, owner, outputs, attached_limit=0))
    assert "attach 1 managed policies to role " in message and "expected at most 0 (IAM's quota of managed policies per role)" in message


def test_policy_sizes_count_references_at_their_longest(synthesis):
    """A generated role name is counted at IAM's 64 characters, not at the template's short reference."""
    template, outputs = measured(synthesis, "DdbDataPipeline-dev")
    resolve = limits.longest_values("DdbDataPipeline-dev", template["Resources"], outputs)
    role = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role" and "RoleName" not in r["Properties"])
    assert resolve({"Fn::GetAtt": [role, "Arn"]}) == "arn:aws:iam::000000000000:role/" + "x" * 64


def test_every_stack_of_the_real_configuration_is_within_every_limit(synthesis, monkeypatch):
    limits.check_stacks(synthesis.outdir, stack_owners(synthesis.stacks))
    # and the app's check after its synth covers policy sizes:
    monkeypatch.setattr(limits, "MAX_INLINE_POLICY_CHARACTERS", 100)
    assert "characters of inline policy; expected at most 100" in one_line(
        lambda: limits.check_stacks(synthesis.outdir, stack_owners(synthesis.stacks)))
