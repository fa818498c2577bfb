"""Real S3 endpoints for tests: moto's server, and a proxy that injects faults.

``MotoServer`` runs ``python -m moto.server`` on a free loopback port; it can
be stopped and started again on the same port (its data is lost), so tests
see an endpoint go down and come back::

    with MotoServer() as moto:
        location = moto.location("specql-test", prefix="t1")

``FaultProxy`` sits between a store and moto, forwards every request, records
it, and answers the next N matching requests with an S3 error instead::

    with FaultProxy(moto.url) as proxy:
        proxy.fail(2, status=503, code="SlowDown")
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import httpx
import uvicorn

from app.storage.s3 import S3Location

FAKE_KEY_ID = "testing-key-id"
FAKE_SECRET = "testing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoServer:
    """moto's standalone server (every AWS service, S3 included) in a subprocess.

    ``start()`` returns once the server answers; ``stop()`` ends it. The port
    is kept across restarts, so clients and URLs stay valid.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 120.0) -> None:
        if self.running:
            return
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = self._read_log()
                self.stop()
                raise RuntimeError(f"moto server on port {self.port} exited: {log}")
            try:
                if httpx.get(f"{self.url}/moto-api/", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moto server on port {self.port} did not answer in {timeout}s")

    def _read_log(self) -> str:
        assert self._log is not None
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def reset(self) -> None:
        """Forget every bucket and object (cheaper than a restart)."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10.0).raise_for_status()

    def location(self, bucket: str, prefix: str = "", **overrides: Any) -> S3Location:
        """A location on this server with fake credentials and test-sized
        timeouts and retries (an endpoint that is down fails in seconds)."""
        settings: dict[str, Any] = {
            "endpoint_url": self.url,
            "region": "us-east-1",
            "access_key_id": FAKE_KEY_ID,
            "secret_access_key": FAKE_SECRET,
            "max_attempts": 2,
            "connect_timeout": 2.0,
            "read_timeout": 10.0,
        }
        return S3Location(bucket, prefix, **{**settings, **overrides})

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclasses.dataclass
class ProxiedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    failed: bool


_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"host", b"content-length"}


class FaultProxy:
    """An HTTP reverse proxy (uvicorn in a thread) in front of ``target``.

    Every request is recorded in ``requests``. ``fail(n, ...)`` makes the next
    ``n`` requests that ``when`` accepts answer with an S3 error document
    instead of reaching the target.
    """

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.requests: list[ProxiedRequest] = []
        self.delay = 0.0  # seconds each forwarded request is held
        # forwarded requests are held until this many are in flight at once, so
        # that a client's concurrency shows however slowly it sends (0: off)
        self.gate = 0
        self._gate_open = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self._failures: list[tuple[Callable[[ProxiedRequest], bool], int, str]] = []
        self._lock = threading.Lock()
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            self._app,
            interface="asgi3",
            lifespan="off",
            ws="none",
            http="h11",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def fail(
        self,
        count: int,
        *,
        status: int = 503,
        code: str = "SlowDown",
        when: Callable[[ProxiedRequest], bool] = lambda request: True,
    ) -> None:
        with self._lock:
            self._failures.append((when, count, f"{status} {code}"))

    def _should_fail(self, request: ProxiedRequest) -> str | None:
        with self._lock:
            for i, (when, left, answer) in enumerate(self._failures):
                if left > 0 and when(request):
                    self._failures[i] = (when, left - 1, answer)
                    return answer
        return None

    async def _app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        query = scope["query_string"].decode()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        request = ProxiedRequest(scope["method"], scope["path"], query, headers, False)
        answer = self._should_fail(request)
        request.failed = answer is not None
        self.requests.append(request)
        if answer is not None:
            status, code = answer.split(" ", 1)
            content = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>injected by FaultProxy</Message>"
                "<RequestId>fault</RequestId></Error>"
            ).encode()
            await self._send(send, int(status), [(b"content-type", b"application/xml")], content)
            return
        self.in_flight += 1  # one event loop serves every request: no lock needed
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.gate and self.max_in_flight >= self.gate:
            self._gate_open.set()
        try:
            await self._forward(scope, body, send)
        finally:
            self.in_flight -= 1

    async def _forward(self, scope: Any, body: bytes, send: Any) -> None:
        if self.gate:
            try:
                await asyncio.wait_for(self._gate_open.wait(), 60)
            except TimeoutError:  # a client that never sends that many fails its test
                self._gate_open.set()
        await asyncio.sleep(self.delay)
        query = scope["query_string"].decode()
        forwarded = [(k, v) for k, v in scope["headers"] if k not in _HOP_BY_HOP]
        host = dict(scope["headers"]).get(b"host", b"")
        forwarded.append((b"host", host))  # the signature covers it
        url = self.target + scope["raw_path"].decode() + (f"?{query}" if query else "")
        async with httpx.AsyncClient(timeout=60.0, verify=False, trust_env=False) as client:
            response = await client.request(scope["method"], url, headers=forwarded, content=body)
        kept = [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP]
        if scope["method"] == "HEAD" and "content-length" in response.headers:
            kept.append((b"content-length", response.headers["content-length"].encode()))
        await self._send(send, response.status_code, kept, response.content)

    @staticmethod
    async def _send(
        send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        if not any(k.lower() == b"content-length" for k, _ in headers):
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("FaultProxy did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
