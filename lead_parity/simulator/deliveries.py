"""A simulated stack delivered over several runs, the way exports reach a daily pipeline.

SPEC section 9 says any sequence of runs ends where one fresh run over the same files ends. This
module makes such sequences from one stack, for the tests and checks that hold the pipeline to
it (the soak, the Spark sequence check):

- the stack's files arrive in a random order over `runs` deliveries, each run getting some
  (when there are fewer files than runs, some runs get none, like a day nothing was exported);
- a HubSpot contacts page arrives short on the first run (its first contact only) and is
  re-exported whole on the last, so it changes in place and supersedes its earlier version, and
  conversions whose contact was missing turn from dropped at `crm` to delivered (a late contact);
- a file delivered earlier is delivered again unchanged (not parsed again) and once more under a
  second name (its records are duplicates of records already landed).

Same stack, runs and seed give the same plan.

    plan = plan_deliveries(stack, runs=4, seed=7)
    for step in plan:
        deliver(stack, inbox, step)
        ... run the pipeline on `inbox` ...
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

CHANGED_PAGE_FOLDER = "hubspot_contacts"
RESENT_PREFIX = "resent-"
NOT_INPUT = ("truth/",)


@dataclass(frozen=True)
class Delivery:
    """One file written into the input folder on one run: the stack's file `source`, at `path`,
    whole or (`short`) an API page with its first record only."""

    path: str
    source: str
    short: bool = False


def input_files(stack: Path) -> list[str]:
    """The stack's input files, relative and sorted (the simulator's truth is not input)."""
    return sorted(
        rel
        for rel in (p.relative_to(stack).as_posix() for p in stack.rglob("*") if p.is_file())
        if not rel.startswith(NOT_INPUT)
    )


def plan_deliveries(stack: Path, runs: int, seed: int) -> list[list[Delivery]]:
    """`runs` lists of deliveries (at least two runs), every input file of `stack` delivered by
    the last one; see the module docstring for what each sequence contains."""
    if runs < 2:
        raise ValueError("a sequence of deliveries needs at least two runs")
    rng = random.Random(seed)
    files = input_files(stack)
    page = _changed_page(stack, files)
    rest = [f for f in files if f != page]
    rng.shuffle(rest)
    if len(rest) >= runs:
        cuts = sorted(rng.sample(range(1, len(rest)), runs - 1))
    else:  # more runs than files: some days bring nothing new (a weekend)
        cuts = sorted(rng.choices(range(len(rest) + 1), k=runs - 1))
    steps = [
        [Delivery(f, f) for f in rest[a:b]]
        for a, b in zip([0, *cuts], [*cuts, len(rest)], strict=True)
    ]
    steps[0].append(Delivery(page, page, short=True))
    steps[-1].append(Delivery(page, page))
    # A re-delivery needs a file delivered on an earlier run (always so when every run gets one).
    later = [i for i in range(1, runs) if any(not d.short for s in steps[:i] for d in s)]
    if later:
        resend_at = rng.choice(later)
        again = rng.choice([d.source for s in steps[:resend_at] for d in s if not d.short])
        renamed = Path(again).with_name(RESENT_PREFIX + Path(again).name).as_posix()
        steps[resend_at] += [Delivery(again, again), Delivery(renamed, again)]
    return steps


def deliver(stack: Path, inbox: Path, step: list[Delivery]) -> None:
    """Write one run's deliveries into `inbox`, each file complete when it appears (written
    aside, then renamed), as an export job that finished would leave it."""
    for delivery in step:
        target = inbox / delivery.path
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.part")
        if delivery.short:
            body = json.loads((stack / delivery.source).read_text(encoding="utf-8"))
            part.write_text(json.dumps({**body, "results": body["results"][:1]}), encoding="utf-8")
        else:
            shutil.copyfile(stack / delivery.source, part)
        part.replace(target)


def _changed_page(stack: Path, files: list[str]) -> str:
    """The contacts page with the most contacts: short, it leaves the most conversions without
    their contact until it is re-exported."""
    pages = [
        f
        for f in files
        if f.startswith(f"{CHANGED_PAGE_FOLDER}/") and f.endswith(".json") and "partial" not in f
    ]
    if not pages:
        raise ValueError(f"{stack} has no {CHANGED_PAGE_FOLDER} page to change")
    return max(pages, key=lambda f: (_results(stack / f), f))


def _results(page: Path) -> int:
    try:
        return len(json.loads(page.read_text(encoding="utf-8")).get("results", []))
    except ValueError:
        return -1
