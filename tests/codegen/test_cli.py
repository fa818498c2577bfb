"""``specql codegen ts`` run as a real process: it writes the package, and
every bad input ends in one clear ``error:`` line and exit code 1, never a
traceback."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.codegen.conftest import free_port
from tests.codegen.test_end_to_end import codegen


@contextlib.contextmanager
def answering(status: int, content_type: str, body: bytes) -> Iterator[str]:
    """A local HTTP server that answers every POST with the same response."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Quiet: the test reads the CLI's output, not the server's log."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def assert_fails(args: list[str], message: str) -> None:
    done = codegen(*args)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.slow
def test_writes_the_package(tmp_path: Path) -> None:
    out = tmp_path / "new" / "client"  # created with its parents
    done = codegen("--out", str(out), "--name", "@blog/api")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "client.ts",
        "index.ts",
        "package.json",
        "runtime.ts",
        "schema.ts",
    ]
    assert '"name": "@blog/api"' in (out / "package.json").read_text()
    assert str(out) in done.stdout


@pytest.mark.slow
def test_an_unreachable_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/graphql"
    assert_fails(["--url", url, "--out", str(tmp_path)], f"cannot reach {url}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "content_type", "body", "message"),
    [
        (200, "text/html", b"<html>hello</html>", "did not answer GraphQL (HTTP 200, not JSON)"),
        (404, "application/json", b'{"detail": "Not Found"}', "(HTTP 404) did not answer GraphQL"),
        (200, "application/json", b"[1, 2]", "not a JSON object"),
        (
            400,
            "application/json",
            b'{"errors": [{"message": "query depth is 15, over the limit of 12"}]}',
            "refused the introspection query: query depth is 15",
        ),
        (
            200,
            "application/json",
            b'{"data": {"__schema": {"types": "nonsense"}}}',
            "answered an unusable introspection result",
        ),
    ],
)
def test_a_url_that_does_not_answer_graphql(
    tmp_path: Path, status: int, content_type: str, body: bytes, message: str
) -> None:
    with answering(status, content_type, body) as url:
        assert_fails(["--url", url, "--out", str(tmp_path)], message)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models.py", "--url", "http://127.0.0.1:1/graphql"], "give MODELS or --url, not both"),
        (["--url", "file:///etc/hostname"], "--url must be an http:// or https:// URL"),
        (["--url", "http://127.0.0.1:1/graphql", "--header", "nocolon"], "--header must be"),
        (["no/such/models.py"], "no such file: no/such/models.py"),
    ],
)
def test_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    assert_fails([*args, "--out", str(tmp_path)], message)


@pytest.mark.slow
def test_an_unwritable_out(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert_fails(["--out", str(blocker / "client")], f"cannot write to {blocker / 'client'}")
