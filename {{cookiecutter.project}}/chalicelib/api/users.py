"""Users REST API."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response, parse_body, parse_id, parse_query
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.users import UserCreate, UserUpdate
from chalicelib.services import users as service

users = ApiBlueprint(__name__)


@users.route("/users", methods=["POST"])
def create_user() -> Response:
    """Register a user: 201 with Location, 409 if the email is taken."""
    user = service.create_user(parse_body(users.current_request, UserCreate))
    return json_response(user, status=201, headers={"Location": f"/users/{user.id}"})


@users.route("/users", methods=["GET"])
def list_users() -> Response:
    """List users a page at a time (?limit=1..100&cursor=<next>)."""
    return json_response(service.list_users(parse_query(users.current_request, PageQuery)))


@users.route("/users/{user_id}", methods=["GET"])
def get_user(user_id: str) -> Response:
    """Return one user."""
    return json_response(service.get_user(parse_id(user_id)))


@users.route("/users/{user_id}", methods=["PATCH"])
def update_user(user_id: str) -> Response:
    """Change a user's name and/or email."""
    user_id = parse_id(user_id)
    return json_response(service.update_user(user_id, parse_body(users.current_request, UserUpdate)))


@users.route("/users/{user_id}", methods=["DELETE"])
def delete_user(user_id: str) -> Response:
    """Delete a user: 204."""
    service.delete_user(parse_id(user_id))
    return json_response(None, status=204)
