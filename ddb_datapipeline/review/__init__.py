"""A pull-request-readable review of what will ship, built from a synthesized cloud assembly.

Reviewers otherwise read raw CloudFormation, where a Data Pipeline definition is a wall of key/value
pairs. Everything here works from the files in ``cdk.out`` (templates, ``manifest.json``,
``validation-report.json``) and the definition model, never from the CDK app, so the report shows
exactly what CloudFormation will receive and can be rebuilt from any kept ``cdk.out``.

One module per report section (resources, pipelines, mermaid, iam, nag, lint, diff, checks) and ``report``
to put them together with the first screen (what changed, what to look at, what did not run);
``attention`` decides which IAM statements are marked and why; ``markdown`` and ``intrinsics`` are the
shared helpers.
"""
