"""``python -m local_stack``: run the local stack in the foreground until Ctrl-C (SIGINT) or SIGTERM.

``--help`` lists the options; each has an environment variable as its default (``PORT``,
``HTTPS_PORT``, ``AWS_PORT``, ``LOCAL_DIR``, ``SQS_CONCURRENCY``, ``HTTP_INSTANCES``), which is how ``make run`` and
the test fixtures configure it.
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from local_stack.banner import banner
from local_stack.terminal_log import ConsoleRouter, ShortFormatter
from local_stack.event_sources import DEFAULT_CONCURRENCY
from local_stack.persistence import SnapshotUnreadable
from local_stack.stack import (
    DEFAULT_AWS_PORT,
    DEFAULT_HTTP_INSTANCES,
    DEFAULT_HTTP_PORT,
    DEFAULT_HTTPS_PORT,
    LocalStack,
    StackSettings,
)
from local_stack.state_dir import LOGS_DIR, StateDirInUse, StateDirLock, reset_state_dir
from local_stack.template import ROOT

logger = logging.getLogger("local_stack")

PROG = "python -m local_stack"
DEFAULT_STATE_DIR = ROOT / ".local"
SIGNAL_CHECK_SECONDS = 0.2


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0-65535; 0: any free port)")
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def build_parser(environ: Mapping[str, str] = os.environ) -> argparse.ArgumentParser:
    """The options; each default comes from its environment variable, else the built-in value."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Run Switchboard's local stack in the foreground: moto (DynamoDB, SQS, Secrets Manager), the "
            "template's functions behind its HTTP API, the SQS pollers, provider simulators and a webhook "
            "sink. The state (accounts, applications, messages, workflows, queued work) is saved in the "
            "state directory when the stack stops (Ctrl-C) and restored when it starts."
        ),
        epilog=(
            "Each option's default is its environment variable when set (shown in brackets). "
            "`make run ARGS='--port 3100'` passes options through make."
        ),
    )
    parser.add_argument(
        "--port", type=_port, default=environ.get("PORT") or DEFAULT_HTTP_PORT, metavar="PORT",
        help=f"the API over HTTP on 127.0.0.1 [PORT, default {DEFAULT_HTTP_PORT}; 0: any free port]",
    )
    parser.add_argument(
        "--https-port", type=_port, default=environ.get("HTTPS_PORT") or DEFAULT_HTTPS_PORT, metavar="PORT",
        help=f"the API over HTTPS, for the official SDKs [HTTPS_PORT, default {DEFAULT_HTTPS_PORT}]",
    )
    parser.add_argument(
        "--aws-port", type=_port, default=environ.get("AWS_PORT") or DEFAULT_AWS_PORT, metavar="PORT",
        help=f"moto, the local AWS endpoint [AWS_PORT, default {DEFAULT_AWS_PORT}]",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=environ.get("LOCAL_DIR") or DEFAULT_STATE_DIR, metavar="DIR",
        help="where stack.json, keys, logs and the saved state live [LOCAL_DIR, default .local in the repository]",
    )
    parser.add_argument(
        "--sqs-concurrency", type=_positive, default=environ.get("SQS_CONCURRENCY") or DEFAULT_CONCURRENCY,
        metavar="N",
        help=(
            "batches each SQS poller runs at once, as Lambda's concurrency "
            f"[SQS_CONCURRENCY, default {DEFAULT_CONCURRENCY}]"
        ),
    )
    parser.add_argument(
        "--http-instances", type=_positive, default=environ.get("HTTP_INSTANCES") or DEFAULT_HTTP_INSTANCES,
        metavar="N",
        help=(
            "most instances (worker processes) each HTTP-invoked function runs at once "
            f"[HTTP_INSTANCES, default {DEFAULT_HTTP_INSTANCES}]"
        ),
    )
    clean = parser.add_mutually_exclusive_group()
    clean.add_argument(
        "--fresh", action="store_true",
        help="start from a clean slate: remove the saved state (new demo credentials, no messages) first",
    )
    clean.add_argument(
        "--reset", action="store_true",
        help="remove the saved state and exit without starting (`make reset`)",
    )
    return parser


def settings_from(args: argparse.Namespace) -> StackSettings:
    return StackSettings(
        local_dir=Path(args.state_dir).resolve(),
        http_port=int(args.port),
        https_port=int(args.https_port),
        aws_port=int(args.aws_port),
        sqs_concurrency=int(args.sqs_concurrency),
        http_instances=int(args.http_instances),
        fresh=bool(args.fresh),
    )


def parse_args(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> argparse.Namespace:
    """The parsed options; ``SystemExit(2)`` and a usage line for a bad option or environment value
    (argparse checks string defaults with the option's ``type`` too)."""
    return build_parser(environ).parse_args(argv)


def reset(state_dir: Path) -> int:
    lock = StateDirLock(state_dir)
    try:
        lock.acquire()
    except StateDirInUse as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    try:
        removed = reset_state_dir(state_dir)
    finally:
        lock.release()
    if removed:
        print(f"Removed the saved local state from {state_dir}: {', '.join(removed)}. The next start is fresh.")
    else:
        print(f"Nothing saved in {state_dir}: the next start is fresh.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    if args.reset:
        return reset(settings.local_dir)

    console = ConsoleRouter(sys.stdout, settings.local_dir / LOGS_DIR)
    sys.stdout = console  # the functions' JSON log lines: one short line here, all of it in logs/
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(ShortFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[terminal])
    # botocore announces at INFO where it found credentials and endpoints, for every client;
    # urllib3 warns each time a busy boto3 client drops a spare connection.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop_requested.is_set():
            print("\nStopped at once: the state was not saved.", file=sys.stderr, flush=True)
            os._exit(1)
        stop_requested.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack: for a stack that hangs

    stack = LocalStack(settings)
    try:
        info = stack.start()
    except (StateDirInUse, SnapshotUnreadable) as exc:
        logger.error("the local stack could not start: %s", exc)
        return 1
    except OSError as exc:
        logger.error(
            "the local stack could not start: %s (free ports: --port, --https-port and --aws-port, or PORT, "
            "HTTPS_PORT and AWS_PORT)",
            exc,
        )
        return 1
    except Exception:
        logger.exception("the local stack could not start")
        return 1

    from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER, DEMO_SMS_SENDER_ID, DEMO_VIBER_SERVICE_ID

    channel_ids = {  # the demo account's senders: only it may send from them
        "messenger page id": DEMO_PAGE_ID,
        "viber service id": DEMO_VIBER_SERVICE_ID,
        "sms number": DEMO_SMS_NUMBER,
        "sms sender id": DEMO_SMS_SENDER_ID,
    }
    console.name_services(stack.services)
    print(banner(info, stack.urls, channel_ids, stack.state), flush=True)
    # With a timeout: a signal the kernel hands to another thread only runs its handler once the main
    # thread runs Python code again, which a wait without timeout would never let it do.
    while not stop_requested.wait(SIGNAL_CHECK_SECONDS):
        pass
    logger.info("stopping: finishing the work under way, then saving the state (Ctrl-C again: stop at once)")
    stack.stop()
    logger.info("stopped; the state is saved in %s", settings.local_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
