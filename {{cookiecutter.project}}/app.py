"""Chalice entry point: creates the app and registers the blueprints."""

from chalice.app import Chalice

{% if cookiecutter.include_stream == 'y' -%}
from chalicelib.api.activity import activity
{% endif -%}
from chalicelib.api.health import health
{%- if cookiecutter.include_orders == 'y' %}
from chalicelib.api.orders import orders
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.api.product_admin import product_admin
{%- endif %}
from chalicelib.api.products import products
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
from chalicelib.api.uploads import uploads
{%- endif %}
from chalicelib.api.users import users
from chalicelib.config import get_settings
{%- if cookiecutter.include_orders == 'y' %}
from chalicelib.events.orders_queue import orders_queue
{%- endif %}
{%- if cookiecutter.include_schedule == 'y' %}
from chalicelib.events.schedules import schedules
{%- endif %}
{%- if cookiecutter.include_stream == 'y' %}
from chalicelib.events.stream import stream
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
from chalicelib.events.uploads_events import uploads_events
{%- endif %}
from chalicelib.middleware import middleware
{%- if cookiecutter.include_orders == 'y' %}
from chalicelib.saga.order_saga import order_saga
{%- endif %}

app = Chalice(app_name=get_settings().service_name)
app.register_blueprint(middleware)
app.register_blueprint(health)
app.register_blueprint(users)
{%- if cookiecutter.include_stream == 'y' %}
app.register_blueprint(activity)
app.register_blueprint(stream)
{%- endif %}
{%- if cookiecutter.include_schedule == 'y' %}
app.register_blueprint(schedules)
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}
app.register_blueprint(orders)
app.register_blueprint(products)
{%- if cookiecutter.include_auth == 'y' %}
app.register_blueprint(product_admin)
{%- endif %}
app.register_blueprint(orders_queue)
app.register_blueprint(order_saga)
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
app.register_blueprint(uploads)
app.register_blueprint(uploads_events)
{%- endif %}
