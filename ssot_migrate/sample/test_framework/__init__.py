"""Shared test helpers for the sample's suites."""
