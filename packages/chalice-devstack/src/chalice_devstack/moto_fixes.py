"""Fixes to moto for a long-running, concurrent devstack (applied in the AWS endpoint).

moto's TransactWriteItems backs up each table it touches with a deep copy and, when the
transaction is cancelled, puts the copy in the table's place. Under devstack that is wrong
three ways: the writes other requests made meanwhile are lost, the table's stream shard is
replaced (so every stream reader stops seeing records: the stream "goes quiet" after the first
out-of-stock order), and every transaction costs a copy of the whole table. DynamoDB itself
checks every condition first and writes only if all hold; `transact_write_items` below does
the same, so a cancelled transaction writes nothing and touches no other state.

moto checks a PutItem / UpdateItem / DeleteItem condition and then writes, with nothing between
the two for another request's write: under devstack's threaded endpoint two conditional writes
can both pass (two orders for one Idempotency-Key). DynamoDB applies a condition and its write
atomically; the single-item writes below take the same lock as transactions.

moto also matches a schedule rule (no event pattern) against every PutEvents event and then
fails on its Lambda target (PutEvents answers 500). On AWS a schedule rule never matches a
put event: `rule_send_to_targets` skips schedule rules.

moto's response serializer asks six alias providers, anew for every attribute of every response,
which names an attribute may go by; the answer depends only on the picker, the object's type, the
response shape and the attribute, so `possible_keys` works it out once per such tuple (it took
about a sixth of the CPU time of a DynamoDB-heavy test suite). It also asked for every member of
every structure, though a dict answer holds few of them: a DynamoDB attribute value is a structure
of ten members holding one. `serialize_present_members` asks only for the members one of whose
names is in the dict (the others answer nothing), unless a response transformer may make one up.

moto gives every user pool a random id, so nothing written before start-up (.chalice/config.json's
ARN for a CognitoUserPoolAuthorizer) could name a provisioned pool. Provisioning tags the pools of
the resources file with the id devstack gives them (cognito.POOL_ID_TAG); `create_user_pool` below
creates such a pool under that id and drops the tag. Pools created without the tag keep moto's ids.
An app client that names no ReadAttributes reads every attribute on Cognito (the id token carries the
user's email); moto's puts none in, so the id token below gets them all for such a client.
These are installed only for a project that provisions Cognito: importing moto's Cognito takes ~0.15 s.

moto's Step Functions interpreter makes a new boto3 client for every task it runs (a Lambda
invoke per saga step): a seventh of the endpoint's CPU time in an orders burst. Its clients are
all alike for one region and service (fixed keys, no retries), and botocore clients are
thread-safe, so `speed_up_step_functions` keeps one per region and service; its Lambda tasks call
devstack's Lambda route in-process instead (`invoke_tasks_through`, task_invoker.py). The interpreter also
lexes and parses the state machine's definition anew for every execution (ANTLR, a twentieth of
the endpoint's CPU in a burst); the parse tree depends on the definition only and nothing writes
to it, so it is kept per definition, and each execution still builds its own program from it
(the program's states hold per-execution state).

moto's server finds the service of every request under one lock, and on the way lists moto's
package directory and stats each entry (`list_of_moto_modules`): under a burst, requests queued
on that lock for a tenth of the endpoint's time. The service of a host never changes, so
`dispatch_by_cached_host` remembers it per host.

moto looks up the methods of a service's response class (inspect.getmembers) on every request to
see whether it answers the action; a class's methods are what they are: `answers_from_known_methods`
keeps each class's list.

moto's SQS works out a queue's attributes on every SendMessage (it reads one of them), counting
visible, delayed and in-flight messages with three clock reads per message. A queue nobody
consumes (a fan-out subscriber such as a domain-events queue) grows all day, and every send to it
got slower: `count_messages_once` counts them in one pass with one clock read.

moto parses an UpdateExpression twice per UpdateItem (once to check the names it uses, once to run
it), and anew for every request. Its users only read the tree or deep-copy it before they change it
(UpdateExpressionValidator), so `parse_update_expressions_once` keeps the tree of each expression.

A ReceiveMessage without its own VisibilityTimeout hides what it takes for the queue's. moto reads that
attribute when the request arrives, so a long poll that began before SetQueueAttributes shortened it
hid a message sent during the poll for the old time (a poison message that should come back after 1 s
stayed away for 60). `receive_with_current_visibility` reads the queue's attribute each time the poll
looks at the queue, so a message is hidden for the visibility in force when it is taken.
"""

import copy
import functools
import pickle
import sys
import threading
import time
from collections.abc import Callable, Collection, Generator
from typing import Any

from moto.core.serialize import AttributePicker, AttributePickerContext, ResponseSerializer
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import Rule

from chalice_devstack.cognito import POOL_ID_TAG

MAX_TRANSACTION_ITEMS = 100
OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}
# One write at a time: a transaction's (or a conditional write's) checks and writes are not
# interleaved with another's. Reentrant: a transaction writes through the single-item methods.
_TRANSACTIONS = threading.RLock()

Cancellation = tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]


_MOTO_SEND_TO_TARGETS = Rule.send_to_targets
_MOTO_POSSIBLE_KEYS = AttributePicker.get_possible_keys
_MOTO_STRUCTURE = ResponseSerializer._serialize_type_structure
# (picker type, its providers, member shape id, member) -> (the shape, the member's names, None if one is a path)
_MEMBER_NAMES: dict[tuple[Any, ...], tuple[Any, tuple[str, ...] | None]] = {}
# (picker type, its providers, object type, shape id, attribute) -> (the shape, its possible keys)
_POSSIBLE_KEYS: dict[tuple[Any, ...], tuple[Any, list[str]]] = {}
_BOTO_CLIENT_MODULE = "moto.stepfunctions.parser.asl.utils.boto_client"
_ASL_PARSER_MODULE = "moto.stepfunctions.parser.asl.parse.asl_parser"
_DISPATCHER_MODULE = "moto.moto_server.werkzeug_app"
PARSE_TREES_KEPT = 32  # state machine definitions whose parse trees are kept (a project has a handful)
_TREE_PICKLE = "_devstack_pickle"  # the attribute of a kept UpdateExpression tree holding its pickle
UPDATE_EXPRESSIONS_KEPT = 256  # UpdateExpression trees kept (a project writes a few dozen distinct ones)
_CLIENTS_LOCK = threading.Lock()
_LAMBDA_ROUTE: list[Any] = []  # the LambdaRoute Step Functions' Lambda tasks use (invoke_tasks_through)
# The members of DynamoDB's (and its streams') AttributeValue shape.
DYNAMODB_VALUE_KINDS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_MOTO_WRITES = {name: getattr(DynamoDBBackend, name) for name in ("put_item", "update_item", "delete_item")}


def apply(services: Collection[str] = (), *, skip_deferred: bool = False) -> None:
    """Replace moto's TransactWriteItems, single-item writes and rule delivery with faithful versions (idempotent);
    with `cognito-idp` among the services the project provisions, give its user pools their stable ids.

    skip_deferred leaves the Cognito fix (importing its models: 70 ms) to `apply_deferred`, for a start
    that restores Cognito's backends only on first need (snapshot.DEFERRED_MODULES).
    """
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name, write in _MOTO_WRITES.items():
        setattr(DynamoDBBackend, name, atomic(write))
    Rule.send_to_targets = rule_send_to_targets  # type: ignore[method-assign]
    AttributePicker.get_possible_keys = possible_keys  # type: ignore[method-assign]
    ResponseSerializer._serialize_type_structure = serialize_present_members  # type: ignore[method-assign]
    count_messages_once()
    parse_update_expressions_once()
    receive_with_current_visibility()
    dispatch_by_cached_host()
    answers_from_known_methods()
    route_each_request_once()
    if not skip_deferred:
        apply_deferred(services)


def apply_deferred(services: Collection[str]) -> None:
    """The fixes of the services a restore brings back on first need (snapshot.DEFERRED_MODULES), idempotent."""
    if "cognito-idp" in services:
        _fix_cognito()


def _fix_cognito() -> None:
    """Stable ids for tagged pools, and all attributes readable by a client that names none (idempotent)."""
    from moto.cognitoidp.exceptions import InvalidParameterException
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool

    moto_create = CognitoIdpBackend.create_user_pool
    moto_readable = CognitoIdpUserPool.get_user_extra_data_by_client_id
    if getattr(moto_create, "gives_stable_ids", False):
        return

    @functools.wraps(moto_create)
    def create_user_pool(self: CognitoIdpBackend, name: str, extended_config: dict[str, Any]) -> CognitoIdpUserPool:
        wanted = (extended_config.get("UserPoolTags") or {}).pop(POOL_ID_TAG, None)
        if wanted in self.user_pools:
            raise InvalidParameterException(f"a user pool with id {wanted} exists already")
        pool: CognitoIdpUserPool = moto_create(self, name, extended_config)
        if wanted:
            del self.user_pools[pool.id]
            pool.arn, pool.id = pool.arn.removesuffix(pool.id) + wanted, wanted
            self.user_pools[wanted] = pool
        return pool

    @functools.wraps(moto_readable)
    def readable_attributes(self: CognitoIdpUserPool, client_id: str, username: str) -> dict[str, Any]:
        client = self.clients.get(client_id)
        if client is None or client.extended_config.get("ReadAttributes"):
            return dict(moto_readable(self, client_id, username))
        return {item["Name"]: item["Value"] for item in self._get_user(username).attributes if item["Name"] != "sub"}

    create_user_pool.gives_stable_ids = True  # type: ignore[attr-defined]
    CognitoIdpBackend.create_user_pool = create_user_pool  # type: ignore[method-assign]
    CognitoIdpUserPool.get_user_extra_data_by_client_id = readable_attributes  # type: ignore[method-assign]


def speed_up_step_functions() -> None:
    """Reuse the interpreter's task clients and definitions' parse trees, if the interpreter is loaded (idempotent).

    Call once moto has built the Step Functions backend (devstack's warm-up does): importing the
    interpreter only for this would cost a second at start-up for projects that never use it.
    """
    _cache_task_clients()
    _cache_parse_trees()


def _cache_task_clients() -> None:
    """One task client per region and service for the interpreter (moto makes one per task)."""
    module = sys.modules.get(_BOTO_CLIENT_MODULE)
    if module is None or getattr(module.boto_client_for, "cached", False):
        return
    make = module.boto_client_for
    clients: dict[tuple[str, str], Any] = {}

    @functools.wraps(make)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if service == "lambda" and _LAMBDA_ROUTE:
            return _LAMBDA_ROUTE[0]
        # moto's own ignores state_credentials too: every task client has the same fixed keys.
        with _CLIENTS_LOCK:
            if (region, service) not in clients:
                clients[region, service] = make(region, service, state_credentials)
            return clients[region, service]

    boto_client_for.cached = True  # type: ignore[attr-defined]
    for loaded in list(sys.modules.values()):
        # The module's own names, not getattr: a module-level __getattr__ (moto has lazy ones) would load
        # what it stands for, half a second of imports and JSON models that compete with the first requests.
        if getattr(loaded, "__dict__", {}).get("boto_client_for") is make:
            setattr(loaded, "boto_client_for", boto_client_for)  # noqa: B010 - modules that imported it by name


def invoke_tasks_through(route: Any) -> None:
    """Have the interpreter's Lambda tasks call devstack's Lambda route (a WSGI app) directly: task_invoker.py."""
    from chalice_devstack.task_invoker import LambdaRoute

    _LAMBDA_ROUTE[:] = [LambdaRoute(route)]


def _cache_parse_trees() -> None:
    """Parse each state machine definition once; every execution still builds its own program from the tree."""
    module = sys.modules.get(_ASL_PARSER_MODULE)
    if module is None or getattr(module.AmazonStateLanguageParser.parse, "keeps_trees", False):
        return
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    moto_parse = module.AmazonStateLanguageParser.parse

    @functools.lru_cache(maxsize=PARSE_TREES_KEPT)
    def tree_of(definition: str) -> Any:
        return moto_parse(definition)[1]  # raises (and keeps nothing) for a definition with errors

    @functools.wraps(moto_parse)
    def parse(definition: str) -> tuple[Any, Any]:
        tree = tree_of(definition)
        return Preprocessor().visit(tree), tree

    parse.keeps_trees = True  # type: ignore[attr-defined]
    parse.trees = tree_of  # type: ignore[attr-defined]  # its cache_info() shows the parses
    module.AmazonStateLanguageParser.parse = staticmethod(parse)


def dispatch_by_cached_host() -> None:
    """Remember which moto service answers each host, if moto's server is loaded (idempotent)."""
    module = sys.modules.get(_DISPATCHER_MODULE)
    if module is None or getattr(module.DomainDispatcherApplication.get_backend_for_host, "cached", False):
        return
    moto_backend_for_host = module.DomainDispatcherApplication.get_backend_for_host
    known: dict[tuple[int, str | None], Any] = {}

    @functools.wraps(moto_backend_for_host)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        key = (id(self), host)  # moto's server calls this under its own lock
        if key not in known:
            known[key] = moto_backend_for_host(self, host)
        return known[key]

    get_backend_for_host.cached = True  # type: ignore[attr-defined]
    module.DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


def answers_from_known_methods() -> None:
    """List each response class's methods once, not on every request (idempotent)."""
    from moto.core import responses
    from moto.core.utils import method_names_from_class

    if getattr(responses, "method_names_from_class") is method_names_from_class:  # noqa: B009 - not re-exported
        setattr(responses, "method_names_from_class", functools.cache(method_names_from_class))  # noqa: B010


def route_each_request_once() -> None:
    """Find a request's operation once, not three times, and try no resource path on a request to `/` (idempotent).

    moto asks its router for the operation when it sets a request up, when it parses the parameters
    and when it calls the action: each time SQS's router matched the queue-URL template against
    `/` too, and werkzeug raised NotFound for it.
    """
    from moto.core.responses import BaseResponse
    from moto.core.routing import RPCRouter

    route = BaseResponse._get_action
    if getattr(route, "once_per_request", False):
        return
    path_params = RPCRouter._get_path_params

    @functools.wraps(route)
    def action_of(self: BaseResponse) -> str:
        request = self.normalized_request  # S3's response object serves every request: remember whose action it is
        known = self.__dict__.get("_devstack_action")
        if known is not None and known[0] is request:
            return str(known[1])
        action = route(self)
        if action is not None:
            self.__dict__["_devstack_action"] = (request, action)
        return action

    @functools.wraps(path_params)
    def resource_params(self: RPCRouter, request: Any) -> dict[str, Any]:
        if request.path in ("", "/"):  # no template matches the root: none names only a slash
            return {}
        return path_params(self, request)

    action_of.once_per_request = True  # type: ignore[attr-defined]
    BaseResponse._get_action = action_of  # type: ignore[method-assign]
    RPCRouter._get_path_params = resource_params  # type: ignore[method-assign]


def count_messages_once() -> None:
    """A queue's message counts in one pass over its messages, with one clock read (idempotent)."""
    from moto.sqs.models import Queue

    if getattr(Queue.approximate_number_of_messages, "one_pass", False):
        return
    for attribute, index in _MESSAGE_COUNTS.items():
        setattr(Queue, attribute, property(_counter(index)))


def _counter(index: int) -> Callable[[Any], int]:
    """A queue's count property: its `index` in _message_counts' answer."""

    def count(queue: Any) -> int:
        return _message_counts(queue)[index]

    count.one_pass = True  # type: ignore[attr-defined]
    return count


def parse_update_expressions_once() -> None:
    """Keep the parse tree of each UpdateExpression, and copy it from its pickle (idempotent); a bad one still
    raises every time.

    moto's validator rewrites a copy of the tree for each update; deepcopy made it (a tenth of the
    endpoint's CPU in an orders burst), unpickling the tree's kept pickle is four times cheaper.
    """
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]  # untyped
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # untyped

    if hasattr(UpdateExpressionParser.make, "cache_info"):
        return
    tree_of = functools.lru_cache(maxsize=UPDATE_EXPRESSIONS_KEPT)(UpdateExpressionParser.make)
    UpdateExpressionParser.make = staticmethod(tree_of)
    validators.deepcopy = functools.partial(copy_of, Node)  # type: ignore[attr-defined]  # the module's own import


def copy_of(tree_type: type, value: Any, memo: Any = None) -> Any:
    """A copy of value: of a parse tree, unpickled from the pickle kept on it (made on its first copy)."""
    if not isinstance(value, tree_type):
        return copy.deepcopy(value, memo)
    kept = value.__dict__.get(_TREE_PICKLE)
    if kept is None:
        try:
            kept = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # a node holding what pickle cannot take
            return copy.deepcopy(value, memo)
        value.__dict__[_TREE_PICKLE] = kept
    return pickle.loads(kept)  # noqa: S301 - pickled just above, from a tree moto parsed


# Set while moto answers a ReceiveMessage that names no VisibilityTimeout (the queue's applies).
_RECEIVE = threading.local()


def receive_with_current_visibility() -> None:
    """A long poll hides each message for the queue's VisibilityTimeout when it takes it (idempotent)."""
    from moto.sqs.models import SQSBackend
    from moto.sqs.responses import SQSResponse

    if getattr(SQSBackend.receive_message, "current_visibility", False):
        return
    answer, receive = SQSResponse.receive_message, SQSBackend.receive_message

    @functools.wraps(answer)
    def receive_message_answer(self: Any) -> Any:
        _RECEIVE.queue_visibility = self._get_param("VisibilityTimeout") is None
        try:
            return answer(self)
        finally:
            _RECEIVE.queue_visibility = False

    @functools.wraps(receive)
    def receive_message(
        self: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        if not (wait_seconds_timeout and getattr(_RECEIVE, "queue_visibility", False)):
            return receive(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names)

        def look(visibility: int) -> list[Any]:
            """One pass over the queue, no waiting, hiding what it takes for `visibility` seconds."""
            return receive(self, queue_name, count, 0, visibility, message_attribute_names)

        return _long_poll(look, self.get_queue(queue_name), wait_seconds_timeout)

    receive_message.current_visibility = True  # type: ignore[attr-defined]
    SQSResponse.receive_message = receive_message_answer  # type: ignore[method-assign]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _long_poll(look: Callable[[int], list[Any]], queue: Any, seconds: float) -> list[Any]:
    """moto's long poll as one look at the queue after another, each with the queue's VisibilityTimeout then."""
    deadline = time.monotonic() + seconds
    while True:
        messages = look(queue.visibility_timeout)
        left = deadline - time.monotonic()
        if messages or left <= 0:
            return messages
        queue.wait_for_messages(min(left, 1.0))  # woken by a new message; at most a second for one turning visible


# Queue's count properties -> their place in _message_counts' answer.
_MESSAGE_COUNTS = {
    "approximate_number_of_messages": 0,
    "approximate_number_of_messages_not_visible": 1,
    "approximate_number_of_messages_delayed": 2,
}


def _message_counts(queue: Any) -> tuple[int, int, int]:
    """(visible and not delayed, not visible, delayed) messages of a moto queue, as moto's properties count them."""
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    visible = in_flight = delayed = 0
    for message in list(queue._messages):
        is_visible, is_delayed = now > message.visible_at, now < message.delayed_until
        visible += is_visible and not is_delayed
        in_flight += not is_visible
        delayed += is_delayed
    return visible, in_flight, delayed


def possible_keys(self: AttributePicker, context: AttributePickerContext) -> Generator[str]:
    """The names an attribute may go by in a response object, as moto's providers give them (cached)."""
    cache_key = (type(self), tuple(self.alias_providers), type(context.obj), id(context.shape), context.key)
    known = _POSSIBLE_KEYS.get(cache_key)
    if known is None or known[0] is not context.shape:  # the shape is kept, so its id is never reused
        known = (context.shape, list(_MOTO_POSSIBLE_KEYS(self, context)))
        _POSSIBLE_KEYS[cache_key] = known
    yield from known[1]


def serialize_present_members(self: ResponseSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
    """moto's structure serializer, asking a dict only for the members it holds (moto 5.1's body otherwise)."""
    picker = self._value_picker
    if type(value) is not dict or not isinstance(picker, AttributePicker) or picker.response_transformers:
        _MOTO_STRUCTURE(self, serialized, value, shape, key)
        return
    if shape.name == "AttributeValue" and shape.members.keys() == DYNAMODB_VALUE_KINDS:
        written = _dynamodb_value(self, value)
        if written is not None:
            self._default_serialize(serialized, written, shape, key)
            return
    wrapper = self.MAP_TYPE() if key else serialized
    for member_key, member_shape in shape.members.items():
        member_shape.parent = shape
        names = _member_names(self, picker, value, member_shape, member_key)
        if names is None or any(name in value for name in names):
            self._serialize_structure_member(wrapper, value, member_shape, member_key)
    if key:
        self._default_serialize(serialized, wrapper, shape, key)


def _dynamodb_value(serializer: ResponseSerializer, value: Any) -> dict[str, Any] | None:
    """A DynamoDB attribute value as moto's JSON serializer writes it, without walking its shape (None: not one).

    Items are most of what DynamoDB and its streams answer, and their values nest: serializing answers
    was a quarter of the endpoint's CPU in an orders burst, half that with this. The result is the
    same: strings and numbers as strings, binaries in base64, sets as lists, maps and lists value by value.
    """
    if type(value) is not dict:
        return None
    written: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue  # as a structure member that is absent
        member = _dynamodb_member(serializer, kind, inner)
        if member is None:
            return None
        written[kind] = member
    return written


def _dynamodb_member(serializer: ResponseSerializer, kind: str, inner: Any) -> Any:
    """One member of an attribute value (`S`, `M`...) as moto writes it; None for what DynamoDB has not."""
    if kind in ("S", "N"):
        return str(inner)
    if kind in ("SS", "NS"):
        return [str(member) for member in inner]
    if kind == "B":
        return serializer._base64(inner)
    if kind == "BS":
        return [serializer._base64(member) for member in inner]
    if kind in ("BOOL", "NULL"):
        return inner
    if kind == "M" and type(inner) is dict:
        members = {name: _dynamodb_value(serializer, member) for name, member in inner.items()}
        return None if None in members.values() else members
    if kind == "L" and type(inner) is list:
        elements = [_dynamodb_value(serializer, member) for member in inner]
        return None if None in elements else elements
    return None


def _member_names(
    serializer: ResponseSerializer, picker: AttributePicker, value: dict[str, Any], shape: Any, member: str
) -> tuple[str, ...] | None:
    """The keys a dict may hold a structure member under, as the picker tries them; None when one is a path."""
    cache_key = (type(picker), tuple(picker.alias_providers), id(shape), member)
    known = _MEMBER_NAMES.get(cache_key)
    if known is None or known[0] is not shape:  # the shape is kept, so its id is never reused
        context = AttributePickerContext(value, member, shape, serializer.operation_model)
        names = tuple(picker.get_possible_keys(context))
        known = (shape, None if any("." in name for name in names) else names)
        _MEMBER_NAMES[cache_key] = known
    return known[1]


def atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    """A moto single-item write whose condition check and write no other write can come between."""

    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _TRANSACTIONS:
            return write(*args, **kwargs)

    return locked


def rule_send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    """Deliver a put event to a rule's targets, unless the rule is a schedule (those only fire on time)."""
    if self.scheduled_expression:
        return
    _MOTO_SEND_TO_TARGETS(self, original_event, transform_input)


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """Check every operation's condition; cancel with each one's reason, or write them all."""
    if len(transact_items) > MAX_TRANSACTION_ITEMS:
        raise TooManyTransactionsException()
    operations = [_operation(item) for item in transact_items]
    _reject_repeated_keys(self, operations)
    with _TRANSACTIONS:
        reasons = [_check(self, op_type, op) for op_type, op in operations]
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        for op_type, op in operations:
            _write(self, op_type, op)


def _operation(item: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one (type, parameters) pair of a transaction item."""
    if len(item) != 1:
        raise TransactWriteSingleOpException()
    op_type, op = next(iter(item.items()))
    if op_type not in OPERATIONS:
        raise MockValidationException(f"Unsupported transaction operation: {op_type}")
    return op_type, op


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    """The primary key an operation targets (a Put names it inside its item)."""
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    table = backend.get_table(op["TableName"])
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: op["Item"][name] for name in names}


def _reject_repeated_keys(backend: DynamoDBBackend, operations: list[tuple[str, dict[str, Any]]]) -> None:
    """Two operations on one item make the whole request invalid, as on DynamoDB."""
    seen: set[tuple[str, str]] = set()
    for op_type, op in operations:
        target = (op["TableName"], str(sorted(_key(backend, op_type, op).items())))
        if target in seen:
            raise MultipleTransactionsException()
        seen.add(target)


def _check(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> Cancellation:
    """None when the operation's condition holds, else its cancellation reason."""
    condition = op.get("ConditionExpression")
    if condition is None:
        return None, None, None
    current = backend.get_item(op["TableName"], _key(backend, op_type, op))
    expression = get_filter_expression(
        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if expression.expr(current):
        return None, None, None
    wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    old = current.to_json()["Attributes"] if wants_old and current is not None else None
    return "ConditionalCheckFailed", ConditionalCheckFailed().message, old


def _write(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> None:
    """Apply one checked operation (its condition already held)."""
    table_name, names = op["TableName"], op.get("ExpressionAttributeNames") or {}
    values = op.get("ExpressionAttributeValues") or {}
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Delete":
        backend.delete_item(table_name, op["Key"], expression_attribute_names=names, expression_attribute_values=values)
    elif op_type == "Update":
        backend.update_item(
            table_name,
            op["Key"],
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )
