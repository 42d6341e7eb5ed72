"""The quality checks and the slo_evaluations asset fit the project's code location."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.quality.checks import (
    CHECKED_ASSET_KEYS,
    SLO_EVALUATIONS_KEY,
    quality_checks,
)


def project_definitions() -> dg.Definitions:
    """The project's own code location: the checks must be wired into it."""
    from orchestration.definitions import defs

    return defs


def test_the_checks_target_the_dbt_marts_and_the_evaluations_asset_follows_them():
    graph = project_definitions().resolve_asset_graph()
    check_keys = graph.asset_check_keys

    for check in quality_checks:
        for key in check.check_keys:
            assert key in check_keys
            # The mart is a real (dbt) asset of the project, not a dangling key.
            assert graph.get(key.asset_key).is_materializable, key
    assert {
        key.name for key in check_keys if key.asset_key.to_user_string() == "fct_conversions"
    } >= {
        "conversion_id_unique",
        "median_assignment_latency_slo",
        "high_intent_unassigned_slo",
        "enrichment_success_slo",
    }
    assert set(graph.get(SLO_EVALUATIONS_KEY).parent_keys) == set(CHECKED_ASSET_KEYS)
