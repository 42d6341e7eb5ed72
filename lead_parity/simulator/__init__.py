"""Realistic, streaming, deterministic stack simulator (`lead-parity simulate`, SPEC section 7).

    from lead_parity.simulator import simulate, SimulationRates
    summary = simulate(Path("data/sim"), leads=10_000, days=14, seed=7)

Writes the SPEC section 2 input layout plus `truth/conversions.csv` (the ground truth),
`truth/conversion_details.csv` (type, origin, converted_at, late, planned outcome) and
`truth/manifest.json` (as_of = midnight after the last day + 2 h, seed, persons, rates, counts).

How it works, module by module:
- `timeline`: the period, daily and hourly rhythm, booth events.
- `people`: names, companies, e-mails and system ids; (first, last) is unique per person.
- `journeys`: one person's visits, identify calls and conversions; each conversion gets a
  planned outcome (`rates`) and the records that produce it, nothing after as_of.
- `evaluate`: SPEC 4/5 applied to that person's records gives the truth (not the plan).
  A journey on which the SPEC's open readings disagree is rebuilt, so the truth holds under
  either reading (see `evaluate.evaluate`).
- `person`: build + evaluate + serialize, in worker processes, chunk by chunk.
- `writers`: JSONL per UTC day (some days gzip) and API pages, O(page) memory; `core` wires it.
Same seed and arguments give byte-identical files, whatever the number of workers.
"""

from .core import SimulationSummary, simulate
from .rates import SimulationRates
from .truth import Verdict, evaluate

__all__ = ["SimulationRates", "SimulationSummary", "Verdict", "evaluate", "simulate"]
