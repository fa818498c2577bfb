"""Keeping an event loop and the store threads it talks to on one CPU.

A SQLite store answers through threads (see ``storage/sql/runner.py``): each
operation is one hand-off from the event loop to a thread and back. Measured
on this project's 2-core virtual machine, that round trip costs about 70 µs
when the two threads sit on different CPUs, because each side wakes the
other's idle CPU through the hypervisor, and about 8 µs when both share one
CPU. A sequential create went from 4,500/s to 7,400/s and a served search
from 1,400 to 2,900 req/s (benchmarks/RESULTS.md, session 6). The GIL lets
the threads of one Python process use little more than one CPU anyway.

So opening a SQLite-backed store pins the opening thread (the event loop's)
to one CPU: the threads the store starts inherit it, and so does any thread
started from that thread while the store is open. Closing the store gives
that thread, and the threads started while it was pinned, their former CPUs
back. ``auto`` takes a CPU that no other SpecQL process of the same user
holds (a lock file per CPU in the temporary directory), so that several
server processes spread over the machine; ``off`` leaves affinity alone; a
number names the CPU.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import threading
from pathlib import Path

from app.errors import ConfigurationError

_lock = threading.Lock()
# native thread id -> the pin it holds and how many open stores share it
_held: dict[int, tuple[CpuPin, int]] = {}


class CpuPin:
    """One thread kept on one CPU; ``release`` when the last store using it closes."""

    def __init__(
        self,
        thread_id: int,
        cpu: int,
        previous: set[int],
        lock_fd: int | None,
        threads_before: set[int],
    ) -> None:
        self.thread_id = thread_id
        self.cpu = cpu
        self.previous = previous
        self._lock_fd = lock_fd
        self._threads_before = threads_before

    def release(self) -> None:
        """Give the CPUs back: to the pinned thread, and to the threads started
        while it was pinned (they inherited the CPU: the store's, and helpers
        such as the event loop's default executor) that are still on it."""
        with _lock:
            pin, users = _held.get(self.thread_id, (None, 0))
            if pin is not self:
                return
            if users > 1:
                _held[self.thread_id] = (self, users - 1)
                return
            del _held[self.thread_id]
            born = _thread_ids() - self._threads_before
            for thread_id in (self.thread_id, *born):
                with contextlib.suppress(OSError):  # a thread may be gone
                    if os.sched_getaffinity(thread_id) == {self.cpu}:  # nobody re-pinned it
                        os.sched_setaffinity(thread_id, self.previous)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def check_choice(choice: str | int) -> str:
    """``choice`` as ``auto``, ``off`` or a CPU number's digits; refuse anything else."""
    text = str(choice).strip().lower()
    if text not in ("auto", "off") and not (text.isascii() and text.isdigit()):
        raise ConfigurationError(
            f"pin_cpu must be 'auto', 'off' or a CPU number, not {choice!r}",
            "Set SPECQL_PIN_CPU to auto, off or e.g. 0.",
        )
    return text


def pin_current_thread(choice: str | int, *, auto_pins: bool = True) -> CpuPin | None:
    """Pin the calling thread as ``choice`` says; None where nothing was pinned
    (``off``; ``auto`` where ``auto_pins`` is false, or on a thread its owner
    already keeps on one CPU, or where the platform or a sandbox does not let
    a thread choose its CPU)."""
    text = check_choice(choice)
    if text == "off" or (text == "auto" and not auto_pins):
        return None
    if not hasattr(os, "sched_setaffinity"):
        if text == "auto":
            return None
        raise ConfigurationError(f"pin_cpu={text}: this platform cannot pin threads to a CPU")
    thread_id = threading.get_native_id()
    with _lock:
        held = _held.get(thread_id)
        if held is not None:  # another open store keeps this thread on a CPU: share it
            pin, users = held
            if text != "auto" and int(text) != pin.cpu:
                raise ConfigurationError(
                    f"pin_cpu={text}: this thread is kept on CPU {pin.cpu} by a store "
                    "that is open; open both with the same pin_cpu"
                )
            _held[thread_id] = (pin, users + 1)
            return pin
        try:
            allowed = os.sched_getaffinity(thread_id)
        except OSError as exc:
            _refuse_unless_auto(text, exc)
            return None
        if text == "auto":
            if len(allowed) == 1:
                return None  # already on one CPU: its owner chose
            cpu, lock_fd = _free_cpu(allowed)
        else:
            cpu, lock_fd = int(text), None
            if cpu not in allowed:
                raise ConfigurationError(
                    f"pin_cpu={cpu}: this process may run on CPUs "
                    f"{', '.join(map(str, sorted(allowed)))} only"
                )
        before = _thread_ids()
        try:
            os.sched_setaffinity(thread_id, {cpu})
        except OSError as exc:
            if lock_fd is not None:
                os.close(lock_fd)
            _refuse_unless_auto(text, exc)
            return None
        pin = CpuPin(thread_id, cpu, allowed, lock_fd, before)
        _held[thread_id] = (pin, 1)
        return pin


def _refuse_unless_auto(text: str, exc: OSError) -> None:
    """The system would not let the thread choose its CPU (a sandbox, a
    cpuset that changed): under ``auto`` nothing is pinned, a named CPU fails."""
    if text == "auto":
        return
    raise ConfigurationError(f"pin_cpu={text}: the system refused ({exc.strerror})") from None


def _thread_ids() -> set[int]:
    """The native ids of this process's threads (empty without /proc)."""
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def _free_cpu(allowed: set[int]) -> tuple[int, int | None]:
    """A CPU that no other SpecQL process of this user holds (a lock file per
    CPU in the temporary directory), the current one first, with the lock
    that holds it; the current CPU without a lock if all are held."""
    current = _current_cpu(allowed)
    folder = Path(tempfile.gettempdir()) / f"specql-cpus-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return current, None
    for cpu in [current, *sorted(allowed - {current})]:
        try:
            fd = os.open(folder / f"cpu-{cpu}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return current, None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return cpu, fd
    return current, None


def _current_cpu(allowed: set[int]) -> int:
    """The CPU the calling thread runs on (field 39 of its stat line)."""
    try:
        stat = Path("/proc/thread-self/stat").read_text()
        cpu = int(stat.rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return min(allowed)
    return cpu if cpu in allowed else min(allowed)
