"""An OpenAI-compatible upstream on the loopback: answers `POST /chat/completions` (and `/v1/chat/completions`).

The answer has the shape of OpenAI's chat completion object (https://platform.openai.com/docs/api-reference/chat/
object): `id`, `object: "chat.completion"`, `created`, `model`, one `choices[0].message`, and `usage` with
`prompt_tokens`, `completion_tokens`, `total_tokens`. The usage is what the test asks for: a user message
`usage:<prompt>+<completion>` (e.g. `usage:100+400`) makes the answer report those tokens; otherwise 1+1. Every
request is recorded (path, model, Authorization header) for the tests to read through `GET /_calls`.
Stdlib only: it runs in either venv.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_USAGE = re.compile(r"usage:(\d+)\+(\d+)")


def usage_message(prompt_tokens: int, completion_tokens: int) -> str:
    """The message content that makes the upstream report exactly these tokens."""
    return f"usage:{prompt_tokens}+{completion_tokens}"


class _Handler(BaseHTTPRequestHandler):
    calls: list[dict]

    def do_GET(self):
        if self.path == "/_calls":
            return self._reply(200, {"calls": self.server.calls})  # type: ignore[attr-defined]
        self._reply(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path.rstrip("/") not in ("/chat/completions", "/v1/chat/completions"):
            return self._reply(404, {"error": {"message": f"no route {self.path}"}})
        prompt, completion = 1, 1
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, str) and (match := _USAGE.search(content)):
                prompt, completion = int(match.group(1)), int(match.group(2))
        self.server.calls.append(  # type: ignore[attr-defined]
            {"path": self.path, "model": body.get("model"), "authorization": self.headers.get("Authorization")}
        )
        self._reply(
            200,
            {
                "id": f"chatcmpl-standin-{len(self.server.calls)}",  # type: ignore[attr-defined]
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "unknown"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "ok"},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            },
        )

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class FakeUpstream:
    """Started on 127.0.0.1 (a free port) in a daemon thread; `stop()` shuts it down."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.calls = []  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def calls(self) -> list[dict]:
        return list(self._server.calls)  # type: ignore[attr-defined]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
