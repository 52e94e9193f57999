"""Append-only audit log of security-relevant and business actions."""
