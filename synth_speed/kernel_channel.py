"""Talk to the jsii kernel directly instead of through the relay process jsii puts in between.

jsii's Python runtime starts ``node bin/jsii-runtime.js``, which only spawns a second Node process running the
kernel (``lib/program.js``, reading and writing its API channel on file descriptor 3) and relays: our stdin to
the kernel's fd 3, its fd 3 to our stdout, and the kernel's own stdout/stderr wrapped as JSON lines on stderr.
Every one of the ~2,300 round trips of the AWS stacks thus crosses two extra pipes and wakes a third process,
and each kernel start boots Node twice: ~15 % of a full synth's wall clock on two cores, measured with the
output byte-identical.

``install()`` replaces ``_NodeProcess.start``/``stop`` of the pinned jsii (``VERIFIED_JSII``) so that Python
spawns ``node --max-old-space-size=4069 --preserve-symlinks lib/program.js`` itself (the relay's own command
line) with one end of a Unix socket pair as its fd 3 (the relay's channel is a socket pair too), and the
kernel's stdout and stderr go straight to ours. Everything else (the protocol, callbacks, errors) is jsii's own
code. The process is started with ``posix_spawn``, which duplicates the socket onto fd 3 without running Python
in the child. The relay's ``@jsii/check-node`` (a Node version warning) is skipped: the project pins Node 20.
Any other jsii version, a ``JSII_RUNTIME`` override, or ``LLMGW_DIRECT_KERNEL=0`` leaves jsii as it is;
``tests/test_kernel_channel.py`` fails when the pinned version is not the verified one.

The kernels started here also get the project's package cache root (``packed_packages``), and each load of a
packed provider first makes sure its entry is there; a kernel started by jsii itself keeps jsii's own root.
"""

from __future__ import annotations

import atexit
import os
import platform
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from synth_speed import packed_packages

VERIFIED_JSII = "1.142.0"
KERNEL_ARGS = ("--max-old-space-size=4069", "--preserve-symlinks")  # what bin/jsii-runtime.js passes
API_FD = 3  # lib/program.js: SyncStdio({readFD: 3, writeFD: 3})
SWITCH_ENV = "LLMGW_DIRECT_KERNEL"
_package_root: Path | None = None  # set by install(): the package cache root of the kernels started here
_original_load: Any = None  # jsii's Kernel.load, wrapped by _load


class _KernelProcess:
    """The spawned kernel, with the parts of ``subprocess.Popen`` that jsii's ``_NodeProcess`` uses."""

    def __init__(self, pid: int, channel: socket.socket) -> None:
        self.pid = pid
        self.channel = channel
        self.stdin = channel.makefile("wb")
        self.stdout = channel.makefile("rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.returncode

    def terminate(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)


def _start(self: Any) -> None:
    """``_NodeProcess.start``: spawn lib/program.js with a socket on fd 3, then jsii's own handshake."""
    environ = os.environ.copy()
    environ["JSII_AGENT"] = f"Python/{platform.python_version()}"
    if _package_root is not None:
        environ["JSII_RUNTIME_PACKAGE_CACHE_ROOT"] = str(_package_root)
    program = Path(self._jsii_runtime()).parent.parent / "lib" / "program.js"  # jsii's extracted bundle
    node = environ.get("JSII_NODE", "node")
    ours, theirs = socket.socketpair()
    child_end = theirs.fileno() if theirs.fileno() != API_FD else os.dup(API_FD)  # dup2(fd, fd) keeps CLOEXEC
    try:
        pid = os.posix_spawnp(
            node,
            [node, *KERNEL_ARGS, str(program)],
            environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, child_end, API_FD),
            ],
        )
    except BaseException:
        ours.close()
        raise
    finally:
        if child_end != theirs.fileno():
            os.close(child_end)
        theirs.close()
    self._process = _KernelProcess(pid, ours)
    atexit.register(self.stop)
    self.handshake()


def _stop(self: Any) -> None:
    """``_NodeProcess.stop``: ask the kernel to exit, close the channel; safe to call twice (atexit, __del__)."""
    atexit.unregister(self.stop)
    process: _KernelProcess | None = getattr(self, "_process", None)
    if process is None:
        return
    if not process.stdin.closed:
        try:
            process.stdin.write(b'{"exit":0}\n')
            process.stdin.flush()
            process.stdin.close()
            process.channel.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the kernel is gone already
    if process.wait(timeout=5) is None:
        process.terminate()
        process.wait(timeout=5)
    process.stdout.close()
    process.channel.close()
    self._ctx_stack.close()


def _load(self: Any, name: str, version: str, tarball: str) -> None:
    """``Kernel.load``: a packed provider's cache entry is written before the kernel is asked to load it. When
    that fails (a full disk, say), the kernel extracts the package itself, and reports what it cannot do."""
    if _package_root is not None:
        try:
            packed_packages.ensure(_package_root, name, version, tarball)
        except OSError as error:
            print(f"warning: {name}: no packed package cache entry ({error}); jsii extracts it", file=sys.stderr)
    _original_load(self, name, version, tarball)


def prefetch(python_packages: tuple[str, ...]) -> None:
    """Start preparing these prebuilt providers' cache entries (``packed_packages.prefetch``) when it applies."""
    if _package_root is not None:
        packed_packages.prefetch(_package_root, python_packages)


def install() -> bool:
    """Patch the pinned jsii's kernel process; returns False (jsii untouched) when it does not apply.

    Must run before the kernel starts (the first ``import constructs``/``cdktf``); ``synth_speed.enable()``
    calls it. Calling it again is a no-op.
    """
    if os.environ.get(SWITCH_ENV, "1") == "0" or "JSII_RUNTIME" in os.environ:
        return False
    global _original_load, _package_root
    import jsii
    from jsii._kernel import Kernel
    from jsii._kernel.providers import process as jsii_process

    node_process = getattr(jsii_process, "_NodeProcess", None)
    if jsii.__version__ != VERIFIED_JSII or node_process is None:
        return False
    if node_process.start is not _start:
        node_process.start = _start
        node_process.stop = _stop
        _original_load, Kernel.load = Kernel.load, _load
        _package_root = packed_packages.cache_root()
    return True
