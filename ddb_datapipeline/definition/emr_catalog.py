"""Which EMR releases exist, where, and which instance types each release offers.

A release label or an instance type that only looks right (``emr-5.36.3``, ``m5.larg``) is accepted by
CloudFormation and by Data Pipeline's definition check alike; the mistake surfaces when the first run
fails to start its cluster, hours after the deploy. These tables let the configuration refuse it.

Source of every table below: the EMR API as recorded in moto 5.2.5 (``moto/emr/resources``):
``ListReleaseLabels`` per region (release-labels-<region>.json) and ``ListSupportedInstanceTypes`` per
release (instance-types-emr-<release>.json, listed for one region). Summarised, not copied: a family's
first release per line and the union of its sizes. Not recorded there, so not checked: which instance
types a particular region offers, and releases of a region missing from the table (ap-southeast-6).
"""
from __future__ import annotations

import functools
import re

from .emr import ClusterSpec
from .flow_rules import current_counterpart
from .spelling import nearest

# Release lines this app accepts, and the newest patch of each minor release that exists: emr-5.36.0,
# emr-5.36.1 and emr-5.36.2 exist, emr-5.36.3 does not. Patches of a minor are numbered from 0 without gaps.
LATEST_PATCH = {
    "5.0": 3, "5.1": 1, "5.2": 3, "5.3": 2, "5.4": 1, "5.5": 4, "5.6": 1, "5.7": 1, "5.8": 3, "5.9": 1,
    "5.10": 1, "5.11": 4, "5.12": 3, "5.13": 1, "5.14": 2, "5.15": 1, "5.16": 1, "5.17": 2, "5.18": 1,
    "5.19": 1, "5.20": 1, "5.21": 2, "5.22": 0, "5.23": 1, "5.24": 1, "5.25": 0, "5.26": 0, "5.27": 1,
    "5.28": 1, "5.29": 0, "5.30": 2, "5.31": 1, "5.32": 1, "5.33": 1, "5.34": 0, "5.35": 0, "5.36": 2,
    "6.0": 1, "6.1": 1, "6.2": 1, "6.3": 1, "6.4": 0, "6.5": 0, "6.6": 0, "6.7": 0, "6.8": 1, "6.9": 1,
    "6.10": 1, "6.11": 1, "6.12": 0, "6.13": 0, "6.14": 0, "6.15": 0,
    "7.0": 0, "7.1": 0, "7.2": 0, "7.3": 0, "7.4": 0, "7.5": 0, "7.6": 0, "7.7": 0, "7.8": 0, "7.9": 0,
    "7.10": 0, "7.11": 0, "7.12": 0, "7.13": 0, "7.14": 0,
}

# The oldest release of each line (5.x, 6.x, 7.x) a region offers: a region opened recently starts late
# (a copy into ap-south-2 cannot start an emr-5.30.0 cluster). The few holes above a region's first
# release (ap-southeast-3 lacks emr-5.31.0 and emr-5.32.0) are not modelled.
REGION_FIRST_RELEASES: dict[str, tuple[str, str, str]] = {
    "af-south-1": ("5.29.0", "6.0.0", "7.0.0"),
    "ap-east-1": ("5.20.0", "6.0.0", "7.0.0"),
    "ap-east-2": ("5.36.2", "6.11.1", "7.4.0"),
    "ap-northeast-1": ("5.0.0", "6.0.0", "7.0.0"),
    "ap-northeast-2": ("5.0.0", "6.0.0", "7.0.0"),
    "ap-northeast-3": ("5.10.0", "6.0.0", "7.0.0"),
    "ap-south-1": ("5.0.0", "6.0.0", "7.0.0"),
    "ap-south-2": ("5.36.0", "6.7.0", "7.0.0"),
    "ap-southeast-1": ("5.0.0", "6.0.0", "7.0.0"),
    "ap-southeast-2": ("5.0.0", "6.0.0", "7.0.0"),
    "ap-southeast-3": ("5.30.2", "6.0.1", "7.0.0"),
    "ap-southeast-4": ("5.36.0", "6.8.0", "7.0.0"),
    "ap-southeast-5": ("5.36.2", "6.11.1", "7.0.0"),
    "ap-southeast-7": ("5.36.2", "6.11.1", "7.1.0"),
    "ca-central-1": ("5.0.2", "6.0.0", "7.0.0"),
    "ca-west-1": ("5.36.1", "6.9.0", "7.0.0"),
    "eu-central-1": ("5.0.0", "6.0.0", "7.0.0"),
    "eu-central-2": ("5.36.0", "6.7.0", "7.0.0"),
    "eu-north-1": ("5.17.0", "6.0.0", "7.0.0"),
    "eu-south-1": ("5.29.0", "6.0.0", "7.0.0"),
    "eu-south-2": ("5.36.0", "6.7.0", "7.0.0"),
    "eu-west-1": ("5.0.0", "6.0.0", "7.0.0"),
    "eu-west-2": ("5.0.3", "6.0.0", "7.0.0"),
    "eu-west-3": ("5.5.3", "6.0.0", "7.0.0"),
    "il-central-1": ("5.36.0", "6.7.0", "7.0.0"),
    "me-central-1": ("5.36.0", "6.7.0", "7.0.0"),
    "me-south-1": ("5.24.0", "6.0.0", "7.0.0"),
    "mx-central-1": ("5.36.2", "6.11.1", "7.1.0"),
    "sa-east-1": ("5.0.0", "6.0.0", "7.0.0"),
    "us-east-1": ("5.0.0", "6.0.0", "7.0.0"),
    "us-east-2": ("5.0.1", "6.0.0", "7.0.0"),
    "us-west-1": ("5.0.0", "6.0.0", "7.0.0"),
    "us-west-2": ("5.0.0", "6.0.0", "7.0.0"),
}

# Instance family -> (the first 5.x, 6.x and 7.x release that offers it, or None), and its sizes. The API
# also lists recent x86 families for early releases (c7i on emr-5.0.0); the table follows the API.
INSTANCE_FAMILIES: dict[str, tuple[tuple[str | None, str | None, str | None], str]] = {
    "c1": (("5.0.0", "6.0.0", "7.0.0"), "medium xlarge"),
    "c3": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge"),
    "c4": (("5.0.0", "6.0.0", "7.0.0"), "large xlarge 2xlarge 4xlarge 8xlarge"),
    "c5": (("5.13.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge"),
    "c5a": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "c5ad": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "c5d": (("5.13.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge"),
    "c5n": (("5.20.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 9xlarge 18xlarge"),
    "c6a": (("5.36.1", "6.8.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge"),
    "c6g": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c6gd": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c6gn": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c6i": (("5.35.0", "6.6.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "c6id": (("5.36.1", "6.8.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "c6in": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "c7a": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge"),
    "c7g": (("5.36.1", "6.7.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c7gd": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c7gn": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c7i": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "c7i-flex": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "c8g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "c8gd": (("5.36.2", "6.15.0", "7.1.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "c8gn": (("5.0.1", "6.0.1", "7.9.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "c8i": (("5.0.1", "6.0.1", "7.9.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge"),
    "c8i-flex": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "d2": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge"),
    "d3": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge"),
    "d3en": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 6xlarge 8xlarge 12xlarge"),
    "f2": (("5.36.1", "6.10.1", "7.0.0"), "6xlarge 12xlarge 48xlarge"),
    "g3": (("5.18.0", "6.0.0", "7.0.0"), "4xlarge 8xlarge 16xlarge"),
    "g3s": (("5.19.0", "6.0.0", "7.0.0"), "xlarge"),
    "g4dn": (("5.30.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "g5": (("5.36.1", "6.9.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "g6": ((None, None, "7.2.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "g6e": ((None, None, "7.5.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "g7": ((None, None, "7.12.0"), "2xlarge 4xlarge 8xlarge 12xlarge 24xlarge 48xlarge"),
    "gr6": ((None, None, "7.2.0"), "4xlarge 8xlarge"),
    "h1": (("5.17.0", "6.0.0", "7.0.0"), "2xlarge 4xlarge 8xlarge 16xlarge"),
    "i2": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge"),
    "i3": (("5.9.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    "i3en": (("5.25.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 3xlarge 6xlarge 12xlarge 24xlarge"),
    "i4g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    "i4i": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "i7i": (("5.36.2", "6.15.0", "7.1.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "i7ie": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 3xlarge 6xlarge 12xlarge 18xlarge 24xlarge 48xlarge"),
    "i8g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "im4gn": (("5.35.0", "6.6.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    "is4gen": (("5.35.0", "6.6.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge"),
    "m1": (("5.0.0", "6.0.0", "7.0.0"), "small medium large xlarge"),
    "m2": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge"),
    "m3": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge"),
    "m4": (("5.0.0", "6.0.0", "7.0.0"), "large xlarge 2xlarge 4xlarge 10xlarge 16xlarge"),
    "m5": (("5.13.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "m5a": (("5.20.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "m5ad": (("5.20.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "m5d": (("5.13.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "m5dn": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "m5n": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "m5zn": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 3xlarge 6xlarge 12xlarge"),
    "m6a": (("5.36.1", "6.8.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge"),
    "m6g": (("5.30.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "m6gd": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "m6i": (("5.35.0", "6.6.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "m6id": (("5.36.1", "6.8.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "m6idn": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "m6in": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "m7a": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge"),
    "m7g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "m7gd": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "m7i": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "m7i-flex": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "m8a": (("5.0.1", "6.0.1", "7.9.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "m8g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "m8gd": (("5.36.2", "6.15.0", "7.1.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "m8i": (("5.0.1", "6.0.1", "7.9.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge"),
    "m8i-flex": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "p2": (("5.10.0", "6.0.0", "7.0.0"), "xlarge 8xlarge 16xlarge"),
    "p3": (("5.10.0", "6.0.0", "7.0.0"), "2xlarge 8xlarge 16xlarge"),
    "p4d": (("5.36.1", "6.9.0", "7.0.0"), "24xlarge"),
    "p5": ((None, "6.14.0", "7.0.0"), "48xlarge"),
    "r3": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge"),
    "r4": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 16xlarge"),
    "r5": (("5.13.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r5a": (("5.20.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r5ad": (("5.20.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r5b": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r5d": (("5.13.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r5dn": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r5n": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r6a": (("5.36.1", "6.8.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge"),
    "r6g": (("5.31.0", "6.1.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "r6gd": (("5.33.0", "6.3.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "r6i": (("5.35.0", "6.6.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "r6id": (("5.36.1", "6.8.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "r6idn": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "r6in": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge"),
    "r7a": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge"),
    "r7g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "r7gd": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "r7i": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "r7iz": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 32xlarge"),
    "r8a": (("5.0.1", "6.0.1", "7.9.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "r8g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "r8gb": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
    "r8gd": (("5.36.2", "6.15.0", "7.1.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "r8gn": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "r8i": (("5.0.1", "6.0.1", "7.9.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge 96xlarge"),
    "r8i-flex": (("5.0.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "x1": (("5.36.1", "6.9.0", "7.0.0"), "16xlarge 32xlarge"),
    "x1e": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 16xlarge 32xlarge"),
    "x2gd": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge"),
    "x2idn": (("5.36.1", "6.9.0", "7.0.0"), "16xlarge 24xlarge 32xlarge"),
    "x2iedn": (("5.36.1", "6.9.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 16xlarge 24xlarge 32xlarge"),
    "x8g": (("5.36.1", "6.10.0", "7.0.0"), "xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge"),
    "z1d": (("5.17.0", "6.0.0", "7.0.0"), "xlarge 2xlarge 3xlarge 6xlarge 12xlarge"),
}

DEFAULT_RELEASE = ClusterSpec().release_label
DEFAULT_INSTANCE_TYPE = ClusterSpec().core_instance_type


def _version(label: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"emr-([5-7])\.([0-9]+)\.([0-9]+)", label)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


RELEASES = tuple(
    f"emr-{minor}.{patch}"
    for minor, latest in sorted(LATEST_PATCH.items(), key=lambda item: tuple(map(int, item[0].split("."))))
    for patch in range(latest + 1)
)


def release_rule(label: str) -> str | None:
    """What to expect instead of ``label``, or None when the release exists."""
    if label in RELEASES:
        return None
    guess = nearest(label, RELEASES)
    example = f"'{guess}' (the nearest)" if guess else f"'{DEFAULT_RELEASE}'"
    return f"an existing EMR release from {RELEASES[0]} to {RELEASES[-1]}, such as {example}"


@functools.cache
def offered_types(release: str) -> tuple[str, ...]:
    """Every instance type ``release`` (an existing release) offers."""
    version = _version(release)
    if version is None:  # callers check the release against RELEASES first
        raise ValueError(f"{release}: not an EMR release label")
    return tuple(
        f"{family}.{size}"
        for family, (firsts, sizes) in INSTANCE_FAMILIES.items()
        if firsts[version[0] - 5] is not None and _version(f"emr-{firsts[version[0] - 5]}") <= version  # type: ignore[operator]
        for size in sizes.split()
    )


def instance_type_rule(release: str, instance_type: str) -> str | None:
    """What to expect instead of ``instance_type`` on ``release`` (an existing release), or None.
    Previous-generation types are refused even where EMR still offers them: the definition validator
    warns about them, and the definitions this project deploys are held lint-clean."""
    counterpart = current_counterpart(instance_type)
    if counterpart is not None:
        family = instance_type.partition(".")[0]
        return f"a current-generation instance type ({family} is a previous generation), such as '{counterpart}'"
    offered = offered_types(release)
    if instance_type in offered:
        return None
    guess = nearest(instance_type, offered)
    family, _, size = instance_type.partition(".")
    entry = INSTANCE_FAMILIES.get(family)
    if entry is not None and size in entry[1].split():
        line = release[4]
        first = entry[0][int(line) - 5]
        why = f"{family} needs emr-{first} or later" if first else f"no {line}.x release offers {family}"
        return f"an instance type {release} offers ({why}), such as '{guess or DEFAULT_INSTANCE_TYPE}'"
    example = f"'{guess}' (the nearest)" if guess else f"'{DEFAULT_INSTANCE_TYPE}'"
    return f"an instance type {release} offers, such as {example}"


def region_release_rule(region: str, release: str) -> str | None:
    """What to expect instead of ``region`` for clusters of ``release`` (an existing release), or None.
    A region the table does not know is not checked."""
    firsts = REGION_FIRST_RELEASES.get(region)
    version = _version(release)
    if firsts is None or version is None:
        return None
    first = firsts[version[0] - 5]
    if _version(f"emr-{first}") <= version:  # type: ignore[operator]
        return None
    return f"a region that offers emr.release_label '{release}' ({region} offers {version[0]}.x releases from emr-{first} on)"
