"""The `gcloud` stand-in: `gcloud run jobs execute`, the GCP migrations step's call (constructs_lib/gcp/migrations.py),
and `gcloud secrets versions access`, the CI jobs' read of the LiteLLM key (tools/ci/litellm_key.py).

The command line is checked against the command's reference,
https://cloud.google.com/sdk/gcloud/reference/run/jobs/execute:

    gcloud run jobs execute [JOB] [--container=CONTAINER] [--region=REGION] [--task-timeout=TASK_TIMEOUT]
      [--tasks=TASKS] [--args=[ARG,...] --update-env-vars=[KEY=VALUE,...]] [--async | --wait] [GCLOUD_WIDE_FLAG ...]

and the gcloud-wide flags listed there. Behaviour, messages and exit codes follow the SDK's source, as installed
on this machine (Google Cloud SDK 528.0.0, /usr/lib/google-cloud-sdk/lib; the same files are in
google-cloud-sdk-unofficial/google-cloud-sdk), and were compared with that gcloud's own answers:
- a usage error prints `ERROR: (gcloud.run.jobs.execute) <message>` and exits 2
  (googlecloudsdk/calliope/parser_extensions.py:1100 `log.error('({prog}) {message}')`, :1152 `self.exit(2, ...)`):
  an unknown flag ("unrecognized arguments: --x"), `--async` with `--wait` ("argument --async: At most one of
  --async | --wait can be specified.", calliope/parser_errors.py:112), `--tasks` not an integer >= 1
  (command_lib/run/flags.py `BoundedInt(lower_bound=1)`, calliope/arg_parsers.py:815), an unknown
  `gcloud run jobs <command>` ("Invalid choice: '<command>'.");
- any other error exits 1 (calliope/exceptions.py:690 `sys.exit(getattr(exc, 'exit_code', 1))`), a missing JOB
  among them ("Error parsing [job]." ..., calliope/concepts/concepts.py:432, concepts/deps.py:390);
- with `--wait` the command waits for the execution to complete and fails with "The execution failed." when it
  does not (command_lib/run/serverless_operations.py:1945); without it, it waits only until the execution
  started, so a task that fails later still exits 0; with `--async` it returns at once (surface/run/jobs/execute.py
  :160-173: "Execution [...] has successfully completed." / "started running." / "is being started
  asynchronously.").
`gcloud secrets versions access VERSION [--secret=SECRET] [--out-file=PATH]` follows
https://cloud.google.com/sdk/gcloud/reference/secrets/versions/access and the SDK's surface/secrets/versions/
access.py; its messages and exit codes were compared with that gcloud's own answers (SDK 528.0.0, offline):
- no VERSION: "argument (VERSION : --secret=SECRET): Must be specified." and exit 2;
- a VERSION that is not a full name `projects/<p>/secrets/<s>/versions/<v>` needs `--secret` and a project
  (`--project` or the core/project property), else "Error parsing [version]." ... "Failed to find attribute
  [secret]" (or [project]) and exit 1;
- the answer is printed with command_lib/secrets/fmt.py's `_SECRET_DATA` format,
  `value[terminator="",private](payload.data.decode(base64).decode(utf8))`: the value as is, no newline; with
  `--out-file` the bytes go to the file and nothing is printed (access.py: `args.format = 'disable'`).
The value is the session's stand-in Secret Manager (`secrets/gcp.json`, what an apply or an operator put there);
a secret or version it does not hold is an API error, `ERROR: (gcloud.secrets.versions.access) NOT_FOUND: ...`
and exit 1 (calliope's HttpException; the text after NOT_FOUND is the stand-in's, not the API's).
The stand-in knows no jobs (they are in the stand-in provider's state): any job name is executed. The progress
lines around the messages are the stand-in's; the step parses none of gcloud's output, only its exit code.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from pathlib import Path

from . import ledger

STATE = "gcp-run"
USAGE_ERROR = 2
ERROR = 1

# The gcloud-wide flags of the reference page (GCLOUD WIDE FLAGS): those that take a value, and the switches.
_WIDE_VALUE_FLAGS = (
    "--access-token-file",
    "--account",
    "--billing-project",
    "--configuration",
    "--flags-file",
    "--flatten",
    "--format",
    "--impersonate-service-account",
    "--project",
    "--trace-token",
    "--verbosity",
)
# The commands of `gcloud run jobs` in SDK 528.0.0 (lib/surface/run/jobs/); only `execute` is modeled.
_RUN_JOBS_COMMANDS = frozenset(
    {
        "add-iam-policy-binding",
        "create",
        "delete",
        "deploy",
        "describe",
        "execute",
        "executions",
        "get-iam-policy",
        "list",
        "logs",
        "remove-iam-policy-binding",
        "replace",
        "set-iam-policy",
        "update",
    }
)


_EXECUTE = "gcloud.run.jobs.execute"
_MISSING_JOB = (
    "Error parsing [job].\nThe [Job] resource is not properly specified.\nFailed to find attribute [jobs]. "
    "The attribute can be set in the following ways: \n- provide the argument `JOB` on the command line\n"
    "- specify the job name from an interactive prompt"
)


class CommandError(Exception):
    """An error of the command (exit 1), printed as `ERROR: (<prog>) <message>`."""

    exit_code = ERROR

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class UsageError(CommandError):
    """An argument-parsing error (exit 2)."""

    exit_code = USAGE_ERROR


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(self.prog, message)


def _task_count(value: str) -> int:
    # arg_parsers.BoundedInt(lower_bound=1)'s messages (calliope/arg_parsers.py).
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"Value must be an integer; received: {value}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"Value must be greater than or equal to 1; received: {value}")
    return count


def _execute_parser() -> _Parser:
    parser = _Parser(prog="gcloud.run.jobs.execute", add_help=False, allow_abbrev=False)
    parser.add_argument("JOB", nargs="?")
    parser.add_argument("--container")
    parser.add_argument("--region")
    parser.add_argument("--task-timeout")
    parser.add_argument("--tasks", type=_task_count)
    parser.add_argument("--args")
    parser.add_argument("--update-env-vars")
    parser.add_argument("--async", dest="async_", action="store_true")
    parser.add_argument("--wait", action="store_true")
    for flag in _WIDE_VALUE_FLAGS:
        parser.add_argument(flag)
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--log-http", action="store_true")
    parser.add_argument("--user-output-enabled", action=argparse.BooleanOptionalAction)
    parser.add_argument("--help", "-h", action="store_true")
    return parser


def _command_path(argv: list[str]) -> list[str]:
    return [word for word in argv if not word.startswith("-")][:3]


def _execution_name(job: str, number: int) -> str:
    # Cloud Run names an execution `<job>-<5 lowercase letters or digits>`.
    return f"{job}-{hashlib.sha256(f'{job}|{number}'.encode()).hexdigest()[:5]}"


def _run_jobs_execute(argv: list[str]) -> int:
    args = _execute_parser().parse_args(argv[3:])
    if args.async_ and args.wait:
        raise UsageError(_EXECUTE, "argument --async: At most one of --async | --wait can be specified.")
    project = args.project or os.environ.get("CLOUDSDK_CORE_PROJECT")
    region = args.region or os.environ.get("CLOUDSDK_RUN_REGION")
    if not args.JOB:
        raise CommandError(_EXECUTE, _MISSING_JOB)
    job = args.JOB.rsplit("/", 1)[-1]
    if not project or not region:
        # gcloud would prompt, or fail naming the property; the stand-in wants both on the command line.
        raise CommandError(_EXECUTE, "the offline stand-in needs --project and --region (or CLOUDSDK_* properties)")
    failure = ledger.take_failure("gcloud run jobs execute")
    with ledger.state(STATE) as run:
        executions = run.setdefault("executions", {})
        name = _execution_name(job, len(executions))
        executions[name] = {
            "job": f"projects/{project}/locations/{region}/jobs/{job}",
            "createTime": time.time(),
            "taskCount": args.tasks or 1,
            # Cloud Run v2 Execution's counts
            # (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.jobs.executions)
            "succeededCount": 0 if failure else args.tasks or 1,
            "failedCount": 1 if failure else 0,
            "taskExitCode": (1 if failure.exit_code is None else failure.exit_code) if failure else 0,
        }
    print("Creating execution...", file=sys.stderr)
    if args.async_:
        print(f"Execution [{name}] is being started asynchronously.", file=sys.stderr)
        return 0
    if not args.wait:
        print(f"Execution [{name}] has successfully started running.", file=sys.stderr)
        return 0
    if failure:
        print(f"ERROR: (gcloud.run.jobs.execute) The execution failed. Execution [{name}].", file=sys.stderr)
        return ERROR
    print(f"Execution [{name}] has successfully completed.", file=sys.stderr)
    return 0


_ACCESS = "gcloud.secrets.versions.access"
_EMPTY_OUT_FILE_TAIL = (
    "This can happen if you pass or pipe a variable that is undefined. "
    "Please verify that the --out-file flag is not the empty string."
)
_VERSION_NAME = re.compile(r"^projects/(?P<project>[^/]+)/secrets/(?P<secret>[^/]+)/versions/(?P<version>[^/]+)$")


def _unresolved_version(attribute: str, flag: str) -> str:
    # concepts.py / deps.py, as the SDK prints them for an incompletely specified VERSION.
    return (
        "Error parsing [version].\nThe [version] resource is not properly specified.\n"
        f"Failed to find attribute [{attribute}]. The attribute can be set in the following ways: \n"
        "- provide the argument `VERSION` on the command line with a fully specified name\n"
        f"- provide the argument `{flag}` on the command line"
    )


def _access_parser() -> _Parser:
    parser = _Parser(prog=_ACCESS, add_help=False, allow_abbrev=False)
    parser.add_argument("VERSION", nargs="?")
    parser.add_argument("--secret")
    parser.add_argument("--location")
    parser.add_argument("--out-file")
    for flag in _WIDE_VALUE_FLAGS:
        parser.add_argument(flag)
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--log-http", action="store_true")
    parser.add_argument("--user-output-enabled", action=argparse.BooleanOptionalAction)
    return parser


def _secrets_versions_access(argv: list[str]) -> int:
    args = _access_parser().parse_args(argv[3:])
    if not args.VERSION:
        raise UsageError(_ACCESS, "argument (VERSION : --secret=SECRET): Must be specified.")
    full = _VERSION_NAME.match(args.VERSION)
    if full:
        project, secret, version = full["project"], full["secret"], full["version"]
    else:
        project, secret, version = args.project or os.environ.get("CLOUDSDK_CORE_PROJECT"), args.secret, args.VERSION
        if not secret:
            raise CommandError(_ACCESS, _unresolved_version("secret", "--secret"))
        if not project:
            raise CommandError(
                _ACCESS, _unresolved_version("project", "--project") + "\n- set the property `core/project`"
            )
    name = f"projects/{project}/secrets/{secret}"
    failure = ledger.take_failure("gcloud secrets versions access")
    if failure is not None:
        raise CommandError(_ACCESS, failure.message)
    found = ledger.secret_store("gcp").read(name, version)
    if found is None:
        raise CommandError(
            _ACCESS, f"NOT_FOUND: the stand-in Secret Manager holds no enabled {name}/versions/{version}"
        )
    if args.out_file == "":  # access.py: Access.EMPTY_OUT_FILE_MESSAGE (BadFileException)
        raise CommandError(_ACCESS, "The value provided for --out-file is the empty string. " + _EMPTY_OUT_FILE_TAIL)
    if args.out_file is not None:
        Path(args.out_file).write_bytes(found["value"].encode())
    else:
        sys.stdout.write(found["value"])
    return 0


def _run(argv: list[str]) -> int:
    path = _command_path(argv)
    if path == ["secrets", "versions", "access"] and argv[:3] == path:
        return _secrets_versions_access(argv)
    if path[:2] == ["run", "jobs"] and len(path) == 3 and path[2] not in _RUN_JOBS_COMMANDS:
        raise UsageError("gcloud.run.jobs", f"Invalid choice: '{path[2]}'.")
    if path != ["run", "jobs", "execute"] or argv[:3] != path:
        print(f"gcloud (offline stand-in): `gcloud {' '.join(path)}` is not modeled", file=sys.stderr)
        return ERROR
    return _run_jobs_execute(argv)


def _run_reporting(argv: list[str]) -> tuple[int, set[str]]:
    try:
        exit_code = _run(argv)
    except CommandError as error:
        print(f"ERROR: ({error.prog}) {error}", file=sys.stderr)
        exit_code = error.exit_code
    return exit_code, set()  # no flag of the modelled commands carries a secret (a value is printed, never passed)


def main(argv: list[str] | None = None) -> int:
    return ledger.run_recorded("gcloud", list(sys.argv[1:] if argv is None else argv), _run_reporting)


if __name__ == "__main__":
    sys.exit(main())
