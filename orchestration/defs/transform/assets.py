"""Every dbt model as an asset, keyed by its name; sources are the ingestion assets' tables."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from lead_parity.pipeline.build import dbt_executable, dbt_vars
from lead_parity.pipeline.run_state import record_as_of
from orchestration.defs.owners import MART_OWNERS, owners_of_system
from orchestration.defs.quality.freshness import freshness_of
from orchestration.defs.resources import LeadParityConfig, lent_environment
from orchestration.defs.transform.project import dbt_project, ensure_manifest


class LeadParityTranslator(DagsterDbtTranslator):
    """Models keep their dbt name as key; sources point at the asset that lands them."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec  # [source, table]: the keys the ingestion assets materialize
        fqn = props.get("fqn", [])
        folder = fqn[1] if len(fqn) > 2 else "dbt"
        # staging/<source>/...: that source's hop owners; everything after it judges every hop.
        source = fqn[2] if folder == "staging" and len(fqn) > 3 else None
        owners = owners_of_system(source) if source else MART_OWNERS
        return spec.replace_attributes(
            key=dg.AssetKey(props["name"]),
            group_name=folder,
            owners=owners,
            freshness_policy=freshness_of(props["name"]),
        )


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=LeadParityTranslator(),
)
def lead_parity_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, lead_parity: LeadParityConfig
):
    paths = lead_parity.paths()
    paths.dbt_target.mkdir(parents=True, exist_ok=True)
    # dbt unit tests check the SQL, not the data: they run in CI (tests/dbt), not in every run.
    args = [
        "build", "--exclude-resource-type", "unit_test",
        "--target", paths.engine, "--vars", dbt_vars(lead_parity.contract()),
    ]  # fmt: skip
    if lead_parity.full_refresh:
        args.append("--full-refresh")
    # The profile and the sources read the warehouse and landed paths from dbt's environment.
    with lent_environment(paths.dbt_env()):
        invocation = dbt.cli(args, context=context, target_path=paths.dbt_target)
    yield from invocation.stream()
    # Reached only when every model and test passed (a failure raises out of stream()).
    record_as_of(paths, lead_parity.as_of_datetime())


# The venv's dbt, whether or not the venv is activated (PATH may not contain it).
dbt_resource = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
