"""Knobs of the simulator: how often each behaviour and failure happens."""

from __future__ import annotations

from dataclasses import dataclass, field

ORIGINS = ("google_ads", "linkedin", "newsletter", "webinar", "partner", "organic", "direct")


def _origin_share() -> dict[str, float]:
    return {
        "google_ads": 0.30,
        "linkedin": 0.14,
        "newsletter": 0.11,
        "webinar": 0.08,
        "partner": 0.07,
        "organic": 0.16,
        "direct": 0.14,
    }


def _origin_drop_multiplier() -> dict[str, float]:
    # Partner forms go through a flaky reseller integration; newsletter links land on our own
    # well-tested forms. The spread is what makes per-campaign parity worth looking at.
    return {
        "google_ads": 1.0,
        "linkedin": 1.5,
        "newsletter": 0.5,
        "webinar": 1.3,
        "partner": 2.6,
        "organic": 0.8,
        "direct": 1.0,
    }


def _sales_hop_weights() -> dict[str, float]:
    return {"marketing": 0.30, "crm": 0.40, "crm_assignment": 0.30}


def _support_hop_weights() -> dict[str, float]:
    return {"support": 0.55, "support_assignment": 0.45}


def _record_cause_weights() -> dict[str, float]:
    return {
        "identity_mismatch": 0.25,
        "integration_failure": 0.30,
        "silent_drop": 0.20,
        "no_trace": 0.25,
    }


def _assignment_cause_weights() -> dict[str, float]:
    return {"enrichment_failure": 0.5, "unassigned": 0.5}


@dataclass(frozen=True)
class SimulationRates:
    """Probabilities (0..1) of each behaviour; the defaults give a realistic ~6% drop rate."""

    # Outcome of a conversion: base chance to be dropped, scaled per origin.
    drop_rate: float = 0.06
    origin_share: dict[str, float] = field(default_factory=_origin_share)
    origin_drop_multiplier: dict[str, float] = field(default_factory=_origin_drop_multiplier)
    sales_hop_weights: dict[str, float] = field(default_factory=_sales_hop_weights)
    support_hop_weights: dict[str, float] = field(default_factory=_support_hop_weights)
    record_cause_weights: dict[str, float] = field(default_factory=_record_cause_weights)
    assignment_cause_weights: dict[str, float] = field(default_factory=_assignment_cause_weights)
    # A CRM outage on two thirds into the period (13:00-17:00 UTC): extra integration failures.
    incident_drop_rate: float = 0.5
    # Delivery behaviour.
    late_rate: float = 0.10  # assignment (or creation) slower than the hop's SLA
    receipts_missing_rate: float = 0.15  # conversions the integration layer never logged
    retry_rate: float = 0.10  # delivered after 429/503/timeouts
    replay_rate: float = 0.03  # dead-lettered, then replayed from the DLQ
    # People.
    non_converter_rate: float = 0.08
    multi_conversion_rate: float = 0.15
    existing_contact_rate: float = 0.12
    signup_rate: float = 0.35
    second_device_rate: float = 0.15
    free_email_rate: float = 0.15
    role_account_rate: float = 0.02
    booth_rate: float = 0.01
    messy_email_rate: float = 0.05
    email_ticket_rate: float = 0.15  # tickets opened by e-mail: no external_id
    deleted_ticket_rate: float = 0.02
    # Delivery quirks of the exports.
    duplicate_message_rate: float = 0.01
    redelivery_rate: float = 0.06  # contact/ticket seen again on a later page, newer version
    late_sideload_rate: float = 0.05  # Zendesk requester sideloaded on another page
    no_conversion_id_rate: float = 0.03
    quote_id_rate: float = 0.01
    extra_field_rate: float = 0.02
    # Bad input, as extra noise records (never the real conversion).
    malformed_rate: float = 0.001

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ValueError(f"rate {name}={value} must be within [0, 1]")
        missing = set(ORIGINS) - set(self.origin_share)
        if missing:
            raise ValueError(f"origin_share lacks {sorted(missing)}")

    @classmethod
    def no_failures(cls) -> SimulationRates:
        """Every conversion delivered (pending only where the last hours cut a journey short)."""
        return cls(drop_rate=0.0, incident_drop_rate=0.0, malformed_rate=0.0)
