"""The IAM evaluator on its own: each rule of IAM's evaluation logic it implements, allowed and denied."""
import pytest

from ddb_datapipeline.permissions.evaluator import Policy, Request, Unsupported, evaluate, substitute_variables

ROLE = "arn:aws:iam::111111111111:role/nodes"
OTHER_ROLE = "arn:aws:iam::111111111111:role/other"
BUCKET = "arn:aws:s3:::exports"
OBJECT = f"{BUCKET}/exports/orders/2026/part-0"
TLS = {"aws:SecureTransport": "true"}


def identity(*statements):
    return Policy("identity", {"Version": "2012-10-17", "Statement": list(statements)})


def resource(*statements):
    return Policy("resource", {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, res, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": res, **extra}


def put(principal=ROLE, resource_arn=OBJECT, **context):
    return Request(principal, "s3:PutObject", resource_arn, {**TLS, **context})


def test_identity_allow_with_a_prefix_wildcard():
    decision = evaluate(put(), identity=[identity(allow("s3:PutObject", f"{BUCKET}/exports/orders/*"))])
    assert decision.allowed and decision.allowed_by == ("identity#0",)


def test_nothing_allows_means_denied():
    assert not evaluate(put(), identity=[identity(allow("s3:PutObject", f"{BUCKET}/exports/customers/*"))]).allowed
    assert not evaluate(put(), identity=[identity(allow("s3:GetObject", f"{BUCKET}/*"))]).allowed
    assert not evaluate(put()).allowed


def test_actions_match_case_insensitively_with_wildcards_resources_case_sensitively():
    assert evaluate(put(), identity=[identity(allow("S3:put*", f"{BUCKET}/exports/*"))]).allowed
    assert not evaluate(put(), identity=[identity(allow("s3:PutObject", f"{BUCKET}/Exports/*"))]).allowed
    assert evaluate(put(), identity=[identity(allow("s3:PutObject", f"{BUCKET}/exports/order?/*"))]).allowed


def test_an_explicit_deny_beats_any_allow():
    deny_http = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    policies = [identity(allow("s3:*", "*"))]
    assert evaluate(put(), identity=policies, resource_policy=resource(deny_http)).allowed
    plain = Request(ROLE, "s3:PutObject", OBJECT, {"aws:SecureTransport": "false"})
    decision = evaluate(plain, identity=policies, resource_policy=resource(deny_http))
    assert not decision.allowed and "explicitly denied by resource#0" in decision.reason
    deny_in_identity = identity({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"})
    assert not evaluate(put(), identity=[*policies, deny_in_identity]).allowed


def test_not_action_and_not_resource():
    everything_but_delete = identity({"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"})
    assert evaluate(put(), identity=[everything_but_delete]).allowed
    assert not evaluate(Request(ROLE, "s3:DeleteObject", OBJECT, TLS), identity=[everything_but_delete]).allowed
    outside_exports = identity({"Effect": "Allow", "Action": "s3:PutObject", "NotResource": f"{BUCKET}/exports/*"})
    assert not evaluate(put(), identity=[outside_exports]).allowed
    assert evaluate(put(resource_arn=f"{BUCKET}/logs/x"), identity=[outside_exports]).allowed
    deny_not_logs = identity(allow("s3:*", "*"), {"Effect": "Deny", "NotAction": "s3:Get*", "Resource": "*"})
    assert not evaluate(put(), identity=[deny_not_logs]).allowed


@pytest.mark.parametrize(
    "condition, context, allowed",
    [
        ({"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}, {"aws:RequestedRegion": "us-east-1"}, True),
        ({"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}, {"aws:RequestedRegion": "us-east-1"}, False),
        ({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}, {}, False),  # a missing key does not match
        ({"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}}, {}, True),
        ({"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}, {}, True),
        ({"StringLike": {"s3:prefix": ["exports/orders/*", "exports/orders"]}}, {"s3:prefix": "exports/orders"}, True),
        ({"StringLike": {"s3:prefix": ["exports/orders/*"]}}, {"s3:prefix": "exports/"}, False),
        ({"ArnEquals": {"aws:PrincipalArn": ROLE}}, {"AWS:PrincipalArn": ROLE}, True),  # keys are case-insensitive
        ({"ArnEquals": {"aws:PrincipalArn": ROLE}}, {"aws:PrincipalArn": OTHER_ROLE}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:elasticmapreduce:*:111111111111:*"}},
         {"aws:SourceArn": "arn:aws:elasticmapreduce:us-east-1:111111111111:cluster/j-1"}, True),
        ({"Null": {"s3:prefix": "true"}}, {}, True),
        ({"Null": {"s3:prefix": "true"}}, {"s3:prefix": "x"}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["b", "a"]}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["b", "a"]}, False),
        # Two keys (and two operators) must all hold.
        ({"StringEquals": {"aws:RequestedRegion": "us-east-1", "s3:ResourceAccount": "222222222222"}},
         {"aws:RequestedRegion": "us-east-1", "s3:ResourceAccount": "333333333333"}, False),
    ],
)
def test_conditions(condition, context, allowed):
    policy = identity(allow("s3:PutObject", "*", Condition=condition))
    assert evaluate(put(**context), identity=[policy]).allowed is allowed


def test_an_unknown_condition_operator_is_refused_not_guessed():
    policy = identity(allow("s3:PutObject", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}))
    with pytest.raises(Unsupported, match="DateGreaterThan"):
        evaluate(put(), identity=[policy])


def test_same_account_resource_policy_naming_the_role_suffices_but_naming_the_account_does_not():
    names_role = resource({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"})
    names_account = resource({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"})
    assert evaluate(put(), resource_policy=names_role, resource_account="111111111111").allowed
    assert not evaluate(put(OTHER_ROLE), resource_policy=names_role, resource_account="111111111111").allowed
    assert not evaluate(put(), resource_policy=names_account, resource_account="111111111111").allowed


def test_cross_account_needs_both_sides():
    target = "222222222222"
    grant = identity(allow("s3:PutObject", f"{BUCKET}/*"))
    admit = resource({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:PutObject",
                      "Resource": f"{BUCKET}/*", "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}}})
    context = {"aws:PrincipalArn": ROLE}
    assert evaluate(put(**context), identity=[grant], resource_policy=admit, resource_account=target).allowed
    assert not evaluate(put(**context), identity=[], resource_policy=admit, resource_account=target).allowed
    assert not evaluate(put(**context), identity=[grant], resource_policy=None, resource_account=target).allowed
    other = Request(OTHER_ROLE, "s3:PutObject", OBJECT, {**TLS, "aws:PrincipalArn": OTHER_ROLE})
    assert not evaluate(other, identity=[grant], resource_policy=admit, resource_account=target).allowed


KEY = "arn:aws:kms:us-east-1:111111111111:key/k1"
ROOT_DELEGATES = resource({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "kms:*", "Resource": "*"})


def test_kms_needs_the_key_policy_and_when_it_delegates_also_iam():
    decrypt = Request(ROLE, "kms:Decrypt", KEY, {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"})
    grant = identity(allow("kms:Decrypt", KEY, Condition={"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}))
    assert evaluate(decrypt, identity=[grant], resource_policy=ROOT_DELEGATES, resource_account="111111111111", kind="kms").allowed
    assert not evaluate(decrypt, identity=[], resource_policy=ROOT_DELEGATES, resource_account="111111111111", kind="kms").allowed
    # An identity Allow is not enough when the key policy admits neither the role nor its account.
    closed = resource({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*", "Resource": "*"})
    assert not evaluate(decrypt, identity=[grant], resource_policy=closed, resource_account="111111111111", kind="kms").allowed
    via_s3 = Request(ROLE, "kms:Decrypt", KEY, {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    assert not evaluate(via_s3, identity=[grant], resource_policy=ROOT_DELEGATES, resource_account="111111111111", kind="kms").allowed


def test_trust_policies_decide_who_assumes_a_role():
    trust = resource(
        {"Effect": "Allow", "Principal": {"Service": "datapipeline.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": "elasticmapreduce.amazonaws.com"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
    )
    role = "arn:aws:iam::111111111111:role/pipeline"
    assume = lambda service, **ctx: Request(f"service:{service}", "sts:AssumeRole", role, ctx)  # noqa: E731
    assert evaluate(assume("datapipeline.amazonaws.com"), resource_policy=trust, kind="trust").allowed
    assert evaluate(assume("elasticmapreduce.amazonaws.com", **{"aws:SourceAccount": "111111111111"}), resource_policy=trust, kind="trust").allowed
    assert not evaluate(assume("elasticmapreduce.amazonaws.com", **{"aws:SourceAccount": "999999999999"}), resource_policy=trust, kind="trust").allowed
    assert not evaluate(assume("ec2.amazonaws.com"), resource_policy=trust, kind="trust").allowed


def test_not_principal_is_refused():
    policy = resource({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "*"})
    with pytest.raises(Unsupported, match="NotPrincipal"):
        evaluate(put(), resource_policy=policy)


def test_a_service_publishing_to_a_topic_or_using_a_key_needs_the_resource_policy_alone():
    """CloudWatch publishing an alarm: no identity policy exists for a service, so the topic policy (and
    the key policy) must name it, with the conditions it sets."""
    topic = "arn:aws:sns:eu-west-1:111111111111:alerts"
    alarm = "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:ddb-x"
    publish = Request("service:cloudwatch.amazonaws.com", "sns:Publish", topic, {**TLS, "aws:SourceArn": alarm})
    admits = resource({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish", "Resource": topic,
                       "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:111111111111:alarm:ddb-*"}}})
    assert evaluate(publish, resource_policy=admits, resource_account="111111111111").allowed
    other = Request("service:cloudwatch.amazonaws.com", "sns:Publish", topic, {**TLS, "aws:SourceArn": alarm.replace("ddb-x", "team-x")})
    assert not evaluate(other, resource_policy=admits, resource_account="111111111111").allowed
    assert not evaluate(publish, resource_policy=resource(allow("sns:Publish", topic, Principal={"AWS": "arn:aws:iam::111111111111:root"})),
                        resource_account="111111111111").allowed
    assert not evaluate(publish, resource_account="111111111111").allowed
    encrypt = Request("service:cloudwatch.amazonaws.com", "kms:GenerateDataKey", KEY, {})
    key_admits = resource({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                           "Resource": "*"})
    assert evaluate(encrypt, resource_policy=key_admits, resource_account="111111111111", kind="kms").allowed
    assert not evaluate(encrypt, resource_policy=ROOT_DELEGATES, resource_account="111111111111", kind="kms").allowed


CLUSTER = "arn:aws:elasticmapreduce:us-east-1:111111111111:cluster/j-0example"
OWN_CLUSTER_ONLY = allow("elasticmapreduce:AddJobFlowSteps", "arn:aws:elasticmapreduce:us-east-1:111111111111:cluster/*",
                         Condition={"StringEquals": {"elasticmapreduce:ResourceTag/team": "${aws:PrincipalTag/team}"}})


def step(cluster_team=None, caller_team=None):
    context = {**TLS, **({"elasticmapreduce:ResourceTag/team": cluster_team} if cluster_team else {}),
               **({"aws:PrincipalTag/Team": caller_team} if caller_team else {})}  # tag key names are case-insensitive
    return Request(ROLE, "elasticmapreduce:AddJobFlowSteps", CLUSTER, context)


def test_a_principal_tag_variable_compares_the_resource_with_the_callers_own_tag():
    policies = [identity(OWN_CLUSTER_ONLY)]
    assert evaluate(step("a", "a"), identity=policies).allowed
    assert not evaluate(step("b", "a"), identity=policies).allowed
    assert not evaluate(step("a", "A"), identity=policies).allowed  # values stay case-sensitive
    # A caller without the tag, or a cluster without it, matches nothing: the variable never stands for "".
    assert not evaluate(step("a", None), identity=policies).allowed
    assert not evaluate(step(None, "a"), identity=policies).allowed
    assert substitute_variables("x-${aws:PrincipalTag/team}", {"aws:principaltag/team": "a"}, where="p") == "x-a"
    assert substitute_variables("${aws:PrincipalTag/team}", {}, where="p") is None


@pytest.mark.parametrize("value", ["${aws:username}", "${aws:PrincipalTag/team, 'none'}", "${*}", "${aws:ResourceTag/team}"])
def test_a_policy_variable_it_does_not_implement_is_refused(value):
    condition = {"Condition": {"StringEquals": {"elasticmapreduce:ResourceTag/team": value}}}
    policy = identity(allow("elasticmapreduce:AddJobFlowSteps", "*", **condition))
    with pytest.raises(Unsupported, match=r"^identity: policy variable \$\{.*\} is not supported$"):
        evaluate(step("a", "a"), identity=[policy])
    with pytest.raises(Unsupported, match=r"policy variable in Resource"):
        evaluate(step("a", "a"), identity=[identity(allow("elasticmapreduce:AddJobFlowSteps", "arn:aws:elasticmapreduce:*:*:cluster/${aws:username}"))])


def test_answers_kept_for_one_action_list_hold_for_that_action_and_resource_only():
    """The evaluator keeps whether an Action or Resource list matches a string (evaluator._any_action): the same
    lists asked about other strings, in any order, get their own answers, and a refusal is raised every time."""
    policies = [identity(allow(["s3:GetObject", "s3:Put*"], [f"{BUCKET}/exports/*", f"{BUCKET}/keep"]))]
    asked = [("s3:PutObject", OBJECT, True), ("s3:DeleteObject", OBJECT, False), ("S3:PUTOBJECT", OBJECT, True),
             ("s3:PutObject", f"{BUCKET}/Exports/x", False), ("s3:GetObject", f"{BUCKET}/keep", True), ("s3:GetObject", OBJECT, True)]
    for action, resource_arn, allowed in asked * 2:
        assert evaluate(Request(ROLE, action, resource_arn, TLS), identity=policies).allowed is allowed, (action, resource_arn)
    unknown = [identity(allow("s3:PutObject", [f"{BUCKET}/none", f"{BUCKET}/${{aws:username}}"]))]
    for _ in range(2):
        with pytest.raises(Unsupported, match=r"policy variable in Resource"):
            evaluate(put(), identity=unknown)
    # The first pattern matches, so the search stops before the variable, as it always did.
    assert evaluate(put(), identity=[identity(allow("s3:PutObject", [f"{BUCKET}/*", f"{BUCKET}/${{aws:username}}"]))]).allowed
