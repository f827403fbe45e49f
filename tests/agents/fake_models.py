"""A fake model API on loopback for the real agents: OpenAI chat completions, streamed.

The agent's user message names the command to run (``run: <command>``).  The first
answer is a tool call to the agent's shell tool with that command; once the agent sends
the tool's result back, the answer is a short text and the turn ends.  Any other request
(a title, a summary) gets a short text.  Every request body is kept (``requests``), so a
test can read what the agent told the model, e.g. a rejection's feedback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMMAND_PREFIX = "run: "


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def command_asked(messages: list[dict[str, Any]]) -> str | None:
    """The command of the last user message (``run: ...``), unless a tool already ran."""
    if not messages or messages[-1].get("role") != "user":
        return None
    text = _text(messages[-1].get("content")).strip()
    return text.removeprefix(COMMAND_PREFIX) if text.startswith(COMMAND_PREFIX) else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeChatCompletions

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append(body)
        command = command_asked(body.get("messages", [])) if body.get("tools") else None
        if command is not None:
            arguments = json.dumps({"command": command, "description": "Run the command"})
            call = {"index": 0, "id": "call_1", "type": "function"}
            deltas: list[dict[str, Any]] = [
                {"role": "assistant", "tool_calls": [{**call, "function": {"name": "bash"}}]},
                {"tool_calls": [{"index": 0, "function": {"arguments": arguments}}]},
            ]
            finish = "tool_calls"
        else:
            deltas, finish = [{"role": "assistant", "content": "done"}], "stop"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for delta in deltas:
            self._chunk({"index": 0, "delta": delta, "finish_reason": None})
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        self._chunk({"index": 0, "delta": {}, "finish_reason": finish}, usage=usage)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _chunk(self, choice: dict[str, Any], **extra: Any) -> None:
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "fake-model",
            "choices": [choice],
            **extra,
        }
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())

    def _json(self, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeChatCompletions(ThreadingHTTPServer):
    """The server; ``url`` is its OpenAI base URL (``.../v1``)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def tool_results(self) -> list[str]:
        """The text of every tool result the agent sent back, in order."""
        with self.lock:
            return [
                _text(message.get("content"))
                for body in self.requests
                for message in body.get("messages", [])
                if message.get("role") == "tool"
            ]


@contextmanager
def chat_completions() -> Iterator[FakeChatCompletions]:
    """A running fake, stopped at the end."""
    server = FakeChatCompletions()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
