"""The pipeline library: ingestion, live connectors, incidents, publishing (no Dagster)."""
