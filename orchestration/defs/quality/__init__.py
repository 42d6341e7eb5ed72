"""Asset checks that run the GX suites on the marts, and the slo_evaluations asset after them;
plus the telemetry marts' warning checks (not GX suites: they judge trends, not thresholds)."""

from orchestration.defs.quality.checks import quality_assets, quality_checks
from orchestration.defs.quality.telemetry import telemetry_checks

__all__ = ["quality_assets", "quality_checks", "telemetry_checks"]
