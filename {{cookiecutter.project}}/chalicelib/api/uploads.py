"""Uploads REST API: ask for a presigned POST, then follow the upload's status."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response, parse_body, parse_id
from chalicelib.schemas.uploads import UploadCreate
from chalicelib.services import uploads as service

uploads = ApiBlueprint(__name__)


@uploads.route("/uploads", methods=["POST"])
def create_upload() -> Response:
    """Create a PENDING upload: 201 with the presigned POST (url + fields) to send the file with."""
    grant = service.create_upload(parse_body(uploads.current_request, UploadCreate))
    return json_response(grant, status=201, headers={"Location": f"/uploads/{grant.id}"})


@uploads.route("/uploads/{upload_id}", methods=["GET"])
def get_upload(upload_id: str) -> Response:
    """Return one upload: PENDING, READY (with its content facts), REJECTED (with the reason) or EXPIRED."""
    return json_response(service.get_upload(parse_id(upload_id)))
