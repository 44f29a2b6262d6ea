"""The stand-in AWS services behind the aws stand-in: a botocore `before-send` hook answers each request.

The answer is checked against the operation's output shape in the same service model the CLI parses it with, so
the stand-in cannot answer a member AWS would not send (or with another type). An operation with no stand-in
answer fails loudly (exit 255) rather than answer something made up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import ledger
from .aws_ecs import ECS_OPERATIONS
from .aws_secretsmanager import SECRETSMANAGER_OPERATIONS

Handler = Callable[[dict[str, Any], str, "ledger.Failure | None"], tuple[int, dict[str, Any]]]
# `before-send.<service>.<Operation>` names the service by its hyphenated serviceId ("Secrets Manager" ->
# secrets-manager); botocore loads the model by the service's name (its data directory): the two per service.
MODEL_NAMES = {"ecs": "ecs", "secrets-manager": "secretsmanager"}
OPERATIONS: dict[tuple[str, str], Handler] = {
    **{("ecs", name): handler for name, handler in ECS_OPERATIONS.items()},
    **{("secrets-manager", name): handler for name, handler in SECRETSMANAGER_OPERATIONS.items()},
}


class NoStandInAnswer(RuntimeError):
    pass


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any):
        yield self._data


class Answerer:
    """Registered on `before-send`; `key` is the command's cli-failures.json key, set once the CLI parsed it.
    The planned failure for the key is taken at the first request, so a command the CLI refused consumes none."""

    def __init__(self) -> None:
        self.key = ""
        self._failure: ledger.Failure | None = None
        self._failure_taken = False

    def __call__(self, request, event_name: str, **_: Any):
        from botocore.awsrequest import AWSResponse

        _, service, operation = event_name.split(".", 2)  # before-send.<service id, hyphenated>.<Operation>
        handler = OPERATIONS.get((service, operation))
        if handler is None:
            raise NoStandInAnswer(f"the offline stand-in has no answer for {service} {operation}")
        if not self._failure_taken:
            self._failure = ledger.take_failure(self.key)
            self._failure_taken = True
        region = _region_from_url(request.url)
        status, body = handler(json.loads(request.body or b"{}"), region, self._failure)
        if status == 200:
            _check_output(service, operation, body, request)
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "standin"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))


def _region_from_url(url: str) -> str:
    # https://<service>.<region>.amazonaws.com/
    return url.split("//", 1)[1].split(".")[1]


def _check_output(service: str, operation: str, body: dict[str, Any], request) -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model(MODEL_NAMES[service]).operation_model(operation)
    problems = list(_shape_problems(body, model.output_shape, operation))
    if problems:
        raise NoStandInAnswer(f"stand-in answer for {service} {operation} does not fit the model: {problems}")


_PYTHON_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float),
}


def _shape_problems(value: Any, shape, path: str):
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            yield f"{path}: expected an object"
            return
        for name, item in value.items():
            if name not in shape.members:
                yield f"{path}.{name}: not a member of {shape.name}"
            else:
                yield from _shape_problems(item, shape.members[name], f"{path}.{name}")
    elif shape.type_name == "list":
        if not isinstance(value, list):
            yield f"{path}: expected a list"
            return
        for index, item in enumerate(value):
            yield from _shape_problems(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map":
        if not isinstance(value, dict):
            yield f"{path}: expected a map"
            return
        for key, item in value.items():
            yield from _shape_problems(item, shape.value, f"{path}[{key}]")
    else:
        expected = _PYTHON_TYPES.get(shape.type_name)
        if expected is not None and (not isinstance(value, expected) or isinstance(value, bool) != (expected is bool)):
            yield f"{path}: expected {shape.type_name}, got {value!r}"
        elif getattr(shape, "enum", None) and value not in shape.enum:
            yield f"{path}: {value!r} is not one of {shape.name}'s values"
