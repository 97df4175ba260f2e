"""Invoking the functions' handlers in-process, with events shaped as API Gateway and SQS build them."""
from __future__ import annotations

import base64
import importlib.util
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_handler_module(function_dir: str) -> ModuleType:
    """Import ``functions/<dir>/app.py`` under a unique name (every function folder has an app.py)."""
    path = ROOT / "functions" / function_dir / "app.py"
    spec = importlib.util.spec_from_file_location(f"fn_{function_dir}_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeLambdaContext:
    function_name: str = "ApiFunction"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    log_group_name: str = "/aws/lambda/ApiFunction"
    log_stream_name: str = "local"
    remaining_ms: int = 10_000  # what get_remaining_time_in_millis answers (a real invocation starts at its Timeout)

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw_body: bytes | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event."""
    hdrs = {"host": "api.example.test", "user-agent": "tests"}
    if body is not None and raw_body is None:
        hdrs["content-type"] = "application/json"
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    if raw_body is None and body is not None:
        raw_body = json.dumps(body).encode()
    is_b64 = False
    text: str | None = None
    if raw_body is not None:
        try:
            text = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(raw_body).decode(), True
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "tests"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


def basic_auth(api_key: str, api_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()
