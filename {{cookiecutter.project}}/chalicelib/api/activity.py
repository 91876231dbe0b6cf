"""A user's activity as the stream recorded it: counters and the latest audit entries."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.errors import NotFound
{%- endif %}
from chalicelib.schemas.activity import ActivityQuery, UserActivity
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
{%- endif %}
from chalicelib.services import activity as service

activity = ApiBlueprint(__name__)

{% if cookiecutter.include_auth == 'y' %}
@activity.route(
    "/users/{user_id}/activity", methods=["GET"], query=ActivityQuery, response=UserActivity, errors=(NotFound,)
)
def get_user_activity(user_id: str, query: ActivityQuery, caller: Principal) -> Response:
    """Return the user's counters and latest audit entries (?limit=1..100), newest first (the caller's; any: admins)."""
    return json_response(service.read_user_activity(caller, user_id, query.limit))
{%- else %}
@activity.route("/users/{user_id}/activity", methods=["GET"], query=ActivityQuery, response=UserActivity)
def get_user_activity(user_id: str, query: ActivityQuery) -> Response:
    """Return the user's counters and latest audit entries (?limit=1..100), newest first."""
    return json_response(service.get_user_activity(user_id, query.limit))
{%- endif %}
