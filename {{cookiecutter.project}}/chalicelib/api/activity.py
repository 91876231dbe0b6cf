"""A user's activity as the stream recorded it: counters and the latest audit entries."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response, parse_id, parse_query
from chalicelib.schemas.activity import ActivityQuery
from chalicelib.services import activity as service

activity = ApiBlueprint(__name__)


@activity.route("/users/{user_id}/activity", methods=["GET"])
def get_user_activity(user_id: str) -> Response:
    """Return the user's counters and latest audit entries (?limit=1..100), newest first."""
    query = parse_query(activity.current_request, ActivityQuery)
    return json_response(service.get_user_activity(parse_id(user_id), query.limit))
