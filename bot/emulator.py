"""A small fake Telegram Bot API, for the terminal demo, the tests and the benchmarks.

It speaks the Bot API's HTTP protocol (``POST /bot<token>/<method>`` with form fields, JSON
replies), so the bot goes through python-telegram-bot's real request stack. Use it in
process behind an :class:`httpx.MockTransport` (:meth:`FakeBotApi.transport`) or as a
loopback HTTP server (:meth:`FakeBotApi.serve`, reached through ``PMM_API_BASE_URL``).

As strict as Telegram where it matters: updates are kept until a ``getUpdates`` call
confirms them with a higher offset (a bot killed before confirming gets the last batch
again); update ids can restart (:meth:`FakeBotApi.restart_update_ids`, as after a week
without updates or on a new Bot API server); a text over 4,096 or a caption over 1,024
UTF-16 code units (counted after HTML parsing, as Telegram does: 📨 is two), callback data over 64 bytes and HTML with
unknown, unbalanced or bare ``<``/``&`` are refused with Telegram's 400 errors. Failures
(429 with ``retry_after``, 403 blocked, 5xx) can be injected per method, and so can the
network's ambiguous ones: a request accepted whose answer is lost (:meth:`FakeBotApi.lose_answer`),
an answer slower than the client waits (:meth:`FakeBotApi.slow`), a connection refused
(:meth:`FakeBotApi.refuse`); ``after=n`` lets the first n matching calls through (page 2 fails).
"""

from __future__ import annotations

import bisect
import contextlib
import html
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx

BOT_ID = 777000
_TAGS = (
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "a",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
)
_TOKEN = re.compile(r"<(/?)([a-z-]+)(\s[^<>]*)?>|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|[<>&]|[^<>&]+")
MAX_TEXT = 4096
MAX_CAPTION = 1024


@dataclass
class Sent:
    """One message the bot sent or edited."""

    method: str
    chat_id: int
    message_id: int
    text: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def button_data(self) -> list[str]:
        return [b.get("callback_data", "") for row in self.buttons for b in row]

    def button_labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None  # only calls for this chat fail
    kind: str = "error"  # error: answer `status`; lose: accept, drop the answer; slow; refuse
    delay: float = 0.0  # seconds before a slow answer
    after: int = 0  # matching calls let through before this one fails


class FakeBotApi:
    """The fake server's state; thread-safe, shared by the transport and the HTTP server."""

    def __init__(self, username: str = "pmm_test_bot") -> None:
        self.username = username
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[Sent] = []
        self.received_at: list[float] = []  # monotonic time of each accepted message
        self.pushed: list[tuple[float, int]] = []  # (monotonic time, chat id) of each message pushed
        self.webhook: dict[str, Any] | None = None  # the last setWebhook call
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._next_query_id = 4_000_000_000_000_000_000
        self._files: dict[str, bytes] = {}
        self._failures: dict[str, list[Failure]] = {}
        self.confirmed_offset = 0
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._held: list[dict[str, Any]] | None = None  # updates of a batch being put together
        self.on_message: Callable[[Sent], None] | None = None  # called with each message recorded
        self._profiles: dict[int, tuple[str, str]] = {}  # user id → (first name, last name)

    # ---- feeding updates ----------------------------------------------------------
    def profile(self, user_id: int, first_name: str, last_name: str = "") -> None:
        """The name Telegram sends for the user from now on (as a person's account has one)."""
        self._profiles[user_id] = (first_name, last_name)

    def _user(self, user_id: int, language_code: str | None, first_name: str | None) -> dict[str, Any]:
        first, last = self._profiles.get(user_id, ("NCP", ""))
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name or first}
        if last and not first_name:
            user["last_name"] = last
        if language_code:
            user["language_code"] = language_code
        return user

    def _push(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            if self._held is not None:
                self._held.append(payload)
                return payload  # its update id is set when the batch is released
            self._queue(payload)
            self._cond.notify_all()
            return payload

    def _queue(self, payload: dict[str, Any]) -> None:
        chat = (payload.get("message") or payload.get("callback_query", {}).get("message") or {}).get("chat", {})
        self.pushed.append((time.monotonic(), int(chat.get("id", 0))))
        payload["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(payload)

    @contextlib.contextmanager
    def together(self, reverse: bool = False) -> Iterator[None]:
        """The updates pushed inside are delivered in one batch — in the reverse of the
        order they were written with `reverse`, as Telegram may deliver them (webhook
        connections in parallel, a redelivery after a crash)."""
        with self._cond:
            self._held = []
        try:
            yield
        finally:
            with self._cond:
                held, self._held = self._held or [], None
                for payload in reversed(held) if reverse else held:
                    self._queue(payload)
                self._cond.notify_all()

    def message(
        self,
        user_id: int,
        text: str,
        language_code: str | None = "en",
        chat_type: str = "private",
        chat_id: int | None = None,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Queues a text message from a user and returns the update (as JSON)."""
        with self._cond:
            message_id = self._next_message_id
            self._next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {
                "id": chat_id or user_id,
                "type": chat_type,
                **({"first_name": first_name or "NCP"} if chat_type == "private" else {"title": "Group"}),
            },
            "from": self._user(user_id, language_code, first_name),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._push({"message": message})

    def press(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        language_code: str | None = "en",
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Queues a press on an inline button with `data`."""
        with self._cond:
            # Telegram's callback query ids are unique 64-bit numbers, unrelated to update ids.
            self._next_query_id += 1
            query_id = str(self._next_query_id)
        message = {
            "message_id": message_id or 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name or "NCP"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "PMM"},
            "text": "…",
        }
        return self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user_id, language_code, first_name),
                    "chat_instance": str(user_id),
                    "message": message,
                    "data": data,
                }
            }
        )

    def document(
        self, user_id: int, filename: str, data: bytes, language_code: str | None = "en", mime_type: str = ""
    ) -> dict[str, Any]:
        """Queues a message with a file the user sends (kept for getFile and the download)."""
        with self._cond:
            message_id = self._next_message_id
            self._next_message_id += 1
            file_id = f"file{len(self._files) + 1}"
            self._files[file_id] = data
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "NCP"},
            "from": self._user(user_id, language_code, "NCP"),
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": filename,
                "mime_type": mime_type or "application/octet-stream",
                "file_size": len(data),
            },
        }
        return self._push({"message": message})

    def file_bytes(self, path: str) -> bytes | None:
        """The bytes behind a download path (``/file/bot<token>/documents/<file id>``)."""
        with self._cond:
            return self._files.get(path.rsplit("/", 1)[-1])

    def redeliver(self, update: dict[str, Any]) -> None:
        """Queues an already delivered update again, as Telegram does after a bot crash."""
        with self._cond:
            self._updates.append(update)
            self._updates.sort(key=lambda u: u["update_id"])
            self.confirmed_offset = min(self.confirmed_offset, update["update_id"])
            self._cond.notify_all()

    def restart_update_ids(self, start: int = 1) -> None:
        """The next update ids start again at `start`, as Telegram does after a week
        without updates and a new Bot API server does at once (call it when every update
        was confirmed)."""
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= self.confirmed_offset]
            self._next_update_id = start
            self.confirmed_offset = 0

    def fail(
        self,
        method: str,
        status: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) answer with this error."""
        self._inject(method, times, Failure(status, description, retry_after, chat_id))

    def lose_answer(self, method: str, times: int = 1, chat_id: int | None = None, after: int = 0) -> None:
        """The next `times` calls are carried out (a message is delivered) but the connection
        drops before the answer reaches the bot, as when a network fails mid-request."""
        self._inject(method, times, Failure(0, "", chat_id=chat_id, kind="lose", after=after))

    def slow(self, method: str, seconds: float, times: int = 1, chat_id: int | None = None, after: int = 0) -> None:
        """The next `times` calls are carried out at once and answered `seconds` later (over
        HTTP only: the in-process transport cannot time out)."""
        self._inject(method, times, Failure(0, "", chat_id=chat_id, kind="slow", delay=seconds, after=after))

    def refuse(self, method: str, times: int = 1, chat_id: int | None = None, after: int = 0) -> None:
        """The next `times` calls never reach the server: connection refused (in process),
        or closed before the request is read (over HTTP). Nothing is carried out."""
        self._inject(method, times, Failure(0, "", chat_id=chat_id, kind="refuse", after=after))

    def fail_after(self, method: str, after: int, status: int, description: str, chat_id: int | None = None) -> None:
        """Lets `after` matching calls through, then fails the next one with `status`."""
        self._inject(method, 1, Failure(status, description, chat_id=chat_id, after=after))

    def _inject(self, method: str, times: int, failure: Failure) -> None:
        with self._cond:
            self._failures.setdefault(method, []).extend(replace(failure) for _ in range(times))

    # ---- reading what the bot did -------------------------------------------------
    def reply_latencies(
        self, chat_ids: set[int] | None = None, since: float = 0.0, until: float = float("inf")
    ) -> list[float]:
        """Seconds from each update pushed (for these chats, between `since` and `until`) to the
        bot's next message to that chat; updates that got no reply are left out."""
        with self._cond:
            sent = [(t, m.chat_id) for t, m in zip(self.received_at, self.sent, strict=True)]
            pushed = [(t, c) for t, c in self.pushed if (chat_ids is None or c in chat_ids) and since <= t <= until]
        by_chat: dict[int, list[float]] = {}
        for t, c in sent:
            by_chat.setdefault(c, []).append(t)
        out = []
        for t, c in pushed:
            times = by_chat.get(c, [])
            i = bisect.bisect_left(times, t)
            if i < len(times):
                out.append(times[i] - t)
        return out

    def messages_to(self, chat_id: int) -> list[Sent]:
        with self._cond:
            return [m for m in self.sent if m.chat_id == chat_id]

    def last_to(self, chat_id: int) -> Sent:
        return self.messages_to(chat_id)[-1]

    # ---- the Bot API --------------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answers one Bot API call: (HTTP status, JSON body)."""
        status, body, _ = self.handle_with_fault(method, params)
        return status, body

    def handle_with_fault(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], Failure | None]:
        """Answers one Bot API call: (HTTP status, JSON body, the network fault to play on
        the way back: lose, slow or refuse, else None)."""
        with self._cond:
            self.calls.append((method, params))
            failures = self._failures.get(method, [])
            chat = str(params.get("chat_id", ""))
            failure = next((f for f in failures if f.chat_id is None or str(f.chat_id) == chat), None)
            if failure is not None and failure.after > 0:
                failure.after -= 1
                failure = None
            if failure is not None:
                failures.remove(failure)
                if failure.kind == "refuse":
                    return 0, {}, failure
                if failure.kind == "error":
                    body: dict[str, Any] = {
                        "ok": False,
                        "error_code": failure.status,
                        "description": failure.description,
                    }
                    if failure.retry_after is not None:
                        body["parameters"] = {"retry_after": failure.retry_after}
                    return failure.status, body, None
        status, body = self._carry_out(method, params)
        return status, body, failure

    def _carry_out(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        error = self.html_error(params) or self.buttons_error(params)
        if error is not None:
            return 400, {"ok": False, "error_code": 400, "description": error}
        result = self._answer(method, params)
        if result is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        asked = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 2.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                # An offset from before the ids restarted confirms nothing of the new ones.
                offset = 0 if asked > self._next_update_id else asked
                if offset:
                    self.confirmed_offset = max(self.confirmed_offset, offset)
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = [u for u in self._updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0:
                    return ready[: int(params.get("limit") or 100)]
                self._cond.wait(remaining)

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "PMM",
                "username": self.username,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            with self._cond:
                data = self._files.get(file_id)
            if data is None:
                return None
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(data),
                "file_path": f"documents/{file_id}",
            }
        if method == "setWebhook":
            self.webhook = dict(params)
            return True
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "deleteMyCommands", "close", "logOut"):
            return True
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"):
            return self._record(method, params)
        return None

    @staticmethod
    def buttons_error(params: dict[str, Any]) -> str | None:
        """Telegram refuses callback data over 64 bytes."""
        markup = params.get("reply_markup")
        rows = (json.loads(markup) if isinstance(markup, str) else markup or {}).get("inline_keyboard", [])
        if any(len(b.get("callback_data", "").encode()) > 64 for row in rows for b in row):
            return "Bad Request: BUTTON_DATA_INVALID"
        return None

    @staticmethod
    def html_error(params: dict[str, Any]) -> str | None:
        """Telegram's checks of a text: HTML parse mode (its tags only, balanced, no bare
        '<' or '&') and the length after parsing; the error or None."""
        caption = "caption" in params and "text" not in params
        text = str(params.get("text") or params.get("caption") or "")
        limit = MAX_CAPTION if caption else MAX_TEXT
        if params.get("parse_mode") != "HTML":
            return None if _utf16(text) <= limit else _too_long(caption)
        stack: list[str] = []
        visible = 0
        for match in _TOKEN.finditer(text):
            token, closing, name = match.group(0), match.group(1), match.group(2)
            if name is not None:
                if name not in _TAGS:
                    return f'Bad Request: can\'t parse entities: unsupported start tag "{name}"'
                if not closing:
                    stack.append(name)
                elif not stack or stack.pop() != name:
                    return (
                        f"Bad Request: can't parse entities: can't find start tag corresponding to end tag \"{name}\""
                    )
            elif token in "<>&":
                return "Bad Request: can't parse entities: unsupported start tag or bare '<' or '&' in the text"
            else:
                visible += _utf16(html.unescape(token)) if token.startswith("&") else _utf16(token)
        if stack:
            return f"Bad Request: can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\""
        return None if visible <= limit else _too_long(caption)

    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        chat_id = int(params.get("chat_id") or 0)
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        buttons = (markup or {}).get("inline_keyboard", [])
        with self._cond:
            if method.startswith("edit") and params.get("message_id"):
                message_id = int(params["message_id"])
            else:
                message_id = self._next_message_id
                self._next_message_id += 1
            text = str(params.get("text") or params.get("caption") or "")
            sent = Sent(method, chat_id, message_id, text, buttons, params)
            self.sent.append(sent)
            self.received_at.append(time.monotonic())
        if self.on_message is not None:
            self.on_message(sent)
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "PMM", "username": self.username},
        }
        if text:
            message["text" if method in ("sendMessage", "editMessageText") else "caption"] = text
        if markup:
            message["reply_markup"] = markup
        if method == "sendDocument":
            message["document"] = {"file_id": f"doc{message_id}", "file_unique_id": f"u{message_id}"}
        if method == "sendPhoto":
            message["photo"] = [
                {"file_id": f"ph{message_id}", "file_unique_id": f"p{message_id}", "width": 1, "height": 1}
            ]
        return message

    # ---- transports ---------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        """An in-process httpx transport answering as this fake server."""

        def handler(request: httpx.Request) -> httpx.Response:
            if "/file/bot" in request.url.path:
                found = self.file_bytes(request.url.path)
                return httpx.Response(200, content=found) if found is not None else httpx.Response(404)
            method = request.url.path.rsplit("/", 1)[-1]
            params = _params(request.headers.get("content-type", ""), request.read())
            status, body, fault = self.handle_with_fault(method, params)
            if fault is not None and fault.kind == "refuse":
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            if fault is not None and fault.kind == "lose":
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            if fault is not None and fault.kind == "slow":
                raise httpx.ReadTimeout("timed out", request=request)  # no clock in process: the wait ran out
            return httpx.Response(status, json=body)

        return httpx.MockTransport(handler)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serves this fake Bot API over HTTP on loopback in a thread; returns its base URL."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                method = self.path.rsplit("/", 1)[-1]
                status, reply, fault = api.handle_with_fault(
                    method, _params(self.headers.get("content-type", ""), body)
                )
                if fault is not None and fault.kind in ("refuse", "lose"):
                    self.close_connection = True  # no answer: the client sees the connection drop
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.delay)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                # A bot that died mid-request leaves its updates unconfirmed.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_GET(self) -> None:
                found = api.file_bytes(self.path) if "/file/bot" in self.path else None
                self.send_response(200 if found is not None else 404)
                self.send_header("content-length", str(len(found or b"")))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(found or b"")

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # a bot opens many connections at once; 5 would reset some

        self._server = Server((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://{host}:{self._server.server_address[1]}"

    def shutdown(self) -> None:
        if self._server is not None:
            with self._cond:
                self._cond.notify_all()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_quiet(self, chat_id: int | None = None, quiet: float = 0.3, limit: float = 10.0) -> None:
        """Waits until every queued update was fetched by the bot and no message came for
        `quiet` seconds (the bot is done answering), or `limit` seconds passed."""
        deadline = time.monotonic() + limit
        count, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_count = len(self.messages_to(chat_id)) if chat_id is not None else len(self.sent)
            if now_count != count:
                count, since = now_count, time.monotonic()
            elif time.monotonic() - since >= quiet and self._all_fetched():
                return
            time.sleep(0.02)

    def _all_fetched(self) -> bool:
        # A bot confirms the updates it received with the offset of its next call; a batch
        # sent to a bot that died meanwhile stays unconfirmed.
        with self._cond:
            return all(u["update_id"] < self.confirmed_offset for u in self._updates)


def _utf16(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units: 📨 is two."""
    return len(text.encode("utf-16-le")) // 2


def _too_long(caption: bool) -> str:
    return "Bad Request: message caption is too long" if caption else "Bad Request: message is too long"


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if "json" in content_type:
        return json.loads(body or b"{}")
    if "multipart" in content_type:
        return _multipart(content_type, body)
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    out: dict[str, Any] = {}
    for part in body.split(b"--" + boundary):
        if b"\r\n\r\n" not in part:
            continue
        head, _, value = part.partition(b"\r\n\r\n")
        value = value.rsplit(b"\r\n", 1)[0]
        name = head.decode(errors="replace").split('name="', 1)[-1].split('"', 1)[0]
        if b"filename=" in head:
            out[name] = {
                "filename": head.decode(errors="replace").split('filename="', 1)[-1].split('"', 1)[0],
                "size": len(value),
                "data": value,
            }
        else:
            out[name] = value.decode(errors="replace")
    return out
