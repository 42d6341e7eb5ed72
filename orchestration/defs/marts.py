"""The marts of SPEC section 6: the tables readers are promised, so the snapshot waits for them
and Dagster watches their freshness."""

SPEC_MARTS = (
    "dim_leads",
    "fct_conversions",
    "fct_hop_parity_daily",
    "fct_hop_parity_daily_totals",
    "fct_assignment_latency_daily",
    "fct_assignment_latency_daily_totals",
    "fct_dead_letters_daily",
    "rpt_dropped_leads",
)
