"""Chalice entry point: creates the app and registers the blueprints."""

from chalice.app import Chalice

from chalicelib.api.health import health
from chalicelib.api.middleware import middleware
{%- if cookiecutter.include_uploads == 'y' %}
from chalicelib.api.uploads import uploads
{%- endif %}
from chalicelib.api.users import users
from chalicelib.config import get_settings
{%- if cookiecutter.include_uploads == 'y' %}
from chalicelib.events.uploads_events import uploads_events
{%- endif %}

app = Chalice(app_name=get_settings().service_name)
app.register_blueprint(middleware)
app.register_blueprint(health)
app.register_blueprint(users)
{%- if cookiecutter.include_uploads == 'y' %}
app.register_blueprint(uploads)
app.register_blueprint(uploads_events)
{%- endif %}
