"""Run in .venv-litellm (started by tests/litellm_probe.py): import LiteLLM once, then run each probe in a fork.

    python -c "<this file's source>" MODULE...   # import MODULE..., then serve JSON lines on stdin/stdout

A probe is what `python -c SOURCE ARG...` would run with the environment ENV in DIRECTORY: a request line is
{"source": SOURCE, "argv": [ARG, ...], "env": ENV, "cwd": DIRECTORY}, its answer {"returncode", "stdout", "stderr"}.
Each probe runs in a fork of this process made after the imports, in DIRECTORY, with os.environ replaced by ENV,
sys.argv ["-c", ARG...], `__name__` "__main__", stdin /dev/null and its own stdout/stderr files: what a fresh process
would do, except that the imports already ran under this process's environment. So the first line this server prints
gives the environment this server started with and which names those imports read (by name, or by walking
os.environ: only urllib's proxy lookup does, which reads the `*_proxy` names); a client sends a probe whose ENV
differs in one of them to a fresh process instead (tests/litellm_probe.py).
"""

import builtins
import importlib
import json
import os
import sys
import tempfile
import traceback
import types

# What a walk over os.environ during the imports may read without making every name count as read.
PROXY_LOOKUP = "urllib/request.py"


def _caller_outside() -> str:
    """The file of the innermost frame that is neither this server's code nor the collections machinery."""
    this_file = _caller_outside.__code__.co_filename  # "<string>" under `python -c`
    for frame in reversed(traceback.extract_stack()):
        if frame.filename != this_file and not frame.filename.startswith("<frozen"):
            return frame.filename
    return ""


def _import_reading_environ(modules: list[str]) -> dict:
    """Import `modules`, recording the environment names they read."""
    read: set[str] = set()
    walkers: list[str] = []
    original = os.environ

    class Recording(os._Environ):
        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            read.add(key)
            return super().__contains__(key)

        def __iter__(self):
            walkers.append(_caller_outside())
            return super().__iter__()

    # The same underlying dict: a write through either object is a write to the process environment.
    os.environ = Recording(  # noqa: B003 (the same variables, recorded; restored below)
        original._data, original.encodekey, original.decodekey, original.encodevalue, original.decodevalue
    )
    try:
        for module in modules:
            importlib.import_module(module)
    finally:
        os.environ = original  # noqa: B003
    every_name = any(not walker.endswith(PROXY_LOOKUP) for walker in walkers)
    return {"read": sorted(read), "every_name": every_name, "proxy_names": bool(walkers)}


def _run_in_child(request: dict, stdout_path: str, stderr_path: str) -> None:
    """The forked child: become a `python -c SOURCE ARG...` run with ENV, then exit with its status."""
    status = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(os.open(stdout_path, os.O_WRONLY), 1)
        os.dup2(os.open(stderr_path, os.O_WRONLY), 2)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["-c", *request["argv"]]
        try:
            main = sys.modules["__main__"] = types.ModuleType("__main__")
            main.__builtins__ = builtins
            code = compile(request["source"], "<string>", "exec")
            exec(code, main.__dict__)  # noqa: S102 (as `python -c` runs it)
            status = 0
        except SystemExit as stop:  # as the interpreter treats it at exit
            if stop.code is None:
                status = 0
            elif isinstance(stop.code, int):
                status = stop.code
            else:
                print(stop.code, file=sys.stderr)
                status = 1
        except BaseException as error:  # printed as the interpreter prints it: from the probe's own frame
            traceback.print_exception(type(error), error, error.__traceback__.tb_next)
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def _probe(request: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="litellm-probe-") as directory:
        stdout_path, stderr_path = (os.path.join(directory, name) for name in ("stdout", "stderr"))
        for path in (stdout_path, stderr_path):
            open(path, "wb").close()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_in_child(request, stdout_path, stderr_path)
        _, wait_status = os.waitpid(pid, 0)
        with open(stdout_path, errors="replace") as out, open(stderr_path, errors="replace") as err:
            return {"returncode": os.waitstatus_to_exitcode(wait_status), "stdout": out.read(), "stderr": err.read()}


def main(modules: list[str]) -> None:
    started_with = dict(os.environ)
    print(json.dumps({"environ": started_with, **_import_reading_environ(modules)}), flush=True)
    for line in sys.stdin:
        print(json.dumps(_probe(json.loads(line))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
