"""The words of every configuration error: one voice, written for the person who edits the YAML file.

Pydantic's own wording ("Input should be a valid integer", "String should match pattern '^[a-z]...$'") never
reaches the user: `problem_of` rephrases each error type, `PATTERN_WORDS` says in words what each field's pattern
accepts (a test checks that every pattern of `config/schema.json` has its words), and every echoed value goes
through `shown`, which caps it at `MAX_SHOWN` characters.
"""

from __future__ import annotations

from typing import Any

MAX_SHOWN = 80

_LOWER_START = "starting with a lowercase letter"
_IMAGE = "an image reference `host/path:tag` or `host/path@sha256:<digest>` (lowercase host and path)"

# Each pattern a config field uses, in words. Keep the key byte-for-byte equal to the pattern in the model.
PATTERN_WORDS: dict[str, str] = {
    r"^[1-9][0-9]*[smhd]$": "a LiteLLM duration: a whole number and s, m, h or d (30s, 10m, 1h, 1d)",
    r"^[a-z][a-z0-9]{1,9}$": f"2-10 lowercase letters or digits, {_LOWER_START}",
    r"^[a-z][a-z0-9]{1,7}$": f"2-8 lowercase letters or digits, {_LOWER_START}",
    r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$": "a GitHub repository written `owner/name`",
    r"^[a-z][a-z0-9-]*[a-z0-9]$": f"lowercase letters, digits and '-', {_LOWER_START} and not ending in '-'",
    r"^[^@\s]+@[^@\s]+$": "an e-mail address (`name@example.com`)",
    r"^[A-Z][A-Z0-9_]*$": "an environment variable name: uppercase letters, digits and '_', starting with a letter",
    r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$": "1-100 letters, digits or `._:/-`, starting with a letter or digit",
    r"^[a-z0-9_-]+/\S+$": "a LiteLLM model written `provider/model-id` (e.g. `openai/gpt-4o`)",
    r"^https://\S+$": "an https:// address without spaces",
    r"^https://[a-z0-9.-]+(?::[0-9]{1,5})?$": "an https:// address of a host (and port), with no path",
    r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$": "a lowercase DNS name such as `llm.example.com`",
    r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.pem$": "a relative path to a `.pem` file beside the environment file",
    r"^redis\.[a-z0-9.]+$": "an ApsaraDB for Redis instance class such as `redis.master.small.default`",
    r"^[a-z]{2}(-[a-z0-9]+)+$": "an Alibaba Cloud region such as `cn-hangzhou`",
    r"^pg\.[a-z0-9.]+$": "an ApsaraDB RDS PostgreSQL instance type such as `pg.n2.2c.2m`",
    r"^vpc-[a-z0-9]+$": "an Alibaba Cloud VPC ID (`vpc-...`)",
    r"^kst-[a-z0-9]+$": "an Alibaba Cloud KMS instance ID (`kst-...`)",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,127}$": "an ECS image ID of 3-128 letters, digits or `_.-`",
    r"^ecs\.[a-z0-9-]+\.[a-z0-9]+$": "an ECS instance type such as `ecs.c7.large`",
    r"^[0-9]+-[a-z0-9-]+$": "an Alibaba Cloud certificate ID such as `12345678-cn-hangzhou`",
    r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$": "an OSS bucket name: 3-63 lowercase letters, digits and '-'",
    r"^[a-zA-Z][a-zA-Z0-9-]{1,14}[a-zA-Z0-9]$": "a Tablestore instance name: 3-16 letters, digits and '-'",
    r"^[A-Za-z_][A-Za-z0-9_]{0,254}$": "a Tablestore table name: letters, digits and '_', not starting with a digit",
    r"^\d+\.\d+$": "a `major.minor` version such as `16.6`",
    r"^cache\.[a-z0-9]+\.[a-z0-9]+$": "an ElastiCache node type such as `cache.t4g.small`",
    r"^[A-Za-z0-9/_+=.@-]{1,512}$": "a Secrets Manager secret name: letters, digits and `/_+=.@-`",
    r"^\d{12}$": "a 12-digit AWS account ID, quoted as text",
    r"^[a-z0-9.-]+/[a-z0-9._/-]*[a-z0-9]$": "an image registry prefix `host/path` (lowercase)",
    r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$": "an image tag: 1-128 letters, digits or `_.-`",
    r"^[a-z]{2}(-[a-z]+)+-\d$": "an AWS region such as `us-east-1`",
    r"^(?P<host>[a-z0-9.-]+)/(?P<path>[a-z0-9._/-]+)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$": _IMAGE,
    r"^[a-z][a-z0-9_]{0,62}$": f"1-63 lowercase letters, digits and '_', {_LOWER_START}",
    r"^[a-z][a-z0-9_]{0,52}$": f"1-53 lowercase letters, digits and '_', {_LOWER_START}",
    r"^db\.[a-z0-9]+\.[a-z0-9]+$": "an RDS instance class such as `db.r6g.large`",
    r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$": "an ACM certificate ARN",
    r"^subnet-[0-9a-f]{8,17}$": "an AWS subnet ID (`subnet-` and 8-17 hex digits)",
    r"^vpc-[0-9a-f]{8,17}$": "an AWS VPC ID (`vpc-` and 8-17 hex digits)",
    r"^[a-z0-9-]{1,40}$": "1-40 lowercase letters, digits and '-'",
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$": "a Secrets Manager secret ARN",
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$": "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
    r"^[A-Za-z0-9_.-]{3,255}$": "a DynamoDB table name: 3-255 letters, digits or `_.-`",
    r"^[A-Za-z0-9_.:-]{1,255}$": "1-255 letters, digits or `_.:-`",
    r"^[A-Za-z0-9._/#:-]{1,255}$": "a CloudWatch namespace: 1-255 letters, digits or `._/#:-`",
    r"^[0-9a-fA-F]{40}$": "a SHA-1 thumbprint of 40 hex digits",
    r"^[\w+=,.@-]{1,64}$": "an IAM role name: 1-64 letters, digits or `+=,.@_-`",
    r"^[a-z][a-z0-9-]{0,62}[a-z0-9]$": "a Secret Manager secret ID: lowercase letters, digits and '-'",
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$": f"a GCP project ID: 6-30 lowercase letters, digits and '-', {_LOWER_START}",
    r"^[a-z]+-[a-z]+\d$": "a GCP region such as `us-central1`",
    r"^projects/[^/]+/locations/[a-z0-9-]+/keyRings/[^/]+/cryptoKeys/[^/]+$": (
        "a KMS key `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`"
    ),
    r"^db-[a-z0-9-]+$": "a Cloud SQL tier such as `db-custom-2-7680`",
    r"^(?:[1-9][0-9]{1,3}m|[1-8])$": "a CPU amount: 1-8 CPUs or 10m-9999m millicores",
    r"^[1-9][0-9]*(Mi|Gi)$": "a memory size such as `512Mi` or `2Gi`",
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/global/networks/[a-z]([-a-z0-9]*[a-z0-9])?$": (
        "a VPC network `projects/<project>/global/networks/<name>`"
    ),
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/regions/[a-z]+-[a-z]+\d/subnetworks/[a-z]([-a-z0-9]*[a-z0-9])?$": (
        "a subnetwork `projects/<project>/regions/<region>/subnetworks/<name>`"
    ),
    r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$": "a GCS bucket name: 3-63 lowercase letters, digits and `_.-`",
    r"^[A-Za-z0-9-]+$": "a GCS location such as `US` or `europe-west1`",
}


class ConfigProblems(ValueError):
    """Raised by a model validator with every problem it found, each at its own path below the model.

    A path is a tuple of keys and list indices (`("agents", 1, "models", 0)`), so the loader can point at the
    line of the offending value itself.
    """

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, path))}: {text}" for path, text in problems))


def raise_problems(problems: list[tuple[tuple[str | int, ...], str]]) -> None:
    if problems:
        raise ConfigProblems(problems)


def shown(value: Any) -> str:
    """A value as an error message echoes it: quoted text or a YAML-ish scalar, at most MAX_SHOWN characters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value"
    if isinstance(value, (int, float)):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):
        return f"a mapping of {len(value)} key(s)"
    elif isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    else:
        text = repr(value)
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[: MAX_SHOWN - 20]}... ({len(str(value))} characters)"


def _got(value: Any) -> str:
    """`got <kind> <value>` for type errors: the kind matters when YAML read a value differently than meant."""
    if isinstance(value, str):
        return f"got text {shown(value)}"
    if isinstance(value, bool):
        return f"got {shown(value)}"
    if isinstance(value, (int, float)):
        return f"got the number {shown(value)}"
    return f"got {shown(value)}"


_EXPECTED_TYPE = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "string_type": "text (put quotes around it)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "none_required": "left empty",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def problem_of(error: dict[str, Any]) -> str:
    """One pydantic error (other than unknown and missing keys) in the project's own words."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if kind in _EXPECTED_TYPE:
        return f"must be {_EXPECTED_TYPE[kind]}, {_got(value)}"
    if kind == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(ctx.get("pattern", ""), "in the format config/schema.json describes")
        return f"must be {words}, got {shown(value)}"
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx[key]}, got {shown(value)}"
    if kind in ("string_too_short", "string_too_long"):
        limit = ctx.get("min_length", ctx.get("max_length"))
        words = "at least" if kind == "string_too_short" else "at most"
        return f"must be {words} {_plural(limit, 'character')} long, got {len(value)}: {shown(value)}"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length", ctx.get("max_length"))
        words = "at least" if kind == "too_short" else "at most"
        return f"must list {words} {_plural(limit, 'item')}, got {ctx.get('actual_length', len(value or []))}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}, got {shown(value)}"
    if kind == "decimal_max_places":
        return f"must have at most {_plural(ctx['decimal_places'], 'decimal place')}, got {shown(value)}"
    if kind == "decimal_max_digits":
        return f"must have at most {_plural(ctx['max_digits'], 'digit')}, got {shown(value)}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    # A constraint the models do not use today: pydantic's sentence, lower-cased to read as ours.
    message = str(error["msg"])
    return f"{message[:1].lower()}{message[1:]}".replace("Input should", "must").replace("input should", "must")
