"""Fake model APIs on loopback for the real agents: OpenAI chat completions
(:func:`chat_completions`), OpenAI responses (:func:`openai_responses`) and Anthropic
messages (:func:`anthropic_messages`), streamed.

The agent's user message names the command to run (a line ``run: <command>``).  The
first answer is a tool call to the agent's shell tool with that command; once the agent
sends the tool's result back, the answer is a short text and the turn ends.  Any other
request (a title, a summary) gets a short text.  Every request body is kept
(``requests``), so a test can read what the agent told the model, e.g. a rejection's
feedback (:meth:`FakeModel.tool_results`).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMMAND = re.compile(r"^run: (.+)$", re.MULTILINE)


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _tool_result_text(part: Any) -> str | None:
    """An Anthropic ``tool_result`` content part's text, or None for another part."""
    if not isinstance(part, dict) or part.get("type") != "tool_result":
        return None
    return _text(part.get("content"))


def _responses_as_messages(items: Any) -> list[dict[str, Any]]:
    """An OpenAI responses ``input`` as chat messages (user text; tool outputs)."""
    if not isinstance(items, list):
        return []
    messages: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call_output":
            output = item.get("output")
            messages.append({"role": "tool", "content": output if isinstance(output, str) else ""})
        elif item.get("role") == "user":
            messages.append({"role": "user", "content": item.get("content")})
    return messages


def command_asked(messages: list[dict[str, Any]]) -> str | None:
    """The command the person asked for (a line ``run: ...`` of a user message), unless
    the agent already sent a tool's result after it."""
    users = [message for message in messages if message.get("role") in ("user", "tool")]
    if not users or users[-1].get("role") == "tool":
        return None  # OpenAI: the tool ran
    content = users[-1].get("content")
    if isinstance(content, list) and any(_tool_result_text(p) is not None for p in content):
        return None  # Anthropic: the tool ran
    found = [
        match.group(1).strip()
        for message in users
        for match in COMMAND.finditer(_text(message.get("content")))
    ]
    return found[-1] if found else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeModel

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append(body)
            self.server.lock.notify_all()
        messages = body.get("messages") or _responses_as_messages(body.get("input"))
        command = command_asked(messages) if body.get("tools") else None
        self.answer(body, command)

    def answer(self, body: dict[str, Any], command: str | None) -> None:
        raise NotImplementedError

    def _json(self, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream_head(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True


class _ChatCompletions(_Handler):
    """``POST /v1/chat/completions``, streamed."""

    def answer(self, body: dict[str, Any], command: str | None) -> None:
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
        self._stream_head()
        for delta in deltas:
            self._chunk({"index": 0, "delta": delta, "finish_reason": None})
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        self._chunk({"index": 0, "delta": {}, "finish_reason": finish}, usage=usage)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

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


class _Messages(_Handler):
    """``POST /v1/messages`` (Anthropic), streamed or not; ``count_tokens`` answered."""

    def answer(self, body: dict[str, Any], command: str | None) -> None:
        if self.path.startswith("/v1/messages/count_tokens"):
            self._json({"input_tokens": 1})
            return
        if command is not None:
            arguments = {"command": command, "description": "Run the command"}
            block = {"type": "tool_use", "id": "toolu_fake1", "name": "Bash", "input": arguments}
            stop = "tool_use"
        else:
            block, stop = {"type": "text", "text": "done"}, "end_turn"
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake-model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
        if not body.get("stream"):
            self._json({**message, "content": [block], "stop_reason": stop})
            return
        if block["type"] == "tool_use":
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            start, delta = {"type": "text", "text": ""}, {"type": "text_delta", "text": "done"}
        self._stream_head()
        self._event("message_start", message=message)
        self._event("content_block_start", index=0, content_block=start)
        self._event("content_block_delta", index=0, delta=delta)
        self._event("content_block_stop", index=0)
        self._event(
            "message_delta",
            delta={"stop_reason": stop, "stop_sequence": None},
            usage={"output_tokens": 1},
        )
        self._event("message_stop")
        self.wfile.flush()

    def _event(self, name: str, **data: Any) -> None:
        payload = json.dumps({"type": name, **data})
        self.wfile.write(f"event: {name}\ndata: {payload}\n\n".encode())


class _Responses(_Handler):
    """``POST /v1/responses`` (OpenAI responses), streamed; the shell tool is the one the
    agent offers (``exec_command``, ``shell_command`` or ``shell``)."""

    def answer(self, body: dict[str, Any], command: str | None) -> None:
        tools = {tool.get("name") for tool in body.get("tools", []) if isinstance(tool, dict)}
        response = {"id": "resp_fake", "object": "response", "created_at": 0,
                     "status": "in_progress", "model": "fake-model", "output": []}  # fmt: skip
        item: dict[str, Any]
        arguments: dict[str, Any]
        if command is not None:
            if "exec_command" in tools:
                name, arguments = "exec_command", {"cmd": command}
            elif "shell_command" in tools:
                name, arguments = "shell_command", {"command": command}
            else:
                name, arguments = "shell", {"command": ["bash", "-lc", command]}
            item = {"type": "function_call", "id": "fc_fake", "call_id": "call_fake1",
                    "name": name, "arguments": json.dumps(arguments),
                    "status": "completed"}  # fmt: skip
        else:
            text = {"type": "output_text", "text": "done", "annotations": []}
            item = {"type": "message", "id": "msg_fake", "role": "assistant",
                    "status": "completed", "content": [text]}  # fmt: skip
        usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                 "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip
        self._stream_head()
        self._event("response.created", response=response)
        self._event("response.output_item.added", output_index=0, item=item)
        self._event("response.output_item.done", output_index=0, item=item)
        done = {**response, "status": "completed", "output": [item], "usage": usage}
        self._event("response.completed", response=done)
        self.wfile.flush()

    def _event(self, name: str, **data: Any) -> None:
        payload = json.dumps({"type": name, **data})
        self.wfile.write(f"event: {name}\ndata: {payload}\n\n".encode())


class FakeModel(ThreadingHTTPServer):
    """The server; ``url`` is its base URL (``.../v1`` for OpenAI clients)."""

    daemon_threads = True

    def __init__(self, handler: type[_Handler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Condition()
        self.requests: list[dict[str, Any]] = []

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    def wait_tool_results(self, count: int, timeout: float) -> list[str]:
        """Blocks until the agent sent ``count`` tool results back (or ``timeout``
        seconds passed); the tool results."""
        with self.lock:
            self.lock.wait_for(lambda: len(self.tool_results()) >= count, timeout)
            return self.tool_results()

    def tool_results(self) -> list[str]:
        """The text of every tool result the agent sent back, in order."""
        with self.lock:
            messages = [
                message
                for body in self.requests
                for message in body.get("messages") or _responses_as_messages(body.get("input"))
            ]
        results: list[str] = []
        for message in messages:
            if message.get("role") == "tool":
                results.append(_text(message.get("content")))
            elif isinstance(message.get("content"), list):
                texts = (_tool_result_text(part) for part in message["content"])
                results.extend(text for text in texts if text is not None)
        return results


@contextmanager
def _running(handler: type[_Handler]) -> Iterator[FakeModel]:
    server = FakeModel(handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chat_completions() -> contextlib.AbstractContextManager[FakeModel]:
    """A running fake OpenAI chat-completions API (``url`` is its ``baseURL``)."""
    return _running(_ChatCompletions)


def openai_responses() -> contextlib.AbstractContextManager[FakeModel]:
    """A running fake OpenAI responses API (``url`` is its base URL)."""
    return _running(_Responses)


def anthropic_messages() -> contextlib.AbstractContextManager[FakeModel]:
    """A running fake Anthropic messages API (``root`` is its ``ANTHROPIC_BASE_URL``)."""
    return _running(_Messages)
