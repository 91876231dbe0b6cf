"""Uploads REST API: ask for a presigned POST, then follow the upload's status."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.errors import NotFound
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
from chalicelib.schemas.uploads import Upload, UploadCreate, UploadGrant, UploadRequest
{%- else %}
from chalicelib.schemas.uploads import Upload, UploadCreate, UploadGrant
{%- endif %}
from chalicelib.services import uploads as service

uploads = ApiBlueprint(__name__)
{%- if cookiecutter.include_auth == 'y' %}


@uploads.route(
    "/uploads",
    methods=["POST"],
    body=UploadRequest,
    response=UploadGrant,
    status=201,
    errors=(NotFound,),
    location=True,
)
def create_upload(body: UploadRequest, caller: Principal) -> Response:
    """Create a PENDING upload of the caller's: 201 with the presigned POST (url + fields) to send the file with."""
    grant = service.create_upload(UploadCreate(owner_id=caller.user_id, **body.model_dump()))
    return json_response(grant, status=201, headers={"Location": f"/uploads/{grant.id}"})


@uploads.route("/uploads/{upload_id}", methods=["GET"], response=Upload, errors=(NotFound,))
def get_upload(upload_id: str, caller: Principal) -> Response:
    """Return one of the caller's uploads (anyone's for an admin): PENDING, READY, REJECTED or EXPIRED."""
    return json_response(service.read_upload(caller, upload_id))
{%- else %}


@uploads.route(
    "/uploads", methods=["POST"], body=UploadCreate, response=UploadGrant, status=201, errors=(NotFound,), location=True
)
def create_upload(body: UploadCreate) -> Response:
    """Create a PENDING upload: 201 with the presigned POST (url + fields) to send the file with."""
    grant = service.create_upload(body)
    return json_response(grant, status=201, headers={"Location": f"/uploads/{grant.id}"})


@uploads.route("/uploads/{upload_id}", methods=["GET"], response=Upload, errors=(NotFound,))
def get_upload(upload_id: str) -> Response:
    """Return one upload: PENDING, READY (with its content facts), REJECTED (with the reason) or EXPIRED."""
    return json_response(service.get_upload(upload_id))
{%- endif %}
