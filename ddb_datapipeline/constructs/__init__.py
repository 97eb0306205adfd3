"""Reusable CDK constructs: each takes keyword-only arguments and exposes what the others need."""
