"""One Lambda invocation in this fresh interpreter, run by path: ``python -I -S lambda_runner.py <request.json>``.

The request names the function folder, the layer's ``python/`` folder, the handler and the event.
As the Lambda Python runtime does, the function folder then the layer go first on ``sys.path``;
``-I -S`` leaves only the standard library after them. Before anything is imported, ``sys.path`` is
checked to hold nothing else; after the invocation, every loaded module is checked to come from
one of those places. The report (JSON, on stdout) gives both checks, the handler's result or its
traceback, and where boto3 and botocore were loaded from.

Only the standard library may be imported here, before ``sys.path`` is set.
"""
import importlib
import json
import os
import sys
import time
import traceback
import uuid

# Where these were loaded from (``None``: not loaded).
REPORTED_MODULES = ("boto3", "botocore", "aws_xray_sdk", "aws_xray_sdk.core", "switchboard")


class LambdaContext:
    """What the Python runtime passes as ``context``."""

    def __init__(self, function_name, memory_mb, timeout_seconds):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "artifact"
        self.identity = None
        self.client_context = None
        self._deadline = time.time() + timeout_seconds

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def _under(path, roots):
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def standard_library_dirs(entries):
    """The entries of ``entries`` that hold the base installation's standard library (not its site-packages)."""
    bases = {os.path.abspath(sys.base_prefix), os.path.abspath(sys.base_exec_prefix)}
    return [
        os.path.abspath(p) for p in entries if p and _under(os.path.abspath(p), bases) and "site-packages" not in p
    ]


def foreign_modules(code_roots, stdlib):
    """Loaded modules from neither ``code_roots`` nor the standard library (this runner aside).

    A module under a ``site-packages`` folder of the installation is foreign too: only the layer
    may bring third-party packages.
    """
    foreign = {}
    runner = os.path.abspath(__file__)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or os.path.abspath(file) == runner:
            continue
        path = os.path.abspath(file)
        if _under(path, code_roots) or (_under(path, stdlib) and "site-packages" not in path):
            continue
        foreign[name] = file
    return foreign


def module_file(name):
    module = sys.modules.get(name)
    return getattr(module, "__file__", None) if module else None


def main(request_path):
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    code_dir, layer_dir = os.path.abspath(request["code_dir"]), os.path.abspath(request["layer_dir"])
    stdlib = standard_library_dirs(sys.path)
    sys.path[:0] = [code_dir, layer_dir]
    allowed = {code_dir, layer_dir, *stdlib}
    report = {
        "sys_path": list(sys.path),
        "foreign_path_entries": [p for p in sys.path if os.path.abspath(p) not in allowed],
    }
    module_name, _, attribute = request["handler"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), attribute)
        context = LambdaContext(request["function_name"], request["memory_mb"], request["timeout_seconds"])
        report["result"] = json.loads(json.dumps(handler(request["event"], context), default=float))
    except BaseException:  # noqa: BLE001 - reported to the caller, as Lambda reports an invocation error
        report["error"] = traceback.format_exc()
    report["foreign_modules"] = foreign_modules([code_dir, layer_dir], stdlib)
    report["modules"] = {name: module_file(name) for name in REPORTED_MODULES}
    sys.stdout.write("\nREPORT " + json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
