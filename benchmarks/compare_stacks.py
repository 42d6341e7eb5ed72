"""Compare two simulated stacks file by file: the same paths and the same bytes.

    .venv/bin/python benchmarks/compare_stacks.py OLD_DIR NEW_DIR

A gzip file whose bytes differ is decompressed and compared again, so a change of compression
level alone is reported as such and not as a different stack. Exit 0 only when every file
is byte-identical.
"""

import argparse
import gzip
import hashlib
import sys
from pathlib import Path


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def _digest(path: Path, unzip: bool = False) -> str:
    h = hashlib.sha256()
    opener = gzip.open if unzip else open
    with opener(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def compare(old: Path, new: Path) -> dict[str, list[str]]:
    """Paths grouped by outcome: identical, only_old, only_new, differ, gzip_members_equal."""
    a, b = _files(old), _files(new)
    report: dict[str, list[str]] = {
        "identical": [],
        "only_old": sorted(set(a) - set(b)),
        "only_new": sorted(set(b) - set(a)),
        "differ": [],
        "gzip_members_equal": [],
    }
    for rel in sorted(set(a) & set(b)):
        if a[rel].stat().st_size == b[rel].stat().st_size and _digest(a[rel]) == _digest(b[rel]):
            report["identical"].append(rel)
        elif rel.endswith(".gz") and _digest(a[rel], True) == _digest(b[rel], True):
            report["gzip_members_equal"].append(rel)
        else:
            report["differ"].append(rel)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    report = compare(args.old, args.new)
    for outcome, paths in report.items():
        print(f"{outcome}: {len(paths)}")
        if outcome != "identical":
            for rel in paths[:20]:
                print(f"  {rel}")
    same = not any(report[k] for k in ("only_old", "only_new", "differ", "gzip_members_equal"))
    print("byte-identical" if same else "NOT byte-identical")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
