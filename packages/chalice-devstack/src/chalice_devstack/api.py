"""The service's HTTP API on 127.0.0.1:8000 (`DEVSTACK_API_PORT`), served by `chalice local`'s machinery.

Chalice's LocalDevServer / ChaliceRequestHandler build the API Gateway event and route it,
exactly as `chalice local` does, with two changes: TCP_NODELAY on every connection (without
it each keep-alive request after the first waits ~40 ms for a delayed ACK: DESIGN.md
section 9), and the app is called through the function registry, so API calls get a realistic
Lambda context, a console line and a place in the status view like every other invocation.
The functions' env vars are already the process's (see devstack.functions).
"""

from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer

from chalice_devstack.functions import API_HANDLER, FunctionRegistry

HOST = "127.0.0.1"


class NoDelayRequestHandler(ChaliceRequestHandler):
    """chalice local's handler with TCP_NODELAY and without a log line per request."""

    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """The registry prints one line per invocation instead."""


class ViaRegistry:
    """The Chalice app as LocalGateway sees it, with each call going through the function registry."""

    def __init__(self, registry: FunctionRegistry) -> None:
        self._registry = registry
        self._app = registry.app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        """Invoke api_handler with the API Gateway event; a crash surfaces as chalice local shows it."""
        request = event.get("requestContext", {})
        trigger = f"api:{request.get('httpMethod', '?')} {event.get('path') or request.get('resourcePath', '?')}"
        result = self._registry.invoke(API_HANDLER, event, trigger)
        if not result.ok:
            raise RuntimeError(f"{result.error_type}: {result.error_message}")
        return result.payload


def create_server(registry: FunctionRegistry, port: int, stage: str) -> LocalDevServer:
    project = registry.project
    """Bind the API server (OSError when the port is taken); serve it with `serve_forever`."""
    config = Config.create(
        chalice_stage=stage,
        function_name=API_HANDLER,
        app_name=registry.app.app_name,
        project_dir=str(project.root),
        config_from_disk=project.chalice_config(),
        lambda_timeout=project.function_setting(stage, API_HANDLER, "lambda_timeout", None),
    )
    handler: type[BaseHTTPRequestHandler] = NoDelayRequestHandler
    return LocalDevServer(ViaRegistry(registry), config, HOST, port, handler_cls=handler)  # type: ignore[arg-type]
