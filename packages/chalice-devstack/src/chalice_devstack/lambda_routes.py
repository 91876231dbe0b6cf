"""Which requests on the AWS endpoint are Lambda API calls devstack answers itself (chalice_devstack.lambda_api).

Apart from lambda_api so that the endpoint's process, which only routes them, imports none of the function registry.
"""

import re

PREFIX = "/2015-03-31/"
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<configuration>/configuration)?/?$")
FUNCTIONS_PATH = re.compile(r"^/2015-03-31/functions/?$")
MAPPING_PATH = re.compile(r"^/2015-03-31/event-source-mappings/?(?P<uuid>[^/]*)$")


def handles(method: str, path: str) -> bool:
    """True for the Lambda API requests devstack answers itself (others go to moto)."""
    if not path.startswith(PREFIX):
        return False
    if INVOKE_PATH.match(path):
        return method == "POST"
    return method == "GET" and bool(FUNCTIONS_PATH.match(path) or FUNCTION_PATH.match(path) or MAPPING_PATH.match(path))


class RawJson(str):
    """A body already serialised the way Lambda's runtime does it (sent as is)."""
