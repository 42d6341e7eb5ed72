"""`lead-parity`: simulate a stack, run the pipeline, run the demo, open the dashboard/report.

Every expected failure (missing folder, bad contract, unwritable warehouse, failed step) ends in
one line on stderr and a non-zero exit, never a traceback.
"""

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from lead_parity.cli.arguments import CliError, OneLineParser, port, positive_int, seed
from lead_parity.cli.help_text import decorate
from lead_parity.pipeline.paths import warehouse_name_problem

EXIT_USAGE = 2
EXIT_RUN_FAILED = 1


def _as_of(text: str | None) -> datetime:
    from lead_parity.pipeline.timeparse import parse_as_of

    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        return parse_as_of(text)
    except ValueError:
        raise CliError(f"--as-of {text!r} is not an ISO-8601 timestamp") from None


def _check_writable_folder(folder: Path, what: str) -> None:
    """Create `folder` if needed and prove a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise CliError(f"{what} {folder} is not writable: {exc.strerror}") from None


def _check_warehouse(path: Path) -> Path:
    path = path.expanduser().resolve()
    if path.is_dir():
        raise CliError(f"warehouse {path} is a directory; give a file path like {path}/lp.duckdb")
    problem = warehouse_name_problem(path)
    if problem:
        raise CliError(problem)
    _check_writable_folder(path.parent, "warehouse folder")
    if path.exists() and not os.access(path, os.W_OK):
        raise CliError(f"warehouse {path} is not writable")
    return path


def _check_spark_warehouse(path: Path) -> Path:
    """A Spark warehouse is a directory: <dir>/marts.db/<table>, <dir>/ops.db/<table>."""
    import shutil
    from importlib.util import find_spec

    path = path.expanduser().resolve()
    if path.is_file():
        raise CliError(f"--engine spark needs a warehouse directory; {path} is a file")
    if find_spec("pyspark") is None or find_spec("dbt.adapters.spark") is None:
        raise CliError(
            "--engine spark needs pyspark and dbt-spark: `make setup-spark`, then run "
            ".venv-spark/bin/lead-parity"
        )
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise CliError("--engine spark needs Java 17 (java on PATH or JAVA_HOME)")
    _check_writable_folder(path, "warehouse directory")
    return path


def _check_contract(path: str | None) -> Path | None:
    from lead_parity.contract import ContractError, load_contract

    if not path:
        return None
    try:
        load_contract(path)
    except ContractError as exc:
        raise CliError(str(exc)) from None
    return Path(path).expanduser().resolve()


def _check_live_configuration() -> None:
    from lead_parity.pipeline.connectors import live_configuration_problem

    problem = live_configuration_problem(os.environ)
    if problem:
        raise CliError(problem)


def cmd_simulate(args) -> int:
    from lead_parity.simulator import simulate

    out = Path(args.out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file; give a folder")
    _check_writable_folder(out, "--out folder")
    try:
        summary = simulate(
            out, leads=args.leads, days=args.days, seed=args.seed, progress=lambda m: print(m)
        )
    except OSError as exc:
        raise CliError(f"cannot write the stack to {out}: {exc.strerror or exc}") from None
    print(f"simulated stack written to {out}")
    if args.loader_tables:
        from lead_parity.simulator.layouts import write_all_layouts

        tables = out / "loader_tables"
        contract = write_all_layouts(out, tables, args.loader_tables)
        print(f"the same stack as Segment, Fivetran and Airbyte tables in {tables}")
        print(f"a contract reading some of them: --contract {contract}")
    print(json.dumps(summary if isinstance(summary, dict) else vars(summary), default=str))
    return 0


def run_pipeline(params, live: bool = False, verbose: bool = False) -> int:
    import contextlib
    import time
    import warnings

    from expectations.context import data_docs_url
    from lead_parity.cli.runner import execute_pipeline
    from lead_parity.cli.summary import (
        files_line,
        findings_lines,
        ingestion_lines,
        review_queue_line,
        timing_line,
    )
    from lead_parity.cli.verdict import verdict_lines
    from lead_parity.contract import load_contract
    from lead_parity.pipeline.incidents.deliver import deliver_after_run
    from lead_parity.pipeline.paths import RunPaths
    from lead_parity.pipeline.writer_lane import LaneBusy, WriterLane

    paths = RunPaths(params.warehouse, params.engine)
    print(f"lead-parity run: as_of {params.as_of_text}")
    print(f"  input {params.input_dir}")
    print(f"  warehouse {params.warehouse}")
    print(f"  log {params.log_file}" + ("" if verbose else "  (--verbose streams it)"))
    # The lane is taken here, before Dagster starts, so that waiting is visible and giving up
    # is one line; the run's resource then finds it held by this process.
    lane = WriterLane(paths.data_dir)
    try:
        lane.acquire("cli", wait_s=params.lane_wait_s, log=lambda m: print(f"lead-parity: {m}"))
    except LaneBusy as exc:
        raise CliError(str(exc)) from None
    started = time.monotonic()
    try:
        with warnings.catch_warnings(), contextlib.ExitStack() as quiet:
            if not verbose:
                # Our dependencies' deprecation notes are for us, not for the person running
                # this; what the tools print themselves (dbt's lines) goes to the log file.
                warnings.simplefilter("ignore")
                params.log_file.parent.mkdir(parents=True, exist_ok=True)
                tools = quiet.enter_context(params.log_file.open("a", encoding="utf-8"))
                quiet.enter_context(contextlib.redirect_stdout(tools))
                quiet.enter_context(contextlib.redirect_stderr(tools))
            outcome = execute_pipeline(params, live=live, verbose=verbose)
    finally:
        lane.release()
    wall_s = time.monotonic() - started
    print(f"lead-parity run {outcome.run_id[:8]} finished in {wall_s:.0f} s")
    if not outcome.success:
        for line in ingestion_lines(paths):
            print(line)
        what = outcome.failures or [f"skipped: {', '.join(outcome.skipped)}"]
        for failure in outcome.failures[1:]:
            print(f"  failed: {failure}", file=sys.stderr)
        print(
            f"lead-parity: run did not complete: {what[0]} (log: {params.log_file})",
            file=sys.stderr,
        )
        return EXIT_RUN_FAILED
    print()
    for line in verdict_lines(paths, params.as_of):
        print(line)
    if params.engine != "duckdb":
        for line in findings_lines(paths):
            print(line)
        print(f"  {params.engine} warehouse: {paths.warehouse}")
        print(f"  marts as Parquet tables: {paths.mart_parquet('<table>')}")
        print("  (SLO checks, incidents and the published snapshot run on the DuckDB engine)")
        return 0
    for line in deliver_after_run(
        paths.warehouse, load_contract(params.contract), run_id=outcome.run_id, env=os.environ
    ).lines():
        print(f"  {line}")
    queue = review_queue_line(paths, params.as_of)
    if queue:
        print(f"  {queue}")
    if outcome.warned_checks:
        print(f"  SLO checks that warned: {', '.join(outcome.warned_checks)}")
    print()
    print("where to look:")
    if paths.published.exists():
        print(f"  dashboard  .venv/bin/lead-parity dashboard --warehouse {paths.warehouse}")
    report = paths.data_dir / "reports" / "reconciliation_report.html"
    if report.exists():
        print(f"  report     {report}")
    docs = data_docs_url(paths.data_docs)
    if docs:
        print(f"  data docs  {docs}")
    if paths.published.exists():
        print(f"  BI tools   {paths.published} (docs/bi.md)")
    print(f"  log        {params.log_file}")
    print(f"  time       {timing_line(wall_s, outcome.step_seconds)}")
    print()
    print("details:")
    print(f"  {files_line(outcome.files)}")
    for line in ingestion_lines(paths):
        print(line)
    for line in findings_lines(paths):
        print(line)
    return 0


def _check_as_of_moves_forward(params, warehouse: Path) -> None:
    from lead_parity.pipeline.paths import RunPaths
    from lead_parity.pipeline.run_state import AsOfGoesBack, check_as_of

    try:
        check_as_of(RunPaths(warehouse, params.engine), params.as_of, params.full_refresh)
    except AsOfGoesBack as exc:
        raise CliError(str(exc)) from None


def cmd_run(args) -> int:
    input_dir = Path(args.input).expanduser().resolve()
    if not input_dir.is_dir():
        raise CliError(f"input folder {input_dir} does not exist")
    if args.engine == "spark":
        if args.live:
            raise CliError("--live runs on DuckDB only; fetch first, then run --engine spark")
        warehouse = _check_spark_warehouse(Path(args.warehouse))
    else:
        warehouse = _check_warehouse(Path(args.warehouse))
    from lead_parity.cli.runner import RunParameters

    if args.wait < 0:
        raise CliError(f"--wait {args.wait} must be 0 or more seconds")
    contract = _check_contract(args.contract)
    if args.live:
        _check_live_configuration()
    params = RunParameters(
        input_dir=input_dir,
        warehouse=warehouse,
        as_of=_as_of(args.as_of),
        contract=contract,
        engine=args.engine,
        lane_wait_s=args.wait,
        full_refresh=args.full_refresh,
    )
    _check_as_of_moves_forward(params, warehouse)
    return run_pipeline(params, live=args.live, verbose=args.verbose)


def cmd_demo(args) -> int:
    from lead_parity.simulator import simulate

    root = Path(args.dir).expanduser().resolve()
    input_dir = root / "input"
    print(f"simulating {args.leads:,} people over {args.days} days into {input_dir} ...")
    simulate(input_dir, leads=args.leads, days=args.days, seed=args.seed, progress=print)
    manifest = json.loads((input_dir / "truth" / "manifest.json").read_text())
    from lead_parity.cli.runner import RunParameters

    warehouse = _check_warehouse(root / "warehouse.duckdb")
    params = RunParameters(
        input_dir=input_dir, warehouse=warehouse, as_of=_as_of(manifest["as_of"])
    )
    code = run_pipeline(params)
    if code == 0:
        print()
        print("next:")
        print(f"  .venv/bin/lead-parity dashboard --warehouse {warehouse}")
        report = root / "report.html"
        print(f"  .venv/bin/lead-parity report --warehouse {warehouse} --out {report}")
        print("  make dev   (dagster dev: the asset graph, checks and runs)")
    return code


def _published_dir(args) -> Path:
    from lead_parity.pipeline.paths import RunPaths

    # No default warehouse: reading the demo's snapshot when the user's is missing would show
    # someone else's numbers as theirs.
    if args.published:
        return Path(args.published).expanduser().absolute()
    if not args.warehouse:
        raise CliError(f"{args.command} needs --warehouse FILE (or --published DIR)")
    warehouse = Path(args.warehouse).expanduser().resolve()
    if not warehouse.is_file():
        raise CliError(f"warehouse {warehouse} does not exist; run `lead-parity run` first")
    return RunPaths(warehouse).published


def cmd_dashboard(args) -> int:
    from lead_parity.pipeline.publish import PublishError
    from lead_parity.readers.dashboard import launch

    try:
        return launch(_published_dir(args), port=args.port, address=args.address)
    except PublishError as exc:
        raise CliError(str(exc)) from None


def cmd_report(args) -> int:
    from lead_parity.pipeline.publish import PublishError
    from lead_parity.readers.report import write_report

    out = Path(args.out).expanduser().resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        result = write_report(_published_dir(args), out, days=args.days)
    except PublishError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror}") from None
    print(f"report written to {result.get('path', out)} ({result.get('charts', '?')} charts)")
    return 0


def _add_snapshot_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warehouse", help="the warehouse a run wrote (its published/ is read)")
    p.add_argument("--published", help="a published/ folder (default: beside the warehouse)")


def build_parser() -> OneLineParser:
    """Every command, its options, descriptions and examples."""
    from lead_parity.pipeline.paths import ENGINES

    parser = OneLineParser(prog="lead-parity", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write a realistic simulated stack with ground truth")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the stack into")
    p.add_argument("--leads", type=positive_int, default=2000, help="people (default 2000)")
    p.add_argument("--days", type=positive_int, default=14, help="days of traffic (default 14)")
    p.add_argument("--seed", type=seed, default=7, help="same seed, same stack (default 7)")
    p.add_argument(
        "--loader-tables",
        choices=("parquet", "duckdb"),
        help="also write the stack as each loader's tables (docs/warehouse-inputs.md)",
    )
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("run", help="ingest an input folder and build every asset")
    p.add_argument(
        "--input", required=True, metavar="DIR", help="the input folder (SPEC section 2)"
    )
    p.add_argument(
        "--warehouse", required=True, metavar="FILE", help="the DuckDB file to build (created)"
    )
    p.add_argument(
        "--as-of",
        dest="as_of",
        metavar="TS",
        help="judge everything at this instant, ISO-8601 (default: now, UTC)",
    )
    p.add_argument(
        "--contract", metavar="FILE", help="routing contract YAML (default: the shipped one)"
    )
    p.add_argument("--live", action="store_true", help="fetch HubSpot/Zendesk over HTTP first")
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default="duckdb",
        help="dbt target: duckdb (--warehouse is a file) or spark (--warehouse is a directory)",
    )
    p.add_argument(
        "--wait",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="while another run writes this warehouse, wait in line this long (default 3600; "
        "0 refuses at once, naming the running one)",
    )
    p.add_argument(
        "--full-refresh",
        dest="full_refresh",
        action="store_true",
        help="rebuild every model from scratch; needed to build at an as_of older than the "
        "warehouse's latest",
    )
    p.add_argument(
        "--verbose", action="store_true", help="stream Dagster's, dbt's and GX's log to stderr"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="simulate a stack, run the pipeline, print the findings")
    p.add_argument("--dir", default="data/demo", help="where the stack and warehouse go")
    p.add_argument("--leads", type=positive_int, default=2000, help="people (default 2000)")
    p.add_argument("--days", type=positive_int, default=14, help="days of traffic (default 14)")
    p.add_argument("--seed", type=seed, default=7, help="same seed, same stack (default 7)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("dashboard", help="open the Streamlit dashboard on the published snapshot")
    _add_snapshot_args(p)
    p.add_argument("--port", type=port, default=8501, help="default 8501")
    p.add_argument("--address", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("report", help="write the self-contained HTML reconciliation report")
    _add_snapshot_args(p)
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    p.add_argument(
        "--days", type=positive_int, default=30, help="days up to the run's as_of (default 30)"
    )
    p.set_defaults(func=cmd_report)

    __import__("lead_parity.cli.incidents", fromlist=["add_parser"]).add_parser(sub)
    __import__("lead_parity.cli.queue", fromlist=["add_parser"]).add_parser(sub)
    __import__("lead_parity.cli.remediate", fromlist=["add_parser"]).add_parser(sub)

    decorate(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"lead-parity: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lead-parity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
