"""``switchboard dlq ...``: what landed in the stack's dead-letter queues, and moving it back.

    switchboard dlq list [--queue NAME [--max N]] [--json]
    switchboard dlq redrive [--queue NAME] [--max N] [--method auto|native|copy] [--json]

The DLQs are found from the stack's outputs (``.local/outputs.json``, or ``describe-stacks`` with
``--stack-name``): every queue there whose redrive policy names a dead-letter queue
(``switchboard.adapters.sqs.dead_letters``). ``list`` shows each DLQ's depth, and with ``--queue``
its messages (id, receive count, when sent and first received, what it is about), without removing
them. ``redrive`` moves messages back to the queue they came from: on AWS with SQS's
``StartMessageMoveTask`` (asynchronous, every message), on the local stack (moto has no move task)
and with ``--max`` by receive, send, then delete, one message at a time.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DEFAULT_LIST_MAX = 10
METHODS = ("auto", "native", "copy")
OUTPUTS_FILE = "outputs.json"  # in the local stack's state directory


class DlqError(ValueError):
    """A problem the CLI reports as one ``switchboard: error: ...`` line (exit status 1)."""


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parser(commands: Any, target: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    """The ``dlq`` group under the CLI's ``commands``; ``target`` holds --local-dir/--stack-name/--region."""
    dlq = commands.add_parser("dlq", help="dead-letter queues: list what failed, move it back after fixing the cause")
    dlq_cmds = dlq.add_subparsers(dest="command", required=True, metavar="{list,redrive}", parser_class=parser_class)
    options = parser_class(add_help=False)
    options.add_argument(
        "--queue", metavar="NAME",
        help="one DLQ, by the name `dlq list` shows (e.g. NotifyDLQ), its SQS name or its source queue's name",
    )
    options.add_argument("--json", action="store_true", help="print JSON")
    listing = dlq_cmds.add_parser(
        "list", parents=[target, options],
        help="each DLQ's depth; with --queue also its messages, which stay in the queue",
    )
    listing.add_argument(
        "--max", type=positive, metavar="N", default=DEFAULT_LIST_MAX,
        help=f"with --queue: at most N messages (default {DEFAULT_LIST_MAX})",
    )
    redrive = dlq_cmds.add_parser(
        "redrive", parents=[target, options], help="move DLQ messages back to the queue they came from",
    )
    redrive.add_argument("--max", type=positive, metavar="N", help="move at most N messages per DLQ (copy method)")
    redrive.add_argument(
        "--method", choices=METHODS, default="auto",
        help="native: SQS StartMessageMoveTask; copy: receive, send, delete; auto (default): native on AWS "
        "unless --max is given, copy where the endpoint has no move task (the local stack)",
    )


def run(args: argparse.Namespace, target: Any) -> str:
    """The command's output; prints the report and raises ``DlqError`` when some message was not moved."""
    from switchboard.adapters import aws_clients
    from switchboard.adapters.sqs import dead_letters

    client = aws_clients.client("sqs")
    every_dlq = dead_letters.find_dead_letter_queues(client, stack_outputs(target))
    if not every_dlq:
        raise DlqError("the stack's outputs name no queue with a dead-letter queue")
    queues = [q for q in every_dlq if q.matches(args.queue)] if args.queue else every_dlq
    if not queues:
        known = ", ".join(q.name for q in every_dlq)
        raise DlqError(f"no dead-letter queue {args.queue!r}; the stack has {known}")
    if args.command == "list":
        return _list(args, client, queues)
    method = args.method
    if target.endpoint_url and method != "copy":  # the local stack: moto implements no StartMessageMoveTask
        if method == "native":
            raise DlqError("the local stack (moto) has no StartMessageMoveTask; use --method copy (or auto)")
        method = "copy"
    try:
        reports = [dead_letters.move_back(client, q, args.max, method) for q in queues]
    except (ValueError, dead_letters.MoveTaskUnsupported) as exc:
        raise DlqError(str(exc)) from None
    output = json.dumps({"redriven": [r.to_dict() for r in reports]}, indent=2) if args.json else _redrive_text(reports, queues)
    not_moved = sum(r.failed for r in reports)
    if not_moved:
        print(output)
        raise DlqError(f"{not_moved} message(s) could not be sent back and stay in the dead-letter queue")
    return output


def stack_outputs(target: Any) -> dict[str, str]:
    """The stack's outputs: the local stack's ``outputs.json``, or ``describe-stacks`` of ``--stack-name``."""
    if target.local_dir is not None:
        path = Path(target.local_dir) / OUTPUTS_FILE
        try:
            outputs = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DlqError(f"cannot read {path}: {exc}") from None
        return {k: v for k, v in outputs.items() if isinstance(v, str)} if isinstance(outputs, dict) else {}
    import boto3

    try:
        stacks = boto3.session.Session().client("cloudformation").describe_stacks(StackName=target.stack_name)["Stacks"]
    except Exception as exc:
        raise DlqError(f"stack {target.stack_name}: {exc}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs") or [])} if stacks else {}


def _list(args: argparse.Namespace, client: Any, queues: list[Any]) -> str:
    from switchboard.adapters.sqs import dead_letters

    rows: list[dict[str, Any]] = []
    for queue in queues:
        row: dict[str, Any] = {
            "queue": queue.name,
            "source": queue.source_name,
            "max_receive_count": queue.max_receive_count,
            **dead_letters.depth(client, queue),
        }
        if args.queue:
            row["messages"] = [m.to_dict() for m in dead_letters.peek(client, queue, args.max)]
        rows.append(row)
    if args.json:
        return json.dumps({"dead_letter_queues": rows}, indent=2)
    return _list_text(rows)


def _list_text(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'DLQ':<24} {'source':<24} {'visible':>8} {'in flight':>10} {'delayed':>8}"]
    for row in rows:
        lines.append(
            f"{row['queue']:<24} {row['source']:<24} {row['visible']:>8} {row['in_flight']:>10} {row['delayed']:>8}"
        )
    for row in rows:
        if "messages" not in row:
            continue
        lines.append("")
        lines.append(f"{row['queue']}: {len(row['messages'])} message(s) shown, left in the queue")
        for message in row["messages"]:
            about = " ".join(f"{k}={v}" for k, v in message["summary"].items())
            lines.append(
                f"  {message['message_id']}  receives={message['receive_count']}  sent={message['sent_at']}  "
                f"first_received={message['first_received_at']}  {about}"
            )
    return "\n".join(lines)


def _redrive_text(reports: list[Any], queues: list[Any]) -> str:
    sources = {q.name: q.source_name for q in queues}
    lines = []
    for report in reports:
        where = f"{report.queue} -> {sources[report.queue]}"
        if report.method == "native":
            lines.append(
                f"{where}: move task started ({report.approximate_messages} message(s) waiting), task {report.task_handle}"
            )
        else:
            line = f"{where}: moved {report.moved}"
            if report.failed:
                line += f", {report.failed} not sent (still in the DLQ)"
            if report.left_twice:
                line += f", {report.left_twice} sent but not deleted (also still in the DLQ)"
            lines.append(line)
        lines.extend(f"  {error}" for error in report.errors)
    return "\n".join(lines)
