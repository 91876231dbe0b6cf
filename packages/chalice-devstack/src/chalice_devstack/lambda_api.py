"""Lambda's REST API on devstack's AWS endpoint, answered from the function registry (moto's Lambda has none of them).

- `POST /2015-03-31/functions/{name}/invocations`: Invoke (RequestResponse, Event, DryRun; `X-Amz-Log-Type: Tail`
  returns the last 4 KB of the invocation's log in `X-Amz-Log-Result`).
- `GET /2015-03-31/functions/`, `.../functions/{name}`, `.../functions/{name}/configuration`: ListFunctions,
  GetFunction, GetFunctionConfiguration.
- `GET /2015-03-31/event-source-mappings/[{uuid}]`: the mappings devstack's pollers run (app + resources file).
"""

import base64
import dataclasses
import hashlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from chalice_devstack.functions import THROTTLE_MESSAGE, FunctionRegistry, LocalFunction, lambda_json
from chalice_devstack.lambda_routes import FUNCTION_PATH, FUNCTIONS_PATH, INVOKE_PATH, MAPPING_PATH, RawJson
from chalice_devstack.project import LOCAL_ACCOUNT_ID

Answer = tuple[int, dict[str, str], Any]  # status, extra headers, JSON body (None: empty)

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
NOT_FOUND = "ResourceNotFoundException"
ASYNC_RETRY_SECONDS = 1.0  # a throttled async invocation waits this long before trying again
ASYNC_MAX_EVENT_AGE_SECONDS = 6 * 3600  # Lambda's default MaximumEventAgeInSeconds: then the event is dropped


def user_error(status: int, error_type: str, message: str) -> Answer:
    """A Lambda API error as botocore parses it (type in x-amzn-ErrorType, message in the body)."""
    return status, {"x-amzn-ErrorType": error_type}, {"Type": "User", "message": message}


class FunctionConfigurations:
    """Each function's FunctionConfiguration, as GetFunction and ListFunctions return it."""

    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        code = (registry.project.root / "app.py").read_bytes() if (registry.project.root / "app.py").is_file() else b""
        self.code_size, self.code_sha256 = len(code), base64.b64encode(hashlib.sha256(code).digest()).decode()
        self.modified = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")  # "deployed" when devstack started

    def of(self, function: LocalFunction) -> dict[str, Any]:
        """One function's configuration."""
        registry = self.registry
        default_role = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{registry.app.app_name}-{registry.stage}"
        role = registry.project.function_setting(registry.stage, function.name, "iam_role_arn", default_role)
        return {
            "FunctionName": function.physical_name,
            "FunctionArn": function.arn,
            "Runtime": RUNTIME,
            "Role": role,
            "Handler": function.handler_string,
            "CodeSize": self.code_size,
            "CodeSha256": self.code_sha256,
            "Description": "",
            "Timeout": function.timeout_seconds,
            "MemorySize": function.memory_mb,
            "LastModified": self.modified,
            "Version": "$LATEST",
            "Environment": {"Variables": function.variables},
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{function.arn}@{self.code_sha256}")),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
        }


def mapping_configuration(mapping: Any, created: float) -> dict[str, Any] | None:
    """An EventSourceMappingConfiguration for a queue or stream mapping of the pollers (None for others)."""
    source = getattr(mapping, "queue_arn", None) or getattr(mapping, "stream_arn", None)
    if source is None:
        return None  # schedules are EventBridge rules, not event source mappings
    configuration: dict[str, Any] = {
        "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{mapping.function_arn}|{source}")),
        "EventSourceArn": source,
        "FunctionArn": mapping.function_arn,
        "BatchSize": mapping.batch_size,
        "MaximumBatchingWindowInSeconds": int(mapping.batching_window),
        "FunctionResponseTypes": ["ReportBatchItemFailures"] if mapping.report_item_failures else [],
        "LastModified": created,
        "State": "Enabled",
        "StateTransitionReason": "USER_INITIATED",
    }
    if hasattr(mapping, "stream_arn"):
        configuration |= {
            "StartingPosition": mapping.starting_position,
            "BisectBatchOnFunctionError": mapping.bisect_on_error,
            "MaximumRetryAttempts": mapping.max_retry_attempts,
            "MaximumRecordAgeInSeconds": mapping.max_record_age,
            "ParallelizationFactor": 1,
            "LastProcessingResult": "OK",
            "DestinationConfig": {"OnFailure": {"Destination": mapping.on_failure_arn}}
            if mapping.on_failure_arn
            else {"OnFailure": {}},
        }
    else:
        configuration["ScalingConfig"] = {"MaximumConcurrency": mapping.concurrency}
    return configuration


def all_mappings(mappings: Any) -> list[Any]:
    """Every mapping in a pollers.Mappings (one list per event source kind)."""
    if mappings is None:
        return []
    return [item for kind in dataclasses.fields(mappings) for item in getattr(mappings, kind.name)]


class LambdaApi:
    """Answers Lambda API requests from the registry and the running mappings."""

    def __init__(self, registry: FunctionRegistry, mappings: Callable[[], Any]) -> None:
        self.registry, self._mappings = registry, mappings
        self.configurations = FunctionConfigurations(registry)
        self.created = datetime.now(UTC).timestamp()

    def answer(self, method: str, path: str, environ: dict[str, Any]) -> Answer:
        """Route one Lambda API request."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if match := INVOKE_PATH.match(path):
            return self.invoke(unquote(match["name"]), environ)
        if FUNCTIONS_PATH.match(path):
            return self.list_functions(query)
        if match := MAPPING_PATH.match(path):
            return self.mappings(unquote(match["uuid"]), query)
        match = FUNCTION_PATH.match(path)
        assert match is not None  # handles() let only these paths through
        return self.get_function(unquote(match["name"]), bool(match["configuration"]))

    def list_functions(self, query: dict[str, list[str]]) -> Answer:
        """ListFunctions, paged by MaxItems/Marker."""
        functions = [self.configurations.of(f) for f in self.registry.functions.values()]
        return 200, {}, paged("Functions", functions, query)

    def get_function(self, name: str, configuration_only: bool) -> Answer:
        """GetFunction / GetFunctionConfiguration."""
        try:
            function = self.registry.resolve(name)
        except KeyError:
            return user_error(404, NOT_FOUND, f"Function not found: {name}")
        configuration = self.configurations.of(function)
        if configuration_only:
            return 200, {}, configuration
        code = {"RepositoryType": "S3", "Location": self.registry.project.root.as_uri()}
        return 200, {}, {"Configuration": configuration, "Code": code, "Tags": {}}

    def mappings(self, mapping_id: str, query: dict[str, list[str]]) -> Answer:
        """ListEventSourceMappings (filtered by FunctionName / EventSourceArn) or GetEventSourceMapping."""
        found = [mapping_configuration(m, self.created) for m in all_mappings(self._mappings())]
        configurations = [c for c in found if c is not None]
        if mapping_id:
            match = [c for c in configurations if c["UUID"] == mapping_id]
            if not match:
                return user_error(404, NOT_FOUND, f"The resource you requested does not exist. (UUID {mapping_id})")
            return 200, {}, match[0]
        if "FunctionName" in query:
            try:
                arn = self.registry.resolve(query["FunctionName"][0]).arn
            except KeyError:
                return user_error(404, NOT_FOUND, f"Function not found: {query['FunctionName'][0]}")
            configurations = [c for c in configurations if c["FunctionArn"] == arn]
        if "EventSourceArn" in query:
            configurations = [c for c in configurations if c["EventSourceArn"] == query["EventSourceArn"][0]]
        return 200, {}, paged("EventSourceMappings", configurations, query)

    def invoke(self, name: str, environ: dict[str, Any]) -> Answer:
        """Invoke: RequestResponse (default), Event (202, runs in the background) or DryRun (204)."""
        try:
            function = self.registry.resolve(name)
        except KeyError:
            return user_error(404, NOT_FOUND, f"Function not found: {name}")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            event = json.loads(raw) if raw else {}
        except ValueError:
            return user_error(400, "InvalidRequestContentException", "Could not parse request body into json")
        kind = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        if kind == "DryRun":
            return 204, {}, None
        if kind == "Event":
            threading.Thread(target=self.invoke_async, args=(function.name, event), daemon=True).start()
            return 202, {}, None
        result = self.registry.invoke(function.name, event, "invoke")
        if result.throttled:
            return throttled()
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": result.request_id}
        if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(result.log_tail.encode()).decode()
        if not result.ok:
            return 200, {**headers, "X-Amz-Function-Error": "Unhandled"}, result.lambda_error()
        return 200, headers, RawJson(lambda_json(result.payload))

    def invoke_async(self, name: str, event: Any) -> None:
        """An Event invocation: Lambda queues it and tries a throttled one again until it is too old."""
        deadline = time.monotonic() + ASYNC_MAX_EVENT_AGE_SECONDS
        while self.registry.invoke(name, event, "invoke:event").throttled and time.monotonic() < deadline:
            time.sleep(ASYNC_RETRY_SECONDS)


def throttled() -> Answer:
    """Invoke's answer when the function's reserved concurrency is in use (or 0)."""
    status, headers, body = user_error(429, "TooManyRequestsException", THROTTLE_MESSAGE)
    return status, headers, {**body, "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}


def paged(key: str, items: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
    """A Lambda list answer: MaxItems items from Marker on, with NextMarker when more remain."""
    start = int(query.get("Marker", ["0"])[0] or 0)
    size = int(query.get("MaxItems", ["50"])[0] or 50)
    page: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        page["NextMarker"] = str(start + size)
    return page
