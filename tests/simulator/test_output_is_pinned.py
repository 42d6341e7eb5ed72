"""The simulator's bytes for one seed are pinned: speed work must not change a stack.

Benchmarks, regression tests and users' saved stacks rely on `simulate(seed=S)` giving the same
files release after release. The digests below are those of the simulator before its speed work
(main at c460e96); a change that alters them changes the stack every seed gives, and must say so
and update them on purpose (`_digests` prints what to paste).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lead_parity.simulator import simulate

PINNED = {
    "hubspot_contacts": "5fdda78f9295d564",
    "hubspot_forms": "12e741a7b57f9644",
    "receipts": "4d1d97eb7c65e66e",
    "segment": "7838c780cca395bf",
    "truth": "a0b97c20a23d7d38",
    "zendesk_tickets": "f1712eb634c4fb68",
}


def _digests(root: Path) -> dict[str, str]:
    """Per top-level folder, a digest over its files' relative paths and bytes."""
    out = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        h = hashlib.sha256()
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
        out[folder.name] = h.hexdigest()[:16]
    return out


def test_seed_7_gives_the_same_stack_as_before_the_speed_work(tmp_path):
    simulate(tmp_path / "s", leads=1500, days=7, seed=7)
    assert _digests(tmp_path / "s") == PINNED


def test_worker_processes_give_the_pinned_stack_too(tmp_path):
    simulate(tmp_path / "s", leads=1500, days=7, seed=7, workers=2)
    assert _digests(tmp_path / "s") == PINNED
