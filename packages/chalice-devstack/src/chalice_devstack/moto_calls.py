"""Requests to moto's WSGI app made inside the endpoint process (no socket), shaped like a signed SDK call."""

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import Client, TestResponse

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def call(
    aws: WSGIApp, region: str, signing_name: str, target: str | None = None, body: str = "", json_version: str = "1.0"
) -> TestResponse:
    """POST body (or GET / without one) to moto as service signing_name; moto reads the service and region
    from the Authorization header's credential scope, not from the signature."""
    scope = f"devstack/20260101/{region}/{signing_name}/aws4_request"
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"}
    if target:
        headers.update({"X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{json_version}"})
    elif body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return Client(aws).open(
        "/", base_url="http://127.0.0.1", method="POST" if body else "GET", headers=headers, data=body
    )
