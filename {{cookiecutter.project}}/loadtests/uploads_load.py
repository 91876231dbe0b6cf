"""Uploads under load: presigned POST, the upload itself, then polling until the file is processed."""

import time
{%- if cookiecutter.include_auth != 'y' %}
import uuid
{%- endif %}
from typing import Any

from chalice_devstack.tooling.locust_support import Tracker, fire, poll, register_section
from locust import HttpUser, between, tag, task

from loadtests.common import {% if cookiecutter.include_auth == 'y' %}WAIT_MAX_S, sign_in{% else %}WAIT_MAX_S{% endif %}
from loadtests.pipeline import UPLOAD_TO_READY, uploads_section

UPLOADS = Tracker()

# A valid 1x1 PNG: the object-created handler checks content by its magic bytes.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
TERMINAL = frozenset({"READY", "REJECTED", "EXPIRED"})


def processed(response: Any) -> dict[str, Any] | None:
    """The upload if the GET answered with a terminal status, else None."""
    if response.status_code != 200:
        return None
    upload: dict[str, Any] = response.json()
    return upload if upload.get("status") in TERMINAL else None


class UploadsUser(HttpUser):
    """Asks for a presigned POST, uploads a small PNG straight to S3, and waits for READY."""

    wait_time = between(0, WAIT_MAX_S)

    def on_start(self) -> None:
        """Report the uploads section only when this user runs; register the user that owns the uploads."""
        register_section("uploads", lambda: uploads_section(UPLOADS.as_dict()))
{%- if cookiecutter.include_auth == 'y' %}
        # POST /uploads needs a signed-in owner with a profile (404 otherwise): one per locust user.
        self.owner_id = sign_in(self.client, "uploader")
{%- else %}
        # POST /uploads needs an owner that exists (404 otherwise): one registered user per locust user.
        body = {"name": "Load Uploader", "email": f"uploader-{uuid.uuid4().hex}@example.com"}
        response = self.client.post("/users", json=body, name="/users [uploads owner]")
        self.owner_id = str(response.json()["id"]) if response.status_code == 201 else str(uuid.uuid4())
{%- endif %}

    @tag("uploads")
    @task
    def upload_and_follow(self) -> None:
        """POST /uploads, POST the file to the presigned URL, poll GET /uploads/{id}."""
        started = time.perf_counter()
{%- if cookiecutter.include_auth == 'y' %}
        request = {"filename": "load.png", "content_type": "image/png", "size": len(PNG)}
{%- else %}
        request = {"owner_id": self.owner_id, "filename": "load.png", "content_type": "image/png", "size": len(PNG)}
{%- endif %}
        with self.client.post("/uploads", json=request, name="/uploads", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"presign: {response.status_code} {response.text[:200]}")
                return
            grant: dict[str, Any] = response.json()
        upload_id = str(grant["id"])
        files = {"file": ("load.png", PNG, "image/png")}
{%- if cookiecutter.include_auth == 'y' %}
        # The signed policy in the fields is the upload's authorization: the API's token must not go to S3.
        with self.client.post(
            grant["url"],
            data=grant["fields"],
            files=files,
            headers={"Authorization": None},
            name="S3 presigned POST",
            catch_response=True,
        ) as response:
{%- else %}
        with self.client.post(
            grant["url"], data=grant["fields"], files=files, name="S3 presigned POST", catch_response=True
        ) as response:
{%- endif %}
            if response.status_code not in (200, 201, 204):
                response.failure(f"S3 upload: {response.status_code} {response.text[:200]}")
                return
        UPLOADS.start(upload_id, started)
        upload = poll(lambda: processed(self.client.get(f"/uploads/{upload_id}", name="/uploads/{id} [poll]")))
        if upload is None:
            UPLOADS.give_up(upload_id)
            fire(*UPLOAD_TO_READY, started, TimeoutError("upload not processed in time"))
            return
        UPLOADS.finish(upload_id, upload["status"])
        error = None if upload["status"] == "READY" else AssertionError(f"a valid PNG ended {upload['status']}")
        fire(*UPLOAD_TO_READY, started, error)
