"""The real LiteLLM check (tools/litellm_check/load_config.py, in .venv-litellm) as one process per test session.

Importing litellm takes seconds, so the session starts the checker once, in the background (`--serve`), and every
test hands it its own batch of files. The checker runs each batch in a fresh fork of itself, so a batch's results
and exit status are those of a `load_config.py FILE...` run of its own.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LITELLM_PYTHON = REPO / ".venv-litellm" / "bin" / "python"
CHECKER = REPO / "tools" / "litellm_check" / "load_config.py"
# What the checker prints after a batch's output, followed by the batch's exit status.
BATCH_END = "--- end of batch, exit status "
TIMEOUT_SECONDS = 300


class LiteLLMChecker:
    def __init__(self, log: Path) -> None:
        assert LITELLM_PYTHON.exists(), "the LiteLLM check venv is missing: run `make litellm-venv` (make test does)"
        self._log = log
        with log.open("wb") as stderr:
            self._process = subprocess.Popen(
                [str(LITELLM_PYTHON), str(CHECKER), "--serve", BATCH_END],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        self._pending = b""

    def check(self, paths: list[Path]) -> tuple[int, list[dict]]:
        """(exit status, one result per path) for this batch, as a `load_config.py FILE...` run reports them."""
        assert self._process.stdin is not None
        log_start = self._log.stat().st_size
        self._process.stdin.write((json.dumps([str(path) for path in paths]) + "\n").encode())
        self._process.stdin.flush()
        lines, returncode = [], None
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while (line := self._readline(deadline)) is not None:
            if line.startswith(BATCH_END):
                returncode = int(line.removeprefix(BATCH_END))
                break
            lines.append(line)
        with self._log.open("rb") as log:
            log.seek(log_start)
            stderr = log.read().decode(errors="replace")
        results = [json.loads(line) for line in lines if line.startswith("{")]
        assert returncode is not None, f"the LiteLLM checker stopped or timed out:\n{stderr[-2000:]}"
        assert len(results) == len(paths), stderr[-2000:]
        return returncode, results

    def _readline(self, deadline: float) -> str | None:
        """The next stdout line, or None at end of file or past the deadline."""
        assert self._process.stdout is not None
        fd = self._process.stdout.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode()

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
