"""A man in the middle between the desk and the gateway sandbox, for hostile-reply tests.

Every request is forwarded to the sandbox, so the sandbox's state moves as it would (a
checkout is created, a capture happens); the reply the desk receives can then be replaced or
rewritten by a rule, which is how a test feeds an adapter non-JSON, a wrong content type, an
empty body, or the sandbox's own JSON with one field of the wrong type. Standard library only.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


Rewrite = Callable[[Reply], Reply]


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")

    def _forward(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        up = urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(method, self.path, body=body, headers=headers)
        answer = conn.getresponse()
        reply = Reply(answer.status, answer.getheader("Content-Type") or "", answer.read())
        conn.close()
        rewrite = self.server.rule_for(f"{method} {self.path}")
        if rewrite is not None:
            reply = rewrite(reply)
            self.server.rewritten += 1
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.rules: list[tuple[re.Pattern[str], Rewrite]] = []
        self.rewritten = 0
        self.lock = threading.Lock()

    def rule_for(self, request_line: str) -> Rewrite | None:
        with self.lock:
            for pattern, rewrite in self.rules:
                if pattern.search(request_line):
                    return rewrite
        return None


class ReplyProxy:
    """``url`` stands in for the sandbox's; ``rewriting(pattern, fn)`` alters matching replies."""

    def __init__(self, upstream: str) -> None:
        self._server = _ProxyServer(upstream)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="reply-proxy", daemon=True)
        self._thread.start()

    @property
    def rewritten(self) -> int:
        """Replies altered so far: a test checks its hostile reply really reached the desk."""
        return self._server.rewritten

    @contextmanager
    def rewriting(self, pattern: str, rewrite: Rewrite) -> Iterator[None]:
        """Within the block, replies to requests whose ``METHOD path`` matches are rewritten."""
        with self._server.lock:
            self._server.rules.append((re.compile(pattern), rewrite))
        try:
            yield
        finally:
            with self._server.lock:
                self._server.rules.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
