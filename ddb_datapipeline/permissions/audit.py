"""The runtime permission check: every request of every synthesized pipeline, decided against the
synthesized identity policies and the resource policies that also decide (bucket policies, table
resource policies, key policies, topic policies, role trust policies).

Buckets the assembly does not declare are AWS's own software buckets (the connector jar, Task
Runner); they are readable by any account, so only the caller's identity policy decides. A table
the assembly only references is assumed to be encrypted with a key whose policy delegates to IAM
(the default key policy), so the caller needs the key grant either way.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .assembly_view import Pipeline, World
from .evaluator import Decision, Policy, Request, evaluate
from .expand import Expected, expected_requests, step_requests
from .native_expand import native_requests

DEFAULT_KEY_POLICY = "assumed default key policy (the account delegates to IAM)"


@dataclass(frozen=True)
class Outcome:
    expected: Expected
    decision: Decision

    def line(self) -> str:
        e = self.expected
        return (f"{e.pipeline.label} ({e.pipeline.tags.get('ddb-datapipeline:kind', '?')}): {e.call.principal} "
                f"{e.request.principal} may not {e.request.action} on {e.request.resource}: {self.decision.reason} "
                f"[{e.call.step}]")


def decide(world: World, expected: Expected) -> Decision:
    return decide_request(world, expected.request)


def decide_request(world: World, request: Request) -> Decision:
    """One request against the identity policies of its principal and the policy of its resource."""
    principal = world.roles.get(request.principal)
    identity = principal.policies if principal else []
    service, _, rest = request.resource.partition(":::") if request.resource.startswith("arn:aws:s3:::") else ("", "", "")
    if request.action == "sts:AssumeRole":
        role = world.roles.get(request.resource)
        return evaluate(request, identity=identity, resource_policy=role.trust if role else None,
                        resource_account=request.resource.split(":")[4], kind="trust")
    if service:
        bucket = world.buckets.get(rest.split("/", 1)[0])
        if bucket is None:
            return evaluate(request, identity=identity)
        return evaluate(request, identity=identity, resource_policy=bucket.policy, resource_account=bucket.account)
    account = request.resource.split(":")[4] if request.resource.count(":") >= 5 else None
    if request.action.startswith("kms:"):
        key_policy = world.keys.get(request.resource) or Policy(
            DEFAULT_KEY_POLICY,
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]},
        )
        return evaluate(request, identity=identity, resource_policy=key_policy, resource_account=account, kind="kms")
    if request.action.startswith("dynamodb:"):
        table = world.tables.get(request.resource)
        return evaluate(request, identity=identity, resource_policy=table.policy if table else None, resource_account=account)
    if request.action == "events:PutEvents":  # a bus of the assembly may have a policy (another account's rule)
        return evaluate(request, identity=identity, resource_policy=world.buses.get(request.resource), resource_account=account)
    if request.action.startswith("sns:"):
        topic = world.topics.get(request.resource)
        return evaluate(request, identity=identity, resource_policy=topic.policy if topic else None, resource_account=account)
    return evaluate(request, identity=identity)


def all_requests(world: World) -> list[Expected]:
    """Every request of every pipeline and every native-engine state machine, undecided."""
    expected = [e for pipeline in world.pipelines for e in expected_requests(world, pipeline)]
    return expected + [e for machine in world.state_machines for e in native_requests(world, machine)]


def outcomes(world: World) -> list[Outcome]:
    """Every request of every pipeline and every native-engine state machine, decided."""
    return [Outcome(e, decide(world, e)) for e in all_requests(world)]


def denied(world: World) -> list[Outcome]:
    return [o for o in outcomes(world) if not o.decision.allowed]


@dataclass(frozen=True)
class Crossing:
    """One pipeline's node role (``caller``) adding a step to a cluster of ``owner``: allowed only when they are
    the same pipeline. A node role that may add steps to another pipeline's cluster runs code there as that
    pipeline's instance profile, so per-pipeline node roles would isolate nothing."""

    caller: Pipeline
    owner: Pipeline
    expected: Expected
    decision: Decision

    @property
    def own(self) -> bool:
        return self.caller is self.owner

    @property
    def wrong(self) -> bool:
        return self.decision.allowed != self.own

    def line(self) -> str:
        r = self.expected.request
        if self.own:
            return f"{self.caller.label}: its node role may not {r.action} on its own cluster {r.resource}: {self.decision.reason}"
        return (f"{self.caller.label}: its node role may {r.action} on the cluster of {self.owner.label} ({r.resource}), "
                f"allowed by {', '.join(self.decision.allowed_by)}")


def cluster_isolation(world: World) -> list[Crossing]:
    """Every ordered pair of the assembly's Data Pipeline pipelines (a pipeline with itself included), decided."""
    return [
        Crossing(caller, owner, e, decide(world, e))
        for caller in world.pipelines
        for owner in world.pipelines
        for e in step_requests(world, caller, owner)
    ]


def checked_line(*, pipelines: int, machines: int, calls: int, denied: int) -> str:
    """The runtime check's one-line summary, in the words ``make synth`` and the permissions command both print."""
    machine_text = f"{machines} state machines, " if machines else ""
    return f"{pipelines} pipelines, {machine_text}{calls} runtime calls checked, {denied} denied"


def isolation_line(crossings: Sequence[Crossing]) -> str:
    """The cluster isolation check's one-line summary: own-cluster steps allowed, other pipelines' denied."""
    own = [c for c in crossings if c.own]
    foreign = [c for c in crossings if not c.own]
    return (f"cluster isolation: {sum(c.decision.allowed for c in own)} of {len(own)} own-cluster steps allowed, "
            f"{sum(not c.decision.allowed for c in foreign)} of {len(foreign)} steps on another pipeline's cluster denied")
