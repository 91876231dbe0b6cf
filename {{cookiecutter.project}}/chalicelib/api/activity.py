"""A user's activity as the stream recorded it: counters and the latest audit entries."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.schemas.activity import ActivityQuery, UserActivity
from chalicelib.services import activity as service

activity = ApiBlueprint(__name__)


@activity.route("/users/{user_id}/activity", methods=["GET"], query=ActivityQuery, response=UserActivity)
def get_user_activity(user_id: str, query: ActivityQuery) -> Response:
    """Return the user's counters and latest audit entries (?limit=1..100), newest first."""
    return json_response(service.get_user_activity(user_id, query.limit))
