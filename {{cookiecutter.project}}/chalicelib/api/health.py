"""GET /health: liveness of the API function."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.config import get_settings
from chalicelib.schemas.common import Health

health = ApiBlueprint(__name__)


@health.route("/health", methods=["GET"], response=Health{% if cookiecutter.include_auth == 'y' %}, public=True{% endif %})
def get_health() -> Response:
    """Answer 200 with the service name and stage."""
    settings = get_settings()
    return json_response(Health(status="ok", service=settings.service_name, stage=settings.stage))
