"""The routing contract (SPEC section 3): load, validate, and hand to the models as tables."""

from lead_parity.contract.model import (
    HOP_RULES,
    INPUT_KINDS,
    AlertingRule,
    Contract,
    ContractError,
    ConversionRule,
    EscalationRule,
    HopRule,
    SloRule,
    SourceInput,
    load_contract,
    parse_duration,
)
from lead_parity.contract.tables import write_contract_tables

DEFAULT_CONTRACT_PATH = __path__[0] + "/default_contract.yaml"

__all__ = [
    "DEFAULT_CONTRACT_PATH",
    "HOP_RULES",
    "INPUT_KINDS",
    "AlertingRule",
    "Contract",
    "ContractError",
    "ConversionRule",
    "EscalationRule",
    "HopRule",
    "SloRule",
    "SourceInput",
    "load_contract",
    "parse_duration",
    "write_contract_tables",
]
