"""A fake OpenAI-compatible chat provider on 127.0.0.1 for offline tests of LLM paths.

Stdlib only: an ``http.server.ThreadingHTTPServer`` served from a daemon thread, on a
free port picked by the OS. Use the ``provider`` fixture (``tests/fakes/fixtures.py``)
or the context manager::

    with FakeProvider() as server:
        server.reply = "hello"                   # or a callable: request JSON -> content
        server.script(["500", "429", "ok"])      # the next three requests, in order
        litellm.completion(
            model="openai/gpt-4o-mini", api_base=server.base_url, api_key="test-key",
            messages=[{"role": "user", "content": "hi"}], num_retries=0, max_retries=0,
        )
        assert server.requests[0].json["messages"][0]["content"] == "hi"

Which ``Fault`` a request gets, first match wins:

1. the next entry of a script for its model (``server.script([...], model="gpt-4o")``);
2. the next entry of the script for any model (``server.script([...])``);
3. the model name ``fake/<fault>`` (e.g. ``"fake/500"``; through litellm that is
   ``model="openai/fake/500"``), handy to give each routed path its own behaviour;
4. ``server.mode`` (``Fault.OK`` unless set).

Faults are ``Fault`` members or their string values (``"429"`` or ``Fault.RATE_LIMIT``); an
unknown ``fake/<name>`` gets a 400 with code ``unknown_fault``. A request with
``"stream": true`` gets its reply as server-sent events, a word a chunk (usage last, with
``stream_options.include_usage``); ``cut`` stops such a stream after two words by
dropping the connection; error faults answer as they do unstreamed. What litellm 1.110 raises
for each (with ``num_retries=0``): 500, malformed and drop -> ``InternalServerError``; 429 ->
``RateLimitError`` (``Retry-After`` in ``exc.litellm_response_headers``); slow ->
``Timeout``; 400 -> ``BadRequestError``; 401 -> ``AuthenticationError``; context-length ->
``ContextWindowExceededError``; content-policy -> ``ContentPolicyViolationError``;
bad-output returns normally (it is the caller's output model that must fail).
Every request is recorded in ``server.requests`` (parsed JSON, headers, the fault used).
Normal replies are deterministic: ids count up, ``created`` is fixed, and usage counts
whitespace-separated words (or is ``server.usage`` when set).
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

FAKE_PREFIX = "fake/"
CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z, so replies are reproducible

Reply = str | Callable[[dict[str, Any]], str]


class Fault(StrEnum):
    """How the fake provider answers one request."""

    OK = "ok"  # 200, a chat.completion with usage
    SERVER_ERROR = "500"  # 500, OpenAI "server_error" body
    RATE_LIMIT = "429"  # 429 with a Retry-After header (``retry_after`` seconds)
    SLOW = "slow"  # waits ``slow_seconds`` (or until released), then answers normally
    MALFORMED = "malformed"  # 200 whose body is not valid JSON
    DROP = "drop"  # closes the connection without sending a response
    BAD_OUTPUT = "bad-output"  # 200 chat.completion whose content is ``bad_output``
    BAD_REQUEST = "400"  # 400 invalid_request_error
    AUTH = "401"  # 401 invalid_api_key
    CONTEXT_LENGTH = "context-length"  # 400 code "context_length_exceeded"
    CONTENT_POLICY = "content-policy"  # 400 code "content_policy_violation"
    CUT = "cut"  # a streamed reply that stops after two chunks: the connection drops


# Fault -> (status, error type, error code, message), as OpenAI words them.
ERRORS: dict[Fault, tuple[int, str, str | None, str]] = {
    Fault.SERVER_ERROR: (
        500,
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    Fault.RATE_LIMIT: (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests. Please try again later.",
    ),
    Fault.BAD_REQUEST: (400, "invalid_request_error", None, "The request is invalid (fake)."),
    Fault.AUTH: (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key in your account settings.",
    ),
    Fault.CONTEXT_LENGTH: (
        400,
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 200000 tokens. Please reduce the length of the messages.",
    ),
    Fault.CONTENT_POLICY: (
        400,
        "invalid_request_error",
        "content_policy_violation",
        "Your request was rejected as a result of our safety system.",
    ),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the fake provider received."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    json: Any  # the parsed body, or None when it was not JSON
    fault: Fault | None  # what the server did; None for requests that were not completions

    @property
    def model(self) -> str | None:
        """The requested model, if any."""
        return self.json.get("model") if isinstance(self.json, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages sent."""
        return self.json.get("messages", []) if isinstance(self.json, dict) else []


def error_body(kind: str, code: str | None, message: str, param: str | None = None) -> bytes:
    """An OpenAI-style error JSON body."""
    error = {"message": message, "type": kind, "param": param, "code": code}
    return json.dumps({"error": error}).encode()


def count_words(content: Any) -> int:
    """Whitespace-separated words in a message content (a string or a list of parts)."""
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):
        return sum(count_words(part.get("text")) for part in content if isinstance(part, dict))
    return 0


@dataclass
class FakeProvider:
    """A fake OpenAI-compatible provider; start with ``start()`` or ``with``."""

    reply: Reply = "This is a fake reply."
    mode: Fault | str = Fault.OK
    retry_after: float = 1  # seconds, the 429 ``Retry-After`` header
    slow_seconds: float = 10.0  # longest a SLOW request waits before answering
    bad_output: str = "Sorry, I cannot answer in JSON."  # content of BAD_OUTPUT replies
    usage: tuple[int, int] | None = None  # fixed (prompt, completion) tokens, else word counts
    models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o")  # listed by GET /v1/models
    # Tool calls (name, arguments) answered to a request that offers ``tools``.
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    requests: list[RecordedRequest] = field(default_factory=list, init=False)
    errors: list[BaseException] = field(default_factory=list, init=False)  # unexpected ones
    _scripts: dict[str | None, deque[Fault]] = field(default_factory=dict, init=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, init=False)
    _release: threading.Event = field(default_factory=threading.Event, init=False)
    _httpd: ThreadingHTTPServer | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on a free 127.0.0.1 port and serve from a daemon thread."""
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.provider = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.name = f"fake-provider-{self.port}"
        self._thread.start()
        return self

    def close(self) -> None:
        """Release slow requests, stop serving, close the socket and join every thread."""
        self.release()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()  # joins the request threads (daemon_threads=False)
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._httpd is not None, "the fake provider is not running"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- test controls -----------------------------------------------------------------

    def script(self, faults: Iterable[Fault | str], *, model: str | None = None) -> None:
        """Queue faults for the next requests (of ``model`` only, when given)."""
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(Fault(f) for f in faults)

    def release(self) -> None:
        """Let every waiting (and future) SLOW request answer at once."""
        self._release.set()

    @property
    def hits(self) -> int:
        """How many chat completion requests arrived."""
        return sum(r.fault is not None for r in self.requests)

    def wait_for_hits(self, count: int, timeout: float = 5.0) -> bool:
        """Wait, at most ``timeout`` seconds, until ``count`` completion requests arrived.

        A client can time out before the server thread has even read its request.
        """
        with self._lock:
            return self._lock.wait_for(lambda: self.hits >= count, timeout)

    def fault_for(self, model: str | None) -> Fault:
        """Pick, and consume from a script, the fault for the next request of ``model``."""
        with self._lock:
            for key in dict.fromkeys((model, None)):  # this model's script, then any model's
                queue = self._scripts.get(key)
                if queue:
                    return queue.popleft()
        if model is not None and model.startswith(FAKE_PREFIX):
            return Fault(model.removeprefix(FAKE_PREFIX))
        return Fault(self.mode)

    def content_for(self, fault: Fault, request: dict[str, Any]) -> str:
        """The reply content: ``bad_output`` for BAD_OUTPUT, else ``reply`` (maybe called)."""
        if fault is Fault.BAD_OUTPUT:
            return self.bad_output
        return self.reply if isinstance(self.reply, str) else self.reply(request)

    def completion(self, request: dict[str, Any], content: str) -> dict[str, Any]:
        """A chat.completion answering ``request`` with ``content``."""
        if self.usage is not None:
            prompt, completion = self.usage
        else:
            prompt = sum(count_words(m.get("content")) for m in request.get("messages", []))
            completion = count_words(content)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if self.tool_calls and request.get("tools"):
            message = {"role": "assistant", "content": None, "tool_calls": self.calls_json()}
            finish = "tool_calls"
        return {
            "id": f"chatcmpl-fake-{self.hits}",
            "object": "chat.completion",
            "created": CREATED,
            "model": request.get("model", "unknown"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    def calls_json(self) -> list[dict[str, Any]]:
        """``tool_calls`` as OpenAI sends them (arguments are a JSON string)."""
        return [
            {
                "id": f"call_fake_{i}",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for i, (name, arguments) in enumerate(self.tool_calls, start=1)
        ]

    def wait_released(self) -> None:
        """Block a SLOW request until released or ``slow_seconds`` passed."""
        self._release.wait(self.slow_seconds)


class _Server(ThreadingHTTPServer):
    """Joins its request threads on close; quiet about clients that hang up."""

    daemon_threads = False
    block_on_close = True
    provider: FakeProvider

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, ConnectionError | TimeoutError):
            self.provider.errors.append(exc)


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.0 request per connection, so no idle keep-alive threads linger."""

    server: _Server
    timeout = 5  # a client that connects but never sends cannot block shutdown for long

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """GET /v1/models."""
        self.record(b"", None, None)
        if self.path.rstrip("/") not in ("/v1/models", "/models"):
            self.send_json(404, error_body("invalid_request_error", "unknown_url", self.path))
            return
        names = [*self.server.provider.models, *(FAKE_PREFIX + f for f in Fault)]
        data = [{"id": n, "object": "model", "created": CREATED, "owned_by": "fake"} for n in names]
        self.send_json(200, json.dumps({"object": "list", "data": data}).encode())

    def do_POST(self) -> None:
        """POST /v1/chat/completions (or /chat/completions)."""
        provider = self.server.provider
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self.record(body, request, None)
            self.send_json(404, error_body("invalid_request_error", "unknown_url", self.path))
            return
        if not isinstance(request, dict):
            self.record(body, request, Fault.BAD_REQUEST)
            self.send_json(400, error_body("invalid_request_error", None, "Body is not JSON."))
            return
        try:
            fault = provider.fault_for(request.get("model"))
        except ValueError as exc:  # "fake/<typo>" or a bad server.mode
            self.record(body, request, Fault.BAD_REQUEST)
            self.send_json(400, error_body("invalid_request_error", "unknown_fault", str(exc)))
            return
        self.record(body, request, fault)
        if request.get("stream") and fault not in ERRORS and fault is not Fault.MALFORMED:
            self.stream(fault, request)
        else:
            self.answer(fault, request)

    def answer(self, fault: Fault, request: dict[str, Any]) -> None:
        """Send what ``fault`` calls for."""
        provider = self.server.provider
        if fault in ERRORS:
            status, kind, code, message = ERRORS[fault]
            headers = {"Retry-After": f"{provider.retry_after:g}"} if status == 429 else {}
            self.send_json(status, error_body(kind, code, message), headers)
        elif fault is Fault.DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault is Fault.MALFORMED:
            self.send_json(
                200, b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": ['
            )
        else:
            if fault is Fault.SLOW:
                provider.wait_released()
            try:
                content = provider.content_for(fault, request)
            except Exception as exc:  # a broken reply callable: fail the test, not the thread
                provider.errors.append(exc)
                message = f"The fake reply callable raised {exc!r}."
                self.send_json(500, error_body("server_error", None, message))
                return
            self.send_json(200, json.dumps(provider.completion(request, content)).encode())

    def stream(self, fault: Fault, request: dict[str, Any]) -> None:
        """Send the reply as server-sent events, a word a chunk (``stream: true``)."""
        provider = self.server.provider
        if fault is Fault.DROP:
            self.answer(fault, request)
            return
        if fault is Fault.SLOW:
            provider.wait_released()
        content = provider.content_for(fault, request)
        whole = provider.completion(request, content)
        words = [w + " " for w in content.split(" ")]
        words[-1] = words[-1].rstrip(" ")
        base = {k: whole[k] for k in ("id", "created", "model")}
        base["object"] = "chat.completion.chunk"

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": word}) for word in words]
        events.append(chunk({}, "stop"))
        if (request.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": whole["usage"]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for number, event in enumerate(events):
            if fault is Fault.CUT and number == 3:  # the role chunk and two words went out
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def record(self, body: bytes, request: Any, fault: Fault | None) -> None:
        """Append this request to the provider's log."""
        headers = {k.lower(): v for k, v in self.headers.items()}
        provider = self.server.provider
        with provider._lock:
            provider.requests.append(
                RecordedRequest(self.command, self.path, headers, body, request, fault)
            )
            provider._lock.notify_all()

    def send_json(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Send a complete JSON response and close the connection."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
