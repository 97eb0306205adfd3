"""Deployable compositions of the constructs."""
