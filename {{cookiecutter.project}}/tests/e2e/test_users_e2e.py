"""Users end to end: the API served by devstack writes the table devstack provisioned."""

from chalice_devstack.testing import Devstack

from chalicelib.config import get_settings
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import sign_up
{%- endif %}


def test_created_user_is_stored_in_the_provisioned_table(devstack: Devstack) -> None:
    # Given: the devstack API
    # When: a user is created over HTTP
{%- if cookiecutter.include_auth == 'y' %}
    reply, _ = sign_up(devstack, "Ada Lovelace", "ada.e2e@example.com")

    # Then: the API answers 200 and the item is in the service table on the AWS endpoint
    assert reply.status == 200, reply.body
{%- else %}
    reply = devstack.api("POST", "/users", {"name": "Ada Lovelace", "email": "ada.e2e@example.com"})

    # Then: the API answers 201 and the item is in the service table on the AWS endpoint
    assert reply.status == 201, reply.body
{%- endif %}
    user_id = reply.body["id"]
    item = devstack.client("dynamodb").get_item(
        TableName=get_settings().service_table, Key={"pk": {"S": f"USER#{user_id}"}, "sk": {"S": "PROFILE"}}
    )
    assert item["Item"]["email"]["S"] == "ada.e2e@example.com"
    assert devstack.api("GET", f"/users/{user_id}").body["name"] == "Ada Lovelace"


def test_bad_input_is_a_json_error_naming_the_field(devstack: Devstack) -> None:
    # Given / When
{%- if cookiecutter.include_auth == 'y' %}
    reply, _ = sign_up(devstack, "X", "not-an-email")
{%- else %}
    reply = devstack.api("POST", "/users", {"name": "X", "email": "not-an-email"})
{%- endif %}

    # Then
    assert reply.status == 422
    assert "email" in [detail["field"] for detail in reply.body["error"]["details"]]
