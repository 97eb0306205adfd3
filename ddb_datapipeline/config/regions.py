"""The AWS regions a configuration may name, and the few where AWS Data Pipeline itself runs.

A region that only looks right (``eu-west-9``, ``us-east1``) would pass a pattern and fail at deploy
time, so regions are checked against a list. An environment's pipelines live in its own region, which
must offer Data Pipeline; the EMR clusters a pipeline starts may run in any region (a copy imports in
its target's region), so copy targets may name every region of the partition.
"""
from __future__ import annotations

from ..definition.spelling import nearest

# Regions of the commercial partition ("aws"), from botocore's endpoints.json (botocore 1.44.8,
# partitions[aws].regions), checked against the AWS General Reference "Regions and zones" list.
# China, GovCloud and the other partitions are left out: Data Pipeline runs in none of them, a copy
# cannot leave its partition, and this app writes ARNs of the "aws" partition.
AWS_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "af-south-1",
    "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "il-central-1",
    "me-central-1", "me-south-1",
    "mx-central-1",
    "sa-east-1",
)

# Where the Data Pipeline API is offered: AWS General Reference, "AWS Data Pipeline endpoints and
# quotas" (https://docs.aws.amazon.com/general/latest/gr/datapipeline.html), which agrees with
# botocore's endpoints.json (services.datapipeline of the aws partition).
DATA_PIPELINE_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-2")


def region_rule(value: str, *, pipelines: bool) -> str | None:
    """What to expect instead of ``value``, or None when it is a region fit for its place.

    ``pipelines``: the environment's own region, where the pipelines are created."""
    if pipelines:
        if value in DATA_PIPELINE_REGIONS:
            return None
        return f"an AWS region where AWS Data Pipeline is offered: {', '.join(DATA_PIPELINE_REGIONS)} (a copy may target any region)"
    if value in AWS_REGIONS:
        return None
    guess = nearest(value, AWS_REGIONS)
    return f"an AWS region such as {guess or 'eu-west-1'}" + (" (the nearest)" if guess else "")
