"""Asset checks that run the GX suites on the marts, and the slo_evaluations asset after them."""

from orchestration.defs.quality.checks import quality_assets, quality_checks

__all__ = ["quality_assets", "quality_checks"]
