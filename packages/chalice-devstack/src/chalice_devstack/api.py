"""The service's HTTP API on 127.0.0.1:8000 (`DEVSTACK_API_PORT`), served by `chalice local`'s machinery.

Chalice's LocalDevServer / ChaliceRequestHandler build the API Gateway event and route it,
exactly as `chalice local` does, with two changes: TCP_NODELAY on every connection (without
it each keep-alive request after the first waits ~40 ms for the client's delayed ACK, as chalice
local writes headers and body apart), and the app is called through the function registry, so API calls get a realistic
Lambda context, a console line and a place in the status view like every other invocation.
The functions' env vars are already the process's (see devstack.functions). Routes with an
authorizer are checked as API Gateway checks them (devstack.authorizers), their 401/403 shaped by the
RestAPI's GatewayResponses in the resources file (devstack.gateway_responses), and a function error
answers 502 `{"message": "Internal server error"}` as API Gateway does, never a dropped connection.
A throttled function (its reserved concurrency in use) answers 500 with the same body: a REST API's
proxy integration does not pass Lambda's 429 on (AWS knowledge center, "API Gateway 500 internal
server error with Lambda": throttling issues).

Load: the listening socket has a backlog of API_BACKLOG (socketserver's default of 5 reset
connections at 20 concurrent clients) and at most API_THREADS connections are served at once,
each on its own thread; further connections wait in the backlog instead of being refused. An
idle keep-alive connection is closed after API_IDLE_SECONDS so it cannot hold a thread forever.
"""

import functools
import os
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any

from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, LocalGateway, LocalGatewayException

from chalice_devstack.authorizers import GatewayAuthorizer
from chalice_devstack.cognito import CognitoVerifier, PoolDirectory
from chalice_devstack.endpoint import MARKER_HEADER
from chalice_devstack.functions import API_HANDLER, FunctionRegistry
from chalice_devstack.gateway_responses import gateway_response

HOST = "127.0.0.1"
API_BACKLOG = 512  # pending connections; the kernel caps it at net.core.somaxconn
API_THREADS = 128  # connections served at once: twice the 64 keep-alive clients a load test uses
API_IDLE_SECONDS = 60  # an idle keep-alive connection gives its thread back after this


class BadGateway(LocalGatewayException):
    """502: API Gateway's answer when the Lambda integration fails."""

    CODE = 502


class IntegrationThrottled(LocalGatewayException):
    """500: API Gateway's answer (REST API, proxy integration) when Lambda throttles the function."""

    CODE = 500


class BoundedThreadingServer(ThreadingMixIn, HTTPServer):
    """A thread per connection, at most API_THREADS at once, behind a backlog of API_BACKLOG."""

    daemon_threads = True
    request_queue_size = API_BACKLOG

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        self._slots = threading.BoundedSemaphore(API_THREADS)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Wait for a free thread (the connection waits in the backlog meanwhile), then serve it on one."""
        self._slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread started: give the slot back
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection until it closes, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a readiness probe, a load test stopping) is no error; print the rest."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class NoDelayRequestHandler(ChaliceRequestHandler):
    """chalice local's handler with TCP_NODELAY, devstack's authorizers, the RestAPI's gateway responses and without
    a log line per request."""

    disable_nagle_algorithm = True
    timeout = API_IDLE_SECONDS

    def __init__(
        self,
        request: socket.socket,
        client_address: tuple[str, int],
        server: HTTPServer,
        app_object: Any,
        config: Config,
        authorizer: GatewayAuthorizer,
        resources: Callable[[], dict[str, Any]],
    ) -> None:
        self.local_gateway = LocalGateway(app_object, config)
        self.resources = resources
        self.local_gateway._authorizer = authorizer  # chalice builds its own; it lets Cognito/custom through
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def log_message(self, format: str, *args: Any) -> None:
        """The registry prints one line per invocation instead."""

    def _send_error_response(self, error: LocalGatewayException) -> None:
        """The gateway's own answer (an authorizer's 401/403...) as the resources file's GatewayResponses shape it."""
        super()._send_error_response(gateway_response(error, self.resources()))

    def end_headers(self) -> None:
        """Mark every answer as devstack's: `devstack load run` tells a devstack API from anything else by it."""
        self.send_header(MARKER_HEADER, "1")
        super().end_headers()

    def __getattr__(self, name: str) -> Any:
        """Route every method: chalice local dispatches seven, and any other (TRACE, QUERY...) got http.server's
        bare 501, a server error; routed, a method no route has is a 405 like PUT on a GET route."""
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


class ViaRegistry:
    """The Chalice app as LocalGateway sees it, with each call going through the function registry."""

    def __init__(self, registry: FunctionRegistry) -> None:
        self._registry = registry

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry.app, name)  # the registry's current app: a code reload replaces it

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        """Invoke api_handler with the API Gateway event; a crash surfaces as chalice local shows it."""
        request = event.get("requestContext", {})
        trigger = f"api:{request.get('httpMethod', '?')} {event.get('path') or request.get('resourcePath', '?')}"
        result = self._registry.invoke(API_HANDLER, event, trigger)
        if not result.ok:
            headers = {"x-amzn-RequestId": result.request_id, "x-amzn-ErrorType": "InternalServerErrorException"}
            failure = IntegrationThrottled if result.throttled else BadGateway
            raise failure(headers, b'{"message": "Internal server error"}')
        return result.payload


def create_server(registry: FunctionRegistry, port: int, stage: str, endpoint_url: str | None = None) -> LocalDevServer:
    """Bind the API server (OSError when the port is taken); serve it with `serve_forever`."""
    project = registry.project
    config = Config.create(
        chalice_stage=stage,
        function_name=API_HANDLER,
        app_name=registry.app.app_name,
        project_dir=str(project.root),
        config_from_disk=project.chalice_config(),
        lambda_timeout=project.function_setting(stage, API_HANDLER, "lambda_timeout", None),
    )
    authorizer = GatewayAuthorizer(registry, CognitoVerifier(PoolDirectory(endpoint_url or _endpoint_url(), _client)))
    handler = functools.partial(NoDelayRequestHandler, authorizer=authorizer, resources=project.resources)
    return LocalDevServer(
        ViaRegistry(registry),  # type: ignore[arg-type]
        config,
        HOST,
        port,
        handler_cls=handler,
        server_cls=BoundedThreadingServer,
    )


def _endpoint_url() -> str:
    """devstack's AWS endpoint, as the functions see it (devstack sets AWS_ENDPOINT_URL before serving the API)."""
    return os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")


@functools.cache
def _client(service: str) -> Any:
    """A boto3 client for the endpoint (made on first use: most apps have no Cognito authorizer)."""
    import boto3

    return boto3.client(service, endpoint_url=_endpoint_url())
