"""GET /health: liveness of the API function."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint
from chalicelib.config import get_settings

health = ApiBlueprint(__name__)


@health.route("/health", methods=["GET"])
def get_health() -> Response:
    """Answer 200 with the service name and stage."""
    settings = get_settings()
    return Response(body={"status": "ok", "service": settings.service_name, "stage": settings.stage})
