"""Uploads end to end on devstack: presigned POST, an HTTP upload to the endpoint, the S3 -> SQS -> Lambda check."""

import uuid
from typing import Any

from chalice_devstack.testing import Devstack

from chalicelib.config import get_settings
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import sign_up
{%- endif %}
from tests.upload_samples import pdf, png, post_form


def request_upload(devstack: Devstack, content_type: str, size: int) -> dict[str, Any]:
    """Given: a registered user and a PENDING upload with its presigned POST."""
{%- if cookiecutter.include_auth == 'y' %}
    user, caller = sign_up(devstack, "Ada", f"ada.{uuid.uuid4().hex[:8]}@example.com")
    assert user.status == 200, user.body
    body = {"filename": "upload", "content_type": content_type, "size": size}
    reply = devstack.api("POST", "/uploads", body, caller)
{%- else %}
    user = devstack.api("POST", "/users", {"name": "Ada", "email": f"ada.{uuid.uuid4().hex[:8]}@example.com"})
    assert user.status == 201, user.body
    body = {"owner_id": user.body["id"], "filename": "upload", "content_type": content_type, "size": size}
    reply = devstack.api("POST", "/uploads", body)
{%- endif %}
    assert reply.status == 201, reply.body
    grant: dict[str, Any] = reply.body
    # The presigned POST points at the devstack endpoint, path-style (boto3 does this for a custom endpoint).
    assert grant["url"] == f"{devstack.endpoint_url}/{get_settings().uploads_bucket}"
    return grant


def wait_finished(devstack: Devstack, upload_id: str) -> dict[str, Any]:
    """Poll GET /uploads/{id} until the upload has left PENDING; return it."""

    def finished() -> dict[str, Any] | None:
        reply = devstack.api("GET", f"/uploads/{upload_id}")
        assert reply.status == 200, reply.body
        upload: dict[str, Any] = reply.body
        return upload if upload["status"] != "PENDING" else None

    result = devstack.wait_until(finished, timeout=20)
    assert result is not None
    return result


def test_upload_a_real_png_becomes_ready(devstack: Devstack) -> None:
    # Given
    data = png(32, 24)
    grant = request_upload(devstack, "image/png", len(data))
    # When: the client uploads straight to the bucket with the presigned POST
    assert post_form(grant["url"], grant["fields"], "photo.png", data, "image/png") in (200, 201, 204)
    # Then: S3 -> SQS -> process_uploads checks it and marks it READY with what it found
    upload = wait_finished(devstack, grant["id"])
    assert upload["status"] == "READY", upload
    assert (upload["content"]["content_type"], upload["content"]["width"], upload["content"]["height"]) == (
        "image/png",
        32,
        24,
    )
    head = devstack.client("s3").head_object(Bucket=get_settings().uploads_bucket, Key=grant["key"])
    assert head["ContentLength"] == len(data)


def test_upload_a_pdf_declared_as_png_is_rejected_and_quarantined(devstack: Devstack) -> None:
    # Given: a PDF whose client says it is a PNG (and sends the PNG content type the policy demands)
    data = pdf()
    grant = request_upload(devstack, "image/png", len(data))
    # When
    assert post_form(grant["url"], grant["fields"], "photo.png", data, "image/png") in (200, 201, 204)
    # Then
    upload = wait_finished(devstack, grant["id"])
    assert upload["status"] == "REJECTED", upload
    assert upload["reason"] == "content is application/pdf, declared image/png"
    s3 = devstack.client("s3")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=get_settings().uploads_bucket).get("Contents", [])]
    assert f"quarantine/{grant['key']}" in keys and grant["key"] not in keys


def test_upload_over_the_limit_is_rejected_by_the_handler_even_if_the_endpoint_takes_it(devstack: Devstack) -> None:
    # Given: a PNG padded past the limit. AWS refuses it at the POST (content-length-range in the
    # signed policy); moto does not check POST policies, so the handler's own size check must.
    data = png() + b"\0" * get_settings().upload_max_bytes
    grant = request_upload(devstack, "image/png", len(png()))
    # When: the endpoint stores it (AWS would answer 403 here)
    assert post_form(grant["url"], grant["fields"], "photo.png", data, "image/png") in (200, 201, 204)
    # Then: the object-created check refuses it all the same
    upload = wait_finished(devstack, grant["id"])
    assert upload["status"] == "REJECTED", upload
    assert upload["reason"] == f"file is {len(data)} bytes, over the {get_settings().upload_max_bytes}-byte limit"
