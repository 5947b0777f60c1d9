"""The `readiness` command: run, load, record, proxy, history, diff, init, keygen, verify.

Exit codes: 0 ready, 1 not ready, 2 usage or configuration error, 3 the harness failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from readiness import __version__
from readiness.config import ReadinessUsageError, load_config
from readiness.items import ITEM_KEYS

if TYPE_CHECKING:
    from readiness.config import Config
    from readiness.runner import RunResult

EXIT_READY, EXIT_NOT_READY, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our usage code (2, as argparse does) and a pointer to --help."""

    def error(self, message: str) -> None:  # type: ignore[override]  # NoReturn in typeshed
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"Run `{self.prog} --help` for usage.\n")


def _only(value: str) -> list[str]:
    keys = [k.strip() for k in value.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ITEM_KEYS]
    if not keys or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown item key(s) {', '.join(unknown) or '(none given)'}; "
            f"use a comma-separated list of: {', '.join(ITEM_KEYS)}")
    return keys


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; write YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="readiness", description="Decide, with evidence, whether an AI agent "
                     "is ready for production.")
    parser.add_argument("--version", action="version", version=f"agent-readiness {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run the nine-point readiness suite and write the "
                              "scorecard")
    run.add_argument("--config", type=Path, help="readiness.toml or pyproject.toml (default: "
                     "./readiness.toml, else [tool.readiness] in ./pyproject.toml)")
    run.add_argument("--out", type=Path, default=Path("readiness-report"),
                     help="output folder (default: readiness-report/)")
    run.add_argument("--only", type=_only, help="comma-separated item keys to run; the others "
                     "are not_run and fail the gate")
    run.add_argument("--sign", type=Path, metavar="KEY", help="also write "
                     "scorecard.signed.json: an in-toto statement in a DSSE envelope signed "
                     "with this Ed25519 private key (make one with `readiness keygen`)")
    run.add_argument("--today", type=_date, help=argparse.SUPPRESS)  # reproducible reruns
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    from readiness.chaos.fault_spec import FAULT_SPEC_HELP

    proxy = commands.add_parser("proxy", help="run the recording proxy on its own, in front of "
                                "an upstream, for agents the harness does not start",
                                epilog=FAULT_SPEC_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    proxy.add_argument("--target", required=True, help="upstream base URL, e.g. "
                       "https://api.openai.com")
    proxy.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on "
                       "(default 127.0.0.1 and a free port)")
    proxy.add_argument("--record", type=Path, help="append every exchange to this JSONL file")
    proxy.add_argument("--name", default="upstream", help="upstream name in the records")
    proxy.add_argument("--fault", action="append", default=[], metavar="SPEC",
                       help="inject a fault, e.g. rate_limit:retry_after=2,first=3 or "
                       "server_error:status=502,p=0.1 (repeatable; see `readiness proxy --help`)")

    record = commands.add_parser(
        "record", help="capture the agent's real upstream traffic as vcrpy cassettes, secrets "
        "and personal data scrubbed", description="Start the agent as a run does, invoke it "
        "with scenario records, and write each upstream's traffic to OUT/NAME.yaml, a vcrpy "
        'cassette that target = "cassette:OUT/NAME.yaml" serves back. Exit 0 when a cassette '
        "was written, 1 when nothing could be recorded.")
    record.add_argument("--config", type=Path, help="readiness.toml or pyproject.toml (default: "
                        "./readiness.toml, else [tool.readiness] in ./pyproject.toml)")
    record.add_argument("--out", type=Path, default=Path("cassettes"),
                        help="cassette folder (default: cassettes/)")
    record.add_argument("--upstream", action="append", metavar="NAME", help="record only this "
                        "upstream (repeatable; default: every one whose target is not a cassette)")
    record.add_argument("--invocations", type=_positive, default=5, metavar="N",
                        help="how many times to invoke the agent (default 5)")
    history = commands.add_parser("history", help="list the runs recorded in the history")
    history.add_argument("--config", type=Path, help="the configuration whose [history] to read "
                         "(default: ./readiness.toml)")
    history.add_argument("--db", type=Path, help="the history database (default: [history] "
                         "path, .readiness/history.db)")
    history.add_argument("--limit", type=_positive, default=20, help="most recent N runs")

    diff = commands.add_parser("diff", help="what got better or worse between two scorecards; "
                               "exit 1 when anything regressed")
    diff.add_argument("old", help="a scorecard.json, or a run id from `readiness history`")
    diff.add_argument("new", help="a scorecard.json, or a run id from `readiness history`")
    diff.add_argument("--config", type=Path, help="the configuration whose [history] run ids "
                      "refer to (default: ./readiness.toml)")
    diff.add_argument("--db", type=Path, help="the history database for run ids")

    init = commands.add_parser("init", help="write a commented readiness.toml and docs "
                               "skeletons for this repository (never overwrites a file)")
    init.add_argument("--root", type=Path, default=Path("."), help="the agent's repository "
                      "(default: here)")
    init.add_argument("--no-input", action="store_true", help="ask nothing, even on a terminal; "
                      "the owner stays a TODO for you to fill")

    keygen = commands.add_parser("keygen", help="make an Ed25519 key pair for signing "
                                 "scorecards")
    keygen.add_argument("--out", type=Path, default=Path("."), help="folder for NAME.key "
                        "(private, mode 0600) and NAME.pub (default: here)")
    keygen.add_argument("--name", default="readiness", help="file name stem (default readiness)")

    verify = commands.add_parser("verify", help="check a signed scorecard: signature, "
                                 "statement, components; exit 0 only when genuine and ready")
    verify.add_argument("file", type=Path, metavar="SCORECARD", help="scorecard.signed.json")
    verify.add_argument("--key", type=Path, help="the vendor's public key (NAME.pub)")
    verify.add_argument("--components", type=Path, help="your own copy of the agent's "
                        "component hashes (GET /version answer, a {path: digest} map or a "
                        "scorecard.json) to check the scorecard is for that agent")

    load = commands.add_parser(
        "load", help="run item 7's Locust load campaign alone and write its scorecard",
        description="Replay scenario records through the agent with Locust while the proxies "
        "inject the [load] fault rates, then judge p95 latency, error rate, throughput against "
        "the declared peak and audit loss. The gate of this scorecard is item 7 alone. "
        "--workers N runs a Locust master and N local workers; the README shows workers on "
        "other machines.")
    load.add_argument("--config", type=Path, help="readiness.toml or pyproject.toml (default: "
                      "./readiness.toml, else [tool.readiness] in ./pyproject.toml)")
    load.add_argument("--out", type=Path, default=Path("readiness-report"),
                      help="output folder (default: readiness-report/)")
    load.add_argument("--users", type=_positive, help="concurrent users (default: [load] users)")
    load.add_argument("--duration", type=_seconds, help='how long, e.g. "20s", "2m" (default: '
                      "[load] duration)")
    load.add_argument("--workers", type=_whole, help="Locust worker processes beside the master "
                      "(default: [load] workers, 0 = one process)")
    load.add_argument("--capacity", action="store_true", help="also run a stepped campaign "
                      "(users x1/4 to x4) and state the highest rate held within the thresholds")
    load.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    return parser


def _seconds(value: str) -> float:
    from readiness.config.fields import Where, duration

    try:
        return duration(value, Where("--duration", "--duration"))
    except Exception:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration such as 20s, 2m or "
                                         "1h30m") from None


def _whole(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number >= 0")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number >= 1")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "record":
            return _record(args)
        if args.command == "load":
            return _load(args)
        if args.command == "history":
            from readiness.history import history_command

            return history_command(_history_db(args), args.limit)
        if args.command == "diff":
            from readiness.diff import diff_command

            return diff_command(args.old, args.new, _history_db(args))
        if args.command == "init":
            from readiness.init import init_command

            return init_command(args.root, interactive=False if args.no_input else None)
        if args.command == "keygen":
            from readiness.signing import keygen_command

            return keygen_command(args.out, args.name)
        if args.command == "verify":
            from readiness.signing import verify_command

            return verify_command(args.file, args.key, args.components)
        return _proxy(args)
    except ReadinessUsageError as exc:
        print(f"readiness: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("readiness: interrupted", file=sys.stderr)
        return EXIT_NOT_READY
    except Exception:
        traceback.print_exc()
        print(f"readiness: internal error (agent-readiness {__version__}); this is a bug in the "
              "harness, not in your agent: please report it with the traceback above.",
              file=sys.stderr)
        return EXIT_HARNESS


def _run(args: argparse.Namespace) -> int:
    from readiness.runner import run

    config = load_config(args.config)
    if args.sign is not None:  # a bad key fails now, not after a long run
        from readiness.signing import private_key_from_pem
        from readiness.signing._keys import read_key_file

        private_key_from_pem(read_key_file(args.sign, "the signing key"), str(args.sign))
    result = run(config, args.out, only=args.only, today=args.today)
    code = _report(result, args, config)
    if args.sign is not None:
        from readiness.signing import git_commit, sign_run_output

        signed = sign_run_output(result.card, args.sign, args.out, git_commit(config.root))
        print(f"signed: {signed}")
    return code


def _load(args: argparse.Namespace) -> int:
    """Item 7 alone, with --users/--duration/--workers over [load]; its gate is item 7."""
    import dataclasses

    from readiness.runner import run

    config = load_config(args.config)
    changes = {key: value for key, value in (("users", args.users),
                                             ("duration_s", args.duration),
                                             ("workers", args.workers),
                                             ("capacity", args.capacity or None))
               if value is not None}
    config = dataclasses.replace(
        config, load=dataclasses.replace(config.load, **changes),
        gate=dataclasses.replace(config.gate, required=("load",)))
    return _report(run(config, args.out, only={"load"}), args, config)


def _history_db(args: argparse.Namespace) -> Path:
    """--db, else the configuration's [history] path, else .readiness/history.db."""
    from readiness.history import history_path

    if args.db is not None:
        return Path(args.db)
    from readiness.config import ConfigError
    from readiness.config.load import find_config

    if args.config is not None:
        return history_path(load_config(args.config))
    try:  # readiness.toml, or [tool.readiness] in pyproject.toml, here
        return history_path(load_config(find_config(Path.cwd())))
    except ConfigError:
        return Path(".readiness") / "history.db"


def _report(result: RunResult, args: argparse.Namespace, config: Config) -> int:
    from readiness.history import record_if_enabled
    from readiness.reports import render_terminal, write_reports
    from readiness.reports.markdown import render_markdown
    from readiness.reports.step_summary import write_step_summary

    paths = write_reports(result.card, args.out)
    record_if_enabled(config, result.card)
    write_step_summary(render_markdown(result.card))
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                       and "NO_COLOR" not in os.environ)
    print(render_terminal(result.card, color=color))
    print("reports: " + ", ".join(str(p) for p in paths.values()))
    return result.exit_code


def _proxy(args: argparse.Namespace) -> int:
    from readiness.chaos.proxy import run_proxy

    def ready(url: str) -> None:
        print(f"readiness proxy: {url} -> {args.target}"
              + (f" (recording to {args.record})" if args.record else ""), flush=True)

    try:
        run_proxy(args.target, args.listen, args.record, name=args.name, ready=ready,
                  faults=args.fault)
    except ValueError as exc:
        raise ReadinessUsageError(str(exc)) from None
    except OSError as exc:
        raise ReadinessUsageError(f"cannot listen on {args.listen}: {exc.strerror or exc}; "
                                  "choose another --listen HOST:PORT") from None
    return EXIT_READY


def _record(args: argparse.Namespace) -> int:
    from readiness.chaos._recording import RecordingFailed, record

    config = load_config(args.config)
    try:
        result = record(config, args.out, upstreams=args.upstream,
                        invocations=args.invocations)
    except RecordingFailed as exc:
        print(f"readiness record: nothing recorded: {exc}", file=sys.stderr)
        return EXIT_NOT_READY
    for upstream in result.upstreams:
        scrubbed = ", ".join(f"{count} {kind}" for kind, count in sorted(upstream.scrubbed.items())
                             if count and kind != "undecoded")
        left_out = (f"; {upstream.skipped} exchange(s) left out (no answer, or the target "
                    "could not be reached)" if upstream.skipped else "")
        if upstream.path is None:
            print(f"{upstream.name}: no traffic recorded, no cassette written{left_out}")
            continue
        print(f"{upstream.name}: {upstream.interactions} interaction(s) -> {upstream.path}"
              + (f" (scrubbed: {scrubbed})" if scrubbed else "") + left_out)
        if upstream.scrubbed.get("undecoded"):
            print(f"{upstream.name}: warning: {upstream.scrubbed['undecoded']} response(s) kept "
                  "a content encoding vcrpy cannot decode, so no rule could scrub them; check "
                  "the cassette before sharing it", file=sys.stderr)
    for note in result.notes:
        print(f"readiness record: note: {note}", file=sys.stderr)
    if result.failures:
        print(f"readiness record: {len(result.failures)} of {result.invocations} invocation(s) "
              f"were not answered 2xx, first: {result.failures[0]}", file=sys.stderr)
    return EXIT_READY if any(u.path for u in result.upstreams) else EXIT_NOT_READY


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
