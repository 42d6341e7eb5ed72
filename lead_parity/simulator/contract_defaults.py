"""The default routing contract (lead_parity/contract/default_contract.yaml, SPEC section 3) in
the shapes the simulator needs, times in milliseconds. Read from the contract package, so the
simulated stack and the models judging it cannot disagree on a default."""

from __future__ import annotations

from lead_parity.contract import load_contract

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_DEFAULT = load_contract(None)

# event name -> (conversion type, hops)
CONVERSIONS = {r.event_name: (r.conversion_type, r.hops) for r in _DEFAULT.conversions}
EVENT_OF_TYPE = {ctype: event for event, (ctype, _) in CONVERSIONS.items()}

SLA_MS = {h.hop: h.sla_s * 1000 for h in _DEFAULT.hops}
_DROP_AFTER_S = {h.drop_after_s for h in _DEFAULT.hops}
if len(_DROP_AFTER_S) != 1:  # journeys and ground truth model one drop window for every hop
    raise RuntimeError("the simulator needs the default contract's hops to share one drop_after")
DROP_AFTER_MS = _DROP_AFTER_S.pop() * 1000
MATCH_WINDOW_MS = _DEFAULT.match_window_s * 1000
RECORD_HOPS = frozenset(h.hop for h in _DEFAULT.hops if h.kind == "record")
ASSIGNMENT_HOPS = frozenset(h.hop for h in _DEFAULT.hops if h.kind == "assignment")

ROLE_ACCOUNTS = frozenset(_DEFAULT.role_accounts)
