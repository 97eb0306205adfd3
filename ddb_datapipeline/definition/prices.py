"""Prices the estimator multiplies by: data, not logic, so a price change is a one-line edit.

Every figure is an on-demand list price in USD as read on the date below from AWS's public price pages;
they change, differ for savings plans and reserved capacity, and leave out taxes and data transfer.
Every cost computed from them is an **estimate**.

Sources (read PRICES_AS_OF):
- EC2 Linux on-demand per instance-hour: https://aws.amazon.com/ec2/pricing/on-demand/
- EMR uplift per instance-hour (charged on top of EC2): https://aws.amazon.com/emr/pricing/
- DynamoDB on-demand read/write request units (after the November 2024 price cut):
  https://aws.amazon.com/dynamodb/pricing/on-demand/
- S3 Standard storage, first 50 TB per GB-month: https://aws.amazon.com/s3/pricing/

Only the m5 family is listed: it is the default of this project, and its price doubles with each size
step (xlarge, 2xlarge, 4xlarge, ...), so one row per region covers the family. Other instance types have
no price here: the estimate then shows durations and instance-hours, and no cluster cost.
"""
from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-11-30"
CURRENCY = "USD"


@dataclass(frozen=True)
class RegionPrices:
    m5_xlarge_ec2_per_hour: float
    m5_xlarge_emr_per_hour: float
    read_request_units_per_million: float  # DynamoDB on-demand
    write_request_units_per_million: float  # DynamoDB on-demand
    s3_standard_per_gb_month: float


# The regions AWS Data Pipeline is offered in (config/regions.py), plus us-west-2 for copy targets.
REGION_PRICES: dict[str, RegionPrices] = {
    "us-east-1": RegionPrices(0.192, 0.048, 0.125, 0.625, 0.023),
    "us-west-2": RegionPrices(0.192, 0.048, 0.125, 0.625, 0.023),
    "eu-west-1": RegionPrices(0.214, 0.048, 0.1415, 0.7068, 0.023),
    "ap-northeast-1": RegionPrices(0.248, 0.060, 0.1425, 0.7125, 0.025),
    "ap-southeast-2": RegionPrices(0.240, 0.060, 0.1425, 0.7125, 0.025),
}

# m5 sizes as multiples of an xlarge (AWS prices the family linearly in vCPUs).
_M5_SIZE_FACTOR = {"large": 0.5, "xlarge": 1.0}


def m5_size_factor(instance_type: str) -> float | None:
    """How many m5.xlarge one instance of the type costs, or None for a type of another family."""
    family, _, size = instance_type.partition(".")
    if family != "m5":
        return None
    if size in _M5_SIZE_FACTOR:
        return _M5_SIZE_FACTOR[size]
    multiple = size.removesuffix("xlarge")
    return float(multiple) if size.endswith("xlarge") and multiple.isdigit() else None


def instance_hour_price(region: str, instance_type: str) -> float | None:
    """EC2 plus EMR uplift for one instance-hour, or None when this table has no price for it."""
    prices = REGION_PRICES.get(region)
    factor = m5_size_factor(instance_type)
    if prices is None or factor is None:
        return None
    return factor * (prices.m5_xlarge_ec2_per_hour + prices.m5_xlarge_emr_per_hour)
