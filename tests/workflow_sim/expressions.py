"""The GitHub Actions expression language, the subset this project's workflows use, failing closed.

Semantics from GitHub's reference, https://docs.github.com/en/actions/reference/workflows-and-actions/expressions:
- literals: `null`, booleans, numbers, strings in single quotes (`''` escapes a quote);
- operators `( ) [ ] . ! < <= > >= == != && ||`; `&&`/`||` return an operand, not a boolean;
- "GitHub ignores case when comparing strings"; operands of different types are coerced to numbers
  (null 0, true 1, false 0, a string parsed as a number, '' 0, anything else NaN); arrays and objects
  are equal only to themselves;
- falsy: false, 0, -0, '', null (and NaN);
- the object filter `*`: `needs.*.result` is the list of every job's `result`;
- functions contains, startsWith, endsWith, format, join, toJSON, fromJSON, and the status checks
  success, failure, cancelled, always.
Anything else (an unknown function such as hashFiles, an unknown context, a property of a string, a token
this parser does not know) raises `ExpressionError`: the simulation stops instead of guessing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class ExpressionError(Exception):
    """An expression this evaluator does not know how to evaluate exactly."""


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*]))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise ExpressionError(f"unknown token at {text[position:]!r} in {text!r}")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Filtered(list):
    """The result of an object filter (`x.*`): a following `.name` maps over the items."""


@dataclass
class Status:
    """What the status-check functions answer for the job or step being evaluated."""

    success: bool
    failure: bool
    cancelled: bool = False


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value.strip() == "":
            return 0.0
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def loose_equal(left: Any, right: Any) -> bool:
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return left is right
    if type(left) is type(right) or (left is None and right is None):
        if isinstance(left, str):
            return left.lower() == right.lower()
        return left == right
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    a, b = _number(left), _number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


def to_string(value: Any) -> str:
    """How a value is written into a string (interpolation, format, join)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ExpressionError(f"cannot write an {type(value).__name__} into a string")


class _Parser:
    def __init__(self, text: str, contexts: dict[str, Any], status: Status | None) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0
        self.contexts = contexts
        self.status = status

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value!r} in {self.text!r}")
        self.position += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.equality()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.equality()
            value = right if truthy(value) else value
        return value

    def equality(self) -> Any:
        value = self.comparison()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.comparison()
            value = loose_equal(value, right) if op == "==" else not loose_equal(value, right)
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "<"), ("op", "<="), ("op", ">"), ("op", ">=")):
            op = self.take()[1]
            right = self.unary()
            a, b = _number(value), _number(right)
            value = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                token = self.take()
                if token == ("op", "*"):
                    value = self.filter(value)
                elif token[0] == "ident":
                    value = self.member(value, token[1])
                else:
                    raise ExpressionError(f"bad property {token[1]!r} in {self.text!r}")
            else:
                key = self.or_()
                self.take("]")
                value = self.member(value, key) if isinstance(key, str) else self.index(value, key)
        return value

    def filter(self, value: Any) -> _Filtered:
        if isinstance(value, dict):
            return _Filtered(value.values())
        if isinstance(value, list):
            return _Filtered(value)
        raise ExpressionError(f"object filter on {type(value).__name__} in {self.text!r}")

    def member(self, value: Any, name: str) -> Any:
        if isinstance(value, _Filtered):
            return _Filtered(self.member(item, name) for item in value)
        if value is None:
            return None
        if isinstance(value, dict):
            # Property names are case-insensitive (the reference's "Property dereference").
            for key, item in value.items():
                if key.lower() == name.lower():
                    return item
            return None
        raise ExpressionError(f"property {name!r} of a {type(value).__name__} in {self.text!r}")

    def index(self, value: Any, key: Any) -> Any:
        if isinstance(value, list) and isinstance(key, (int, float)) and float(key).is_integer():
            return value[int(key)] if 0 <= int(key) < len(value) else None
        raise ExpressionError(f"index {key!r} of a {type(value).__name__} in {self.text!r}")

    def primary(self) -> Any:
        kind, token = self.take()
        if kind == "string":
            return token[1:-1].replace("''", "'")
        if kind == "number":
            return float(token)
        if (kind, token) == ("op", "("):
            value = self.or_()
            self.take(")")
            return value
        if kind != "ident":
            raise ExpressionError(f"unexpected {token!r} in {self.text!r}")
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if self.peek() == ("op", "("):
            return self.call(token)
        if token not in self.contexts:
            raise ExpressionError(f"unknown context {token!r} in {self.text!r}")
        return self.contexts[token]

    def call(self, name: str) -> Any:
        self.take("(")
        arguments = []
        while self.peek() != ("op", ")"):
            arguments.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        function = _FUNCTIONS.get(name.lower())
        if function is not None:
            return function(*arguments)
        if name.lower() in ("success", "failure", "cancelled", "always") and not arguments:
            if self.status is None:
                raise ExpressionError(f"{name}() outside a job or step condition in {self.text!r}")
            return {
                "success": self.status.success,
                "failure": self.status.failure,
                "cancelled": self.status.cancelled,
                "always": True,
            }[name.lower()]
        raise ExpressionError(f"unknown function {name!r} in {self.text!r}")


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(loose_equal(element, item) for element in search)
    return to_string(item).lower() in to_string(search).lower()


def _format(template: str, *arguments: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        return to_string(arguments[int(match.group(1))])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, template)


def _from_json(text: Any) -> Any:
    if not isinstance(text, str):
        raise ExpressionError(f"fromJSON of a {type(text).__name__}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ExpressionError(f"fromJSON of invalid JSON {text!r}: {error}") from None


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda text, prefix: to_string(text).lower().startswith(to_string(prefix).lower()),
    "endswith": lambda text, suffix: to_string(text).lower().endswith(to_string(suffix).lower()),
    "format": _format,
    "join": lambda items, separator=",": to_string(separator).join(to_string(i) for i in items),
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": _from_json,
}


def evaluate(expression: str, contexts: dict[str, Any], status: Status | None = None) -> Any:
    """The value of one expression (without the `${{ }}`)."""
    return _Parser(expression, contexts, status).parse()


_TEMPLATE = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)


def render(value: Any, contexts: dict[str, Any], status: Status | None = None) -> Any:
    """A workflow value with its `${{ }}` expressions evaluated: a lone expression keeps its type."""
    if isinstance(value, dict):
        return {key: render(item, contexts, status) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, contexts, status) for item in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value.strip())
    if whole:
        return evaluate(whole.group(1), contexts, status)
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), contexts, status)), value)


def condition(value: Any, contexts: dict[str, Any], status: Status) -> bool:
    """A job's or step's `if:` (with or without `${{ }}`); no `if` means `success()`."""
    if value is None:
        return status.success
    if isinstance(value, bool):
        return value
    text = str(value).strip()
    whole = _TEMPLATE.fullmatch(text)
    if whole:
        text = whole.group(1)
    elif "${{" in text:
        raise ExpressionError(f"an `if` mixing text and expressions: {text!r}")
    # "GitHub automatically applies the status check success() unless you include one of these functions."
    if not re.search(r"\b(success|failure|cancelled|always)\s*\(", text):
        text = f"success() && ({text})"
    return truthy(evaluate(text, contexts, status))
