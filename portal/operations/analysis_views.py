"""Routes of the needs analysis of an operation."""

from portal.operations import bp  # noqa: F401
