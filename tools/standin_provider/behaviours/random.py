"""hashicorp/random: `random_password`, as an ephemeral resource (a fresh value per open) and as a resource.

Generation mirrors the provider's `random.CreateString` (hashicorp/terraform-provider-random
internal/random/string.go:25-88, stored version 04572027): the character classes below (string.go:26-29), the
minimum counts drawn first, the rest from the enabled classes, then a random permutation; from a CSPRNG. Unset
options take the provider's defaults (ephemeral_password.go `applyDefaultPasswordParameters`, stored version
1f9784ee: special/upper/lower/numeric true, every minimum 0). `bcrypt_hash` is a real bcrypt hash of the result
(the provider's `generateHash`), computed with the C library's crypt(3) `$2b$`.
"""

from __future__ import annotations

import secrets
import warnings
from typing import Any

from tools.standin_provider.behaviours import Behaviour, Context, behaviour, ephemeral

NUMERIC = "0123456789"
LOWER = "abcdefghijklmnopqrstuvwxyz"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
_FLAG_DEFAULTS = {"special": True, "upper": True, "lower": True, "numeric": True}
_MINIMUMS = ("min_numeric", "min_lower", "min_upper", "min_special")
_OPTIONS = (*_FLAG_DEFAULTS, *_MINIMUMS)


def with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    for name, default in _FLAG_DEFAULTS.items():
        if not isinstance(out.get(name), bool):
            out[name] = default
    for name in _MINIMUMS:
        if not isinstance(out.get(name), int | float):
            out[name] = 0
    return out


def create_string(params: dict[str, Any]) -> str:
    special = params.get("override_special") or SPECIAL
    chars = (
        (UPPER if params["upper"] else "")
        + (LOWER if params["lower"] else "")
        + (NUMERIC if params["numeric"] else "")
        + (special if params["special"] else "")
    )
    result = []
    for charset, minimum in (
        (NUMERIC, params["min_numeric"]),
        (LOWER, params["min_lower"]),
        (UPPER, params["min_upper"]),
        (special, params["min_special"]),
    ):
        result += [secrets.choice(charset) for _ in range(int(minimum))]
    result += [secrets.choice(chars) for _ in range(int(params["length"]) - len(result))]
    secrets.SystemRandom().shuffle(result)
    return "".join(result)


def bcrypt_hash(value: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # deprecated in 3.11, still the standard library's bcrypt

    # bcrypt, as the provider's generateHash (not a weak hash: METHOD_BLOWFISH is $2b$)
    return crypt.crypt(value[:72], crypt.mksalt(crypt.METHOD_BLOWFISH))  # noqa: S324


def _password(config: dict[str, Any]) -> dict[str, Any]:
    params = with_defaults(config)
    result = create_string(params)
    return {**params, "result": result, "bcrypt_hash": bcrypt_hash(result)}


@ephemeral("random_password")
def open_password(ctx: Context, config: dict[str, Any]) -> dict[str, Any]:
    return _password(config)


@behaviour("random_password")
class Password(Behaviour):
    # every argument of the resource replaces it (resource_password.go: RequiresReplace on each)
    requires_replace = ("keepers", "length", "override_special", *_OPTIONS)

    def create(self, ctx: Context, planned: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        generated = _password(config)
        known = {key: generated[key] for key in ("result", "bcrypt_hash", *_OPTIONS)}
        known["number"] = generated["numeric"]  # the deprecated alias of numeric
        known["id"] = "none"
        return ctx.fill(planned, **known)
