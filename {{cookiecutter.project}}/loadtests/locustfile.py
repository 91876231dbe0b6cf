"""Locust entry point: one user class per pattern of this service.

Pick patterns by class name or tag, e.g. `make load CLASSES=UsersUser` or `make load TAGS=read`.
Without either, every class runs with its weight. The classes live in one module per
pattern so a pattern switched off at generation leaves nothing behind here.
"""
{% if cookiecutter.include_orders == 'y' %}
from loadtests.orders_load import OrdersUser, QueueFloodUser
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
from loadtests.uploads_load import UploadsUser
{%- endif %}
from loadtests.users_load import UsersUser

__all__ = [
{%- if cookiecutter.include_orders == 'y' %}
    "OrdersUser",
    "QueueFloodUser",
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
    "UploadsUser",
{%- endif %}
    "UsersUser",
]
