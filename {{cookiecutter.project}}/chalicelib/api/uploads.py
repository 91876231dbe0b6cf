"""Uploads REST API: ask for a presigned POST, then follow the upload's status."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.errors import NotFound
from chalicelib.schemas.uploads import Upload, UploadCreate, UploadGrant
from chalicelib.services import uploads as service

uploads = ApiBlueprint(__name__)


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
