"""The local stack's command line, its state directory lock and reset, and saving/restoring its state."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_stack import __main__ as entry
from local_stack.persistence import (
    Snapshot,
    SnapshotUnreadable,
    dump_queues,
    dump_tables,
    load_snapshot,
    moved_urls,
    restore_queues,
    restore_tables,
    rewrite_strings,
    save_snapshot,
)
from local_stack.stack import DEFAULT_AWS_PORT, DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT
from local_stack.state_dir import StateDirInUse, StateDirLock, reset_state_dir
from local_stack.template import ROOT

# -- the command line ---------------------------------------------------------------------------


def test_without_options_or_environment_the_defaults_apply() -> None:
    settings = entry.settings_from(entry.parse_args([], environ={}))
    assert (settings.http_port, settings.https_port, settings.aws_port) == (
        DEFAULT_HTTP_PORT,
        DEFAULT_HTTPS_PORT,
        DEFAULT_AWS_PORT,
    )
    assert settings.local_dir == (ROOT / ".local").resolve()
    assert settings.fresh is False


def test_environment_variables_are_the_defaults_and_options_win(tmp_path: Path) -> None:
    environ = {"PORT": "3100", "HTTPS_PORT": "3101", "AWS_PORT": "3102", "LOCAL_DIR": str(tmp_path / "env"),
               "SQS_CONCURRENCY": "5"}
    from_env = entry.settings_from(entry.parse_args([], environ=environ))
    assert (from_env.http_port, from_env.https_port, from_env.aws_port) == (3100, 3101, 3102)
    assert (from_env.local_dir, from_env.sqs_concurrency) == (tmp_path / "env", 5)

    argv = ["--port", "4100", "--https-port", "0", "--aws-port", "4102", "--state-dir", str(tmp_path / "opt"),
            "--sqs-concurrency", "1", "--fresh"]
    from_args = entry.settings_from(entry.parse_args(argv, environ=environ))
    assert (from_args.http_port, from_args.https_port, from_args.aws_port) == (4100, 0, 4102)
    assert (from_args.local_dir, from_args.sqs_concurrency, from_args.fresh) == (tmp_path / "opt", 1, True)


@pytest.mark.parametrize(
    ("argv", "environ", "named"),
    [
        (["--port", "70000"], {}, "--port"),
        (["--aws-port", "x"], {}, "--aws-port"),
        ([], {"HTTPS_PORT": "-1"}, "--https-port"),
        (["--sqs-concurrency", "0"], {}, "--sqs-concurrency"),
        (["--fresh", "--reset"], {}, "not allowed with"),
        (["--bogus"], {}, "unrecognized arguments"),
    ],
)
def test_bad_options_exit_2_with_a_usage_line_naming_them(
    argv: list[str], environ: dict[str, str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        entry.parse_args(argv, environ=environ)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_help_describes_the_options_and_starts_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "never-created"
    result = subprocess.run(
        [sys.executable, "-m", "local_stack", "--help"],
        cwd=ROOT,
        env={**os.environ, "LOCAL_DIR": str(state_dir), "PORT": "1"},  # port 1 would fail a real start
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--https-port", "--aws-port", "--state-dir", "--fresh", "--reset", "PORT", "LOCAL_DIR"):
        assert option in result.stdout
    assert not state_dir.exists()


# -- the state directory ------------------------------------------------------------------------


def test_a_second_lock_on_a_state_directory_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    first = StateDirLock(tmp_path)
    first.acquire()
    first.describe(pid=4242, api_url="http://127.0.0.1:3100")
    try:
        with pytest.raises(StateDirInUse) as refused:
            StateDirLock(tmp_path).acquire()
        assert "pid 4242" in str(refused.value) and "http://127.0.0.1:3100" in str(refused.value)
        assert str(tmp_path) in str(refused.value)
    finally:
        first.release()
    again = StateDirLock(tmp_path)
    again.acquire()
    again.release()


def test_the_lock_of_a_killed_stack_does_not_block_the_next_start(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from pathlib import Path; from local_stack.state_dir import StateDirLock; "
            "StateDirLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)"
        ), str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StateDirInUse):
            StateDirLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    lock = StateDirLock(tmp_path)
    lock.acquire()
    lock.release()


def make_state(state_dir: Path) -> None:
    for name in ("state.json", "demo-app.key", "stack.json", "outputs.json", "webhooks.jsonl",
                 "provider-requests.jsonl", "provider-reports.jsonl", "tls/cert.pem", "keys/app.key",
                 "logs/ApiFunction.jsonl", "notes.txt"):
        path = state_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_reset_removes_the_saved_state_keys_and_logs_and_keeps_the_certificate(tmp_path: Path) -> None:
    make_state(tmp_path)
    removed = reset_state_dir(tmp_path)
    assert "state.json" in removed and "keys/" in removed and "logs/" in removed
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["notes.txt", "tls/cert.pem"]  # what the stack did not write stays too


def test_reset_is_refused_while_a_stack_runs_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_state(tmp_path)
    running = StateDirLock(tmp_path)
    running.acquire()
    try:
        assert entry.main(["--reset", "--state-dir", str(tmp_path)]) == 1
    finally:
        running.release()
    assert "another local stack is running" in capsys.readouterr().err
    assert (tmp_path / "state.json").exists() and (tmp_path / "keys" / "app.key").exists()

    assert entry.main(["--reset", "--state-dir", str(tmp_path)]) == 0
    assert not (tmp_path / "state.json").exists()
    assert "The next start is fresh" in capsys.readouterr().out


# -- the saved state ----------------------------------------------------------------------------


def test_the_state_file_is_private_and_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    snapshot = Snapshot(saved_at="2026-12-01T10:00:00Z", secrets={"ChannelsSecret": "{}"}, demo={"api_key": "k"},
                        queues={"OutboundQueue": [{"body": "b"}]}, reports=[[{"provider": "sms"}]])
    save_snapshot(path, snapshot)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_snapshot(path) == snapshot
    assert load_snapshot(tmp_path / "missing.json") is None
    assert snapshot.without_work().queues == {} and snapshot.without_work().reports == []
    assert snapshot.without_work().demo == {"api_key": "k"}


@pytest.mark.parametrize("content", ["{not json", '{"version": 99}', "[]"])
def test_an_unusable_state_file_is_refused_with_the_way_out(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state.json"
    path.write_text(content)
    with pytest.raises(SnapshotUnreadable) as refused:
        load_snapshot(path)
    assert "--fresh" in str(refused.value)


def test_moved_urls_are_rewritten_in_every_string_but_not_in_keys() -> None:
    moved = moved_urls({"webhook_sink": "http://127.0.0.1:4000/", "provider_simulators": "http://127.0.0.1:5000/"},
                       {"webhook_sink": "http://127.0.0.1:4100/", "provider_simulators": "http://127.0.0.1:5000/"})
    assert moved == {"http://127.0.0.1:4000/": "http://127.0.0.1:4100/"}
    value = {"http://127.0.0.1:4000/": ["http://127.0.0.1:4000/webhooks/status", "http://127.0.0.1:40001/x", 7]}
    assert rewrite_strings(value, moved) == {
        "http://127.0.0.1:4000/": ["http://127.0.0.1:4100/webhooks/status", "http://127.0.0.1:40001/x", 7]
    }


def test_tables_are_saved_and_restored_item_for_item(aws) -> None:
    dynamodb = aws.client("dynamodb")
    items = [
        {"pk": {"S": "account#a1"}, "status_url": {"S": "http://127.0.0.1:4000/webhooks/status"},
         "blob": {"B": b"\x00\xffbytes"}, "tags": {"SS": ["x", "y"]}, "n": {"N": "12.5"},
         "nested": {"M": {"list": {"L": [{"B": b"\x01"}, {"BOOL": True}, {"NULL": True}]}}}},
        *({"pk": {"S": f"link#sms#{i}"}, "kind": {"S": "link"}} for i in range(30)),
    ]
    for item in items:
        dynamodb.put_item(TableName="AccountsTable", Item=item)

    saved = json.loads(json.dumps(dump_tables(dynamodb, ["AccountsTable", "MessagesTable"])))  # through the file
    assert len(saved["AccountsTable"]) == 31 and saved["MessagesTable"] == []
    for item in items:
        dynamodb.delete_item(TableName="AccountsTable", Key={"pk": item["pk"]})

    restored = restore_tables(dynamodb, saved, {"http://127.0.0.1:4000/": "http://127.0.0.1:4100/"})

    assert restored == {"AccountsTable": 31, "MessagesTable": 0}
    first = dynamodb.get_item(TableName="AccountsTable", Key={"pk": {"S": "account#a1"}})["Item"]
    assert first == {**items[0], "status_url": {"S": "http://127.0.0.1:4100/webhooks/status"}}
    assert dynamodb.scan(TableName="AccountsTable", Select="COUNT")["Count"] == 31


def test_queued_messages_are_saved_with_their_wait_and_receive_count_and_restored_once(aws) -> None:
    sqs = aws.client("sqs")
    url = aws.local.refs["NotifyQueue"]
    sqs.send_message(QueueUrl=url, MessageBody="ready", MessageAttributes={"kind": {"DataType": "String", "StringValue": "k"}})
    sqs.send_message(QueueUrl=url, MessageBody="a timer", DelaySeconds=600)
    sqs.send_message(QueueUrl=url, MessageBody="failed once")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)["Messages"]
    # Put "ready" back at once; "failed once" stays invisible for 300 s, as after a failed batch.
    for message in received:
        if message["Body"] == "ready":
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    now_ms = time.time() * 1000

    saved = json.loads(json.dumps(dump_queues(["NotifyQueue", "OutboundQueue"])))
    by_body = {m["body"]: m for m in saved["NotifyQueue"]}
    assert set(by_body) == {"ready", "a timer", "failed once"} and saved["OutboundQueue"] == []
    assert by_body["a timer"]["available_at_ms"] == pytest.approx(now_ms + 600_000, abs=5_000)
    assert by_body["failed once"]["available_at_ms"] == pytest.approx(now_ms + 300_000, abs=5_000)
    assert (by_body["failed once"]["receive_count"], by_body["a timer"]["receive_count"]) == (1, 0)
    sqs.purge_queue(QueueUrl=url)

    assert restore_queues(sqs, {"NotifyQueue": url}, saved, {}) == 3

    ready = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in ready] == ["ready"]  # the others are still waiting
    assert ready[0]["MessageAttributes"]["kind"]["StringValue"] == "k"
    assert ready[0]["Attributes"]["ApproximateReceiveCount"] == "2"  # its first receive counts too
    waiting = {m["body"]: m for m in dump_queues(["NotifyQueue"])["NotifyQueue"]}
    assert waiting["a timer"]["available_at_ms"] == by_body["a timer"]["available_at_ms"]
    assert waiting["failed once"]["available_at_ms"] == by_body["failed once"]["available_at_ms"]
    assert waiting["failed once"]["receive_count"] == 1
