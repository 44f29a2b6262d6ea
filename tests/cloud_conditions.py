"""Small evaluators of the two policy forms the GCP and Alibaba Cloud CI identities use, failing closed.

- Google Cloud IAM conditions (CEL): the forms used by constructs_lib/gcp/ci_trust.py only:
  `resource.name.startsWith("…")`, `resource.name.endsWith("…")`, `resource.name == "…"`,
  `resource.name.extract("…{x}…") == "…"`, joined by `&&`, `||` and parentheses
  (https://cloud.google.com/iam/docs/conditions-overview, `extract` in
  https://cloud.google.com/iam/docs/conditions-attribute-reference#extract: the text between the template's
  literal prefix and suffix, or "" when the prefix is not found).
- Alibaba Cloud RAM policies (Version 1): an explicit Deny wins over any Allow, otherwise a matching Allow allows
  (https://www.alibabacloud.com/help/en/ram/user-guide/policy-evaluation-process); `Action` and `Resource` match
  with `*` wildcards (actions case-insensitively); conditions `StringEquals` / `StringLike` on context keys, a key
  missing from the request context never matches. Any other element or operator raises.
"""

from __future__ import annotations

import fnmatch
import re


class UnknownForm(Exception):
    """A condition or policy element these evaluators do not model."""


_CEL_TOKEN = re.compile(r'\s*(&&|\|\||\(|\)|==|"(?:[^"\\]|\\.)*"|resource\.name(?:\.(?:startsWith|endsWith|extract))?)')


def _cel_tokens(expression: str) -> list[str]:
    tokens, position = [], 0
    while position < len(expression):
        if not expression[position:].strip():
            break
        match = _CEL_TOKEN.match(expression, position)
        if not match:
            raise UnknownForm(f"CEL: cannot read {expression[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _extract(name: str, template: str) -> str:
    prefix, rest = template.split("{", 1)
    suffix = rest.split("}", 1)[1]
    start = name.find(prefix)
    if start < 0:
        return ""
    tail = name[start + len(prefix) :]
    end = tail.find(suffix) if suffix else len(tail)
    return tail[:end] if end >= 0 else ""


def cel(expression: str, resource_name: str) -> bool:
    """The value of a condition for a request on `resource_name`."""
    tokens = _cel_tokens(expression)
    position = 0

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise UnknownForm(f"CEL: unexpected end of {expression!r}")
        position += 1
        return tokens[position - 1]

    def literal() -> str:
        token = take()
        if not token.startswith('"'):
            raise UnknownForm(f"CEL: expected a string, got {token!r}")
        return token[1:-1].replace('\\"', '"')

    def call() -> str:
        if take() != "(":
            raise UnknownForm("CEL: expected (")
        value = literal()
        if take() != ")":
            raise UnknownForm("CEL: expected )")
        return value

    def atom() -> bool:
        token = take()
        if token == "(":
            value = disjunction()
            if take() != ")":
                raise UnknownForm("CEL: expected )")
            return value
        if token == "resource.name.startsWith":
            return resource_name.startswith(call())
        if token == "resource.name.endsWith":
            return resource_name.endswith(call())
        if token == "resource.name.extract":
            extracted = _extract(resource_name, call())
            if take() != "==":
                raise UnknownForm("CEL: extract() must be compared with ==")
            return extracted == literal()
        if token == "resource.name":
            if take() != "==":
                raise UnknownForm("CEL: resource.name must be compared with ==")
            return resource_name == literal()
        raise UnknownForm(f"CEL: {token!r} is not modelled")

    def chain(operator: str, operand) -> bool:
        # evaluates every operand (no short cut), so a form it does not know raises wherever it stands
        value = operand()
        while position < len(tokens) and tokens[position] == operator:
            take()
            right = operand()
            value = (value and right) if operator == "&&" else (value or right)
        return value

    def disjunction() -> bool:
        return chain("||", lambda: chain("&&", atom))

    result = disjunction()
    if position != len(tokens):
        raise UnknownForm(f"CEL: trailing {tokens[position:]} in {expression!r}")
    return result


_STATEMENT_KEYS = {"Effect", "Action", "Resource", "Condition"}


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            values = expected if isinstance(expected, list) else [expected]
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringEquals":
                if actual not in values:
                    return False
            elif operator == "StringLike":
                if not any(fnmatch.fnmatchcase(actual, value) for value in values):
                    return False
            else:
                raise UnknownForm(f"RAM: condition operator {operator!r} is not modelled")
    return True


def _statement_matches(statement: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    unknown = set(statement) - _STATEMENT_KEYS
    if unknown:
        raise UnknownForm(f"RAM: statement elements {sorted(unknown)} are not modelled")
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions):
        return False
    if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def ram_allows(policy: dict, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    if policy.get("Version") != "1":
        raise UnknownForm(f"RAM: policy version {policy.get('Version')!r}")
    context = context or {}
    matching = [s for s in policy["Statement"] if _statement_matches(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in matching):
        return False
    return any(s["Effect"] == "Allow" for s in matching)
