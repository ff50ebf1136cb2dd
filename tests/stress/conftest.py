"""Fixtures the stress tests share with their normal-suite counterparts."""

from tests.test_faults import fault_env
from tests.test_properties import _report_counts, factories_codemod

__all__ = ["_report_counts", "factories_codemod", "fault_env"]
