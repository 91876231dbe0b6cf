"""Users REST API."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.schemas.auth import Principal
{%- else %}
from chalicelib.errors import Conflict, NotFound
{%- endif %}
from chalicelib.schemas.common import Page, PageQuery
from chalicelib.schemas.users import User, UserCreate, UserUpdate
from chalicelib.services import users as service

users = ApiBlueprint(__name__)
{%- if cookiecutter.include_auth == 'y' %}


@users.route("/users/me", methods=["PUT"], body=UserCreate, response=User, errors=(Conflict,))
def save_my_profile(body: UserCreate, caller: Principal) -> Response:
    """Create or replace the caller's profile (safe to repeat); 409 if another user has the email."""
    return json_response(service.save_profile(caller, body))


@users.route("/users/me", methods=["GET"], response=User, errors=(NotFound,))
def get_my_profile(caller: Principal) -> Response:
    """Return the caller's profile (404 until PUT /users/me created it)."""
    return json_response(service.get_user(caller, caller.user_id))


@users.route("/users", methods=["GET"], query=PageQuery, response=Page[User], errors=(Forbidden,))
def list_users(query: PageQuery, caller: Principal) -> Response:
    """List users a page at a time (?limit=1..100&cursor=<next>); admins only."""
    return json_response(service.list_users(caller, query))


@users.route("/users/{user_id}", methods=["GET"], response=User, errors=(NotFound,))
def get_user(user_id: str, caller: Principal) -> Response:
    """Return one user: the caller, or anyone for an admin (404 otherwise)."""
    return json_response(service.get_user(caller, user_id))


@users.route("/users/{user_id}", methods=["PATCH"], body=UserUpdate, response=User, errors=(NotFound, Conflict))
def update_user(user_id: str, body: UserUpdate, caller: Principal) -> Response:
    """Change the caller's name and/or email."""
    return json_response(service.update_user(caller, user_id, body))


@users.route("/users/{user_id}", methods=["DELETE"], status=204, errors=(NotFound,))
def delete_user(user_id: str, caller: Principal) -> Response:
    """Delete the caller's profile: 204."""
    service.delete_user(caller, user_id)
    return json_response(None, status=204)
{%- else %}


@users.route("/users", methods=["POST"], body=UserCreate, response=User, status=201, errors=(Conflict,), location=True)
def create_user(body: UserCreate) -> Response:
    """Register a user: 201 with Location, 409 if the email is taken."""
    user = service.create_user(body)
    return json_response(user, status=201, headers={"Location": f"/users/{user.id}"})


@users.route("/users", methods=["GET"], query=PageQuery, response=Page[User])
def list_users(query: PageQuery) -> Response:
    """List users a page at a time (?limit=1..100&cursor=<next>)."""
    return json_response(service.list_users(query))


@users.route("/users/{user_id}", methods=["GET"], response=User, errors=(NotFound,))
def get_user(user_id: str) -> Response:
    """Return one user."""
    return json_response(service.get_user(user_id))


@users.route("/users/{user_id}", methods=["PATCH"], body=UserUpdate, response=User, errors=(NotFound, Conflict))
def update_user(user_id: str, body: UserUpdate) -> Response:
    """Change a user's name and/or email."""
    return json_response(service.update_user(user_id, body))


@users.route("/users/{user_id}", methods=["DELETE"], status=204, errors=(NotFound,))
def delete_user(user_id: str) -> Response:
    """Delete a user: 204."""
    service.delete_user(user_id)
    return json_response(None, status=204)
{%- endif %}
