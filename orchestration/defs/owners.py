"""Asset owners from the routing contract: each hop's owner team owns what its system feeds.

A landed source and its staging models belong to the owners of the hops that source serves
(hubspot_contacts: crm and crm_assignment); the marts, which judge every hop, belong to every
hop owner. Dagster shows owners on each asset and filters the graph by them.
"""

from __future__ import annotations

from lead_parity.contract import Contract, load_contract
from orchestration.defs.resources import deployment_default


def _team(owner: str) -> str:
    return f"team:{owner}"


def owners_by_source(contract: Contract) -> dict[str, list[str]]:
    owners: dict[str, set[str]] = {}
    for hop in contract.hops:
        owners.setdefault(hop.system, set()).add(_team(hop.owner))
    return {source: sorted(teams) for source, teams in owners.items()}


def all_hop_owners(contract: Contract) -> list[str]:
    return sorted({_team(hop.owner) for hop in contract.hops})


def owners_of_system(system: str) -> list[str]:
    """Owners of a source (`hubspot_contacts`) or of a whole system's staging folder (`hubspot`)."""
    teams = {
        team
        for source, owners in SOURCE_OWNERS.items()
        if source == system or source.startswith(f"{system}_")
        for team in owners
    }
    return sorted(teams) or MART_OWNERS


# The code location's contract (its deployment default); a run with another contract judges
# with that one, but the graph's owners are a property of the deployment.
CONTRACT = load_contract(deployment_default("contract_path") or None)
SOURCE_OWNERS = owners_by_source(CONTRACT)
MART_OWNERS = all_hop_owners(CONTRACT)
