"""``python -m lead_parity.pipeline.connectors --input DIR``: fetch every configured stream once.

Prints the per-stream stats as JSON; exits 1 when a stream failed (skipped streams are fine).
A command, not library code: like the CLI it reads the vendors' variables from its environment
and hands them to `fetch_all`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import orjson

from lead_parity.pipeline.connectors import fetch_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lead_parity.pipeline.connectors")
    parser.add_argument("--input", required=True, help="input folder (SPEC section 2 layout)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    results = fetch_all(args.input, os.environ)
    for stats in results.values():
        stats.pop("landed_files", None)  # long; the folder is enough on a terminal
    sys.stdout.write(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 1 if any(s["status"] == "failed" for s in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
