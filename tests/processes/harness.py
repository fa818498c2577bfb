"""Test-side helpers to run the scripts of this directory as child processes.

Every wait is bounded: a child that hangs makes the test fail with a clear
message instead of blocking the run, and a child is always killed and reaped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def load(name: str) -> ModuleType:
    """Import ``<name>.py`` of this directory once, under a private module name."""
    key = f"_specql_test_processes_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


class Child:
    """A script of this directory running in its own Python process.

    Its stdout lines are collected by a thread, so the test can wait for a
    line with a timeout; stderr goes to a file, shown when something fails.
    """

    def __init__(self, script: str, *args: str, cwd: Path, stdin: bool = False) -> None:
        self.name = f"{script} {' '.join(args)}"
        self._stderr_path = cwd / f"stderr-{script}-{os.getpid()}-{time.monotonic_ns()}.txt"
        self._stderr = open(self._stderr_path, "wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / f"{script}.py"), *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=cwd,
            env=env,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if raw.endswith(b"\n"):  # a line cut by a kill is not an acknowledgement
                self._queue.put(raw.decode().rstrip("\n"))
        self._queue.put(None)

    def stderr(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text(errors="replace")[-4000:]

    def next_line(self, timeout: float) -> str | None:
        """The next stdout line; None at end of output. Fails after ``timeout``."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"{self.name}: no output for {timeout} s\nstderr:\n{self.stderr()}"
            ) from None
        if line is not None:
            self.lines.append(line)
        return line

    def wait_for(self, prefix: str, timeout: float) -> str:
        """Read lines until one starts with ``prefix``; fail on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.01, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(
                    f"{self.name} exited (code {self.proc.wait(5)}) before printing "
                    f"{prefix!r}\nstderr:\n{self.stderr()}"
                )
            if line.startswith(prefix):
                return line

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def sigkill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def drain(self, timeout: float = 10) -> list[str]:
        """Every remaining line up to end of output (the child must be ending)."""
        deadline = time.monotonic() + timeout
        while self.next_line(max(0.01, deadline - time.monotonic())) is not None:
            pass
        self._reader.join(timeout=max(0.01, deadline - time.monotonic()))
        return self.lines

    def finish(self, timeout: float) -> list[str]:
        """Wait for a normal exit with code 0; return every stdout line."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} did not finish within {timeout} s\nstderr:\n{self.stderr()}"
            ) from None
        lines = self.drain()
        assert code == 0, f"{self.name} exited with {code}\nstderr:\n{self.stderr()}"
        return lines

    def close(self) -> None:
        """Kill if still running, reap, close pipes and files. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        finally:
            self._reader.join(timeout=10)
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None and not stream.closed:
                    with contextlib.suppress(BrokenPipeError):
                        stream.close()
            if not self._stderr.closed:
                self._stderr.close()


def run_in_step(
    start: Callable[[str], Child], tags: Sequence[str] = ("p1", "p2")
) -> list[list[str]]:
    """Start one child per tag (``start(tag)``), wait until each says READY,
    release them together, and return each one's output lines (ending in END)."""
    children: list[Child] = []
    try:
        for tag in tags:
            children.append(start(tag))
        for child in children:
            child.wait_for("READY", timeout=120)
        for child in children:
            child.send("go\n")
        outputs = [child.finish(timeout=120) for child in children]
    finally:
        for child in children:
            child.close()
    for lines in outputs:
        assert lines[-1].startswith("END"), lines[-3:]
    return outputs
