"""lead-parity's plain-Python parts, one subpackage per product part (docs/architecture.md):
the routing contract, the pipeline library, the stack simulator, the readers of the published
snapshot, and the CLI on top. The Dagster code location is `orchestration`, the GX suites
`expectations`."""
