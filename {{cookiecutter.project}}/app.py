"""Chalice entry point: creates the app and registers the blueprints."""

from chalice.app import Chalice

from chalicelib.api.health import health
from chalicelib.api.middleware import middleware
from chalicelib.api.users import users
from chalicelib.config import get_settings

app = Chalice(app_name=get_settings().service_name)
app.register_blueprint(middleware)
app.register_blueprint(health)
app.register_blueprint(users)
