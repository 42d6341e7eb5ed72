"""The default routing contract of SPEC section 3, as the simulator needs it (times in ms)."""

from __future__ import annotations

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

SALES_HOPS = ("marketing", "crm", "crm_assignment")
SUPPORT_HOPS = ("support", "support_assignment")

# event name -> (conversion type, hops)
CONVERSIONS = {
    "Demo Requested": ("demo_request", SALES_HOPS),
    "Contact Sales Submitted": ("contact_sales", SALES_HOPS),
    "Question Asked": ("question", SUPPORT_HOPS),
}
EVENT_OF_TYPE = {ctype: event for event, (ctype, _) in CONVERSIONS.items()}

SLA_MS = {
    "marketing": 5 * MINUTE,
    "crm": 15 * MINUTE,
    "crm_assignment": 30 * MINUTE,
    "support": 5 * MINUTE,
    "support_assignment": 30 * MINUTE,
}
DROP_AFTER_MS = 24 * HOUR
MATCH_WINDOW_MS = 10 * MINUTE
RECORD_HOPS = frozenset({"marketing", "crm", "support"})
ASSIGNMENT_HOPS = frozenset({"crm_assignment", "support_assignment"})

ROLE_ACCOUNTS = frozenset(
    {
        "info",
        "sales",
        "support",
        "admin",
        "contact",
        "hello",
        "noreply",
        "no-reply",
        "marketing",
        "team",
        "office",
        "test",
    }
)
SHARED_DEVICE_EMAILS = 3

STATUSES = ("delivered", "pending", "dropped")
ROOT_CAUSES = (
    "identity_mismatch",
    "integration_failure",
    "silent_drop",
    "enrichment_failure",
    "unassigned",
    "no_trace",
)
