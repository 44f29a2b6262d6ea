"""The `aws` stand-in: the real AWS CLI parses the command line, the stand-in services answer its HTTP requests.

The AWS CLI v1 package (awscli==1.46.3, hash-locked in .venv-awscli: tools/offline_apply/cli/requirements.txt)
builds its commands from the botocore service models it ships (awscli/botocore/data/<service>/<version>/
service-2.json): operation names in kebab case, each input member as `--flag`, required members, shorthand and
JSON values, shape types; `wait <waiter>` comes from waiters-2.json with its delay and maxAttempts
(awscli/customizations/waiters.py:208 `client.get_waiter(...).wait(...)`). The CLI then signs and sends the
request; a `before-send` hook answers it from `services.py` instead of AWS, and the CLI parses that answer with the
same model, applies `--query` and `--output` and prints it as it would print AWS's.

Exit codes are AWS CLI v2's, the CLI the runbooks and CI run (aws/aws-cli v2 `awscli/constants.py`:
PARAM_VALIDATION_ERROR_RC = 252, CONFIGURATION_ERROR_RC = 253, CLIENT_ERROR_RC = 254, GENERAL_ERROR_RC = 255;
`awscli/errorhandler.py`: ParamValidationErrorsHandler (ParamError, ParamSyntaxError, ArgParseException,
botocore ParamValidationError) and UnknownArgumentErrorHandler -> 252, NoRegionErrorHandler and
NoCredentialsErrorHandler -> 253, ClientErrorHandler -> 254, GeneralExceptionHandler (a WaiterError among them)
-> 255). v1 itself exits 2 on argparse errors and 255 on the rest (awscli/clidriver.py:233-263 of 1.46.3).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import ledger

# The stand-in signs with fixed, meaningless credentials and never reads the operator's AWS configuration.
_ISOLATED_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "standin",
    "AWS_SECRET_ACCESS_KEY": "standin",  # pragma: allowlist secret (a fixed, meaningless stand-in value)
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_DROPPED_ENVIRONMENT = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")

PARAM_VALIDATION_ERROR_RC = 252
CONFIGURATION_ERROR_RC = 253
CLIENT_ERROR_RC = 254
GENERAL_ERROR_RC = 255


class UsageError(Exception):
    """What AWS CLI v2's argparser raises as ArgParseException instead of exiting 2."""


def command_key(argv: list[str]) -> str:
    """`aws <service> <operation>` (or `aws <service> wait <waiter>`): the key of cli-failures.json.
    Called on a command line the CLI accepted, whose positionals are the service, operation (and waiter)."""
    words = ["aws"]
    skip_value = False
    for word in argv:
        if skip_value:
            skip_value = False
            continue
        if word.startswith("--"):
            # Top-level options before the service take a value unless they are flags.
            skip_value = len(words) == 1 and "=" not in word and word not in _TOP_LEVEL_FLAGS
            continue
        words.append(word)
        if (len(words) == 3 and words[2] != "wait") or len(words) == 4:
            break
    return " ".join(words)


# awscli/data/cli.json of 1.46.3: the top-level options that take no value.
_TOP_LEVEL_FLAGS = frozenset({"--debug", "--no-verify-ssl", "--no-paginate", "--no-sign-request", "--version"})


def _run(argv: list[str]) -> tuple[int, set[str]]:
    """One AWS CLI invocation: its exit code and the flags whose values the model marks sensitive."""
    import awscli.argparser
    from awscli.argprocess import ParamError, ParamSyntaxError
    from awscli.arguments import UnknownArgumentError
    from awscli.clidriver import create_clidriver
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, ParamValidationError

    from .services import Answerer

    def usage_error(parser: awscli.argparser.CLIArgParser, message: str) -> None:
        # v1's usage text opens with a note that v2 exists; v2's does not.
        usage = awscli.argparser.USAGE.replace(f"\r{awscli.argparser.AWS_CLI_V2_MESSAGE}\n\n", "")
        raise UsageError(f"{usage}\n{parser.prog}: error: {message}")

    awscli.argparser.CLIArgParser.error = usage_error  # v2 raises ArgParseException (-> 252) instead of exit(2)
    driver = create_clidriver()
    answerer = Answerer()
    driver.session.register("before-send", answerer)
    sensitive_flags: set[str] = set()
    try:
        # awscli 1.46.3 CLIDriver.main (clidriver.py:209-236) without its v1 error mapping, and without aliases
        # (they would come from the operator's ~/.aws).
        command_table = driver._get_command_table()
        parser = driver._create_parser(command_table)
        parsed_args, remaining = parser.parse_known_args(argv)
        answerer.key = command_key(argv)
        sensitive_flags |= _sensitive_flags(driver.session, answerer.key)
        driver._handle_top_level_args(parsed_args, remaining)
        driver._emit_session_event(parsed_args)
        return command_table[parsed_args.command](remaining, parsed_args), sensitive_flags
    except UnknownArgumentError as error:
        _write_error(f"usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\n{error}")
        return PARAM_VALIDATION_ERROR_RC, sensitive_flags
    except (UsageError, ParamError, ParamSyntaxError, ParamValidationError) as error:
        _write_error(str(error))
        return PARAM_VALIDATION_ERROR_RC, sensitive_flags
    except (NoRegionError, NoCredentialsError) as error:
        _write_error(str(error))
        return CONFIGURATION_ERROR_RC, sensitive_flags
    except ClientError as error:
        _write_error(str(error))
        return CLIENT_ERROR_RC, sensitive_flags
    except ledger.PlanError:
        raise  # the harness's own input, reported by ledger.run_recorded
    except Exception as error:  # v2's GeneralExceptionHandler: any other error is 255
        _write_error(str(error))
        return GENERAL_ERROR_RC, sensitive_flags


def _sensitive_flags(session, key: str) -> set[str]:
    """The `--flags` of the operation whose input members the service model marks `sensitive` (a secret value):
    their values are not written to cli-calls.jsonl."""
    from botocore import xform_name

    words = key.split()
    if len(words) != 3:
        return set()
    model = session.get_service_model(words[1])
    for name in model.operation_names:
        if xform_name(name, "-") == words[2]:
            members = model.operation_model(name).input_shape.members
            return {f"--{xform_name(member, '-')}" for member, shape in members.items() if _is_sensitive(shape)}
    return set()


def _is_sensitive(shape) -> bool:
    return bool(shape.metadata.get("sensitive"))  # botocore/model.py Shape.METADATA_ATTRS


def _write_error(message: str) -> None:
    sys.stderr.write(f"\n{message}\n")


def _v2_config() -> Path:
    """The stand-in's own AWS config: v2's timestamp format. v1 prints timestamps as sent; "In AWS CLI v2, all
    timestamp response values are returned in the ISO 8601 format" (awscli 1.46.3
    customizations/scalarparse.py, add_timestamp_parser), which v1 gives with cli_timestamp_format = iso8601."""
    path = ledger.offline_dir() / ledger.STATE_DIR / "aws-config"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("[default]\ncli_timestamp_format = iso8601\n")
    return path


def _run_isolated(argv: list[str]) -> tuple[int, set[str]]:
    for name in _DROPPED_ENVIRONMENT:
        os.environ.pop(name, None)
    os.environ.update(_ISOLATED_ENVIRONMENT)
    os.environ["AWS_CONFIG_FILE"] = str(_v2_config())
    sys.argv[0] = "aws"  # the parsers' prog in usage messages
    return _run(argv)


def main(argv: list[str] | None = None) -> int:
    return ledger.run_recorded("aws", list(sys.argv[1:] if argv is None else argv), _run_isolated)


if __name__ == "__main__":
    sys.exit(main())
