"""The parser processes die with the process that started them, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

WAIT = 60  # seconds to wait for something that must happen before failing (not a timing assertion)

OWNER = """
import time
from aggregator.ingest.fetch import parser_pool
pool = parser_pool(2)
jobs = [pool.submit(time.sleep, 600) for _ in range(2)]  # two "parses" that are still going when it is killed
while len(pool._processes) < 2:
    time.sleep(0.05)
print(*pool._processes, flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in (b"Z", b"X")


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the processes")
def test_parser_processes_die_with_a_killed_owner() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    left: set[int] = set()
    try:
        assert owner.stdout is not None
        workers = {int(p) for p in owner.stdout.readline().split()}
        assert len(workers) == 2
        left = descendants(owner.pid)  # the workers, the fork server, the resource tracker
        assert workers <= left
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        deadline = time.monotonic() + WAIT
        while any(not gone(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p for p in workers if not gone(p)] == [], "parser processes outlived their owner"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()
        for pid in left:  # whatever is still there after a failure: these are this test's own processes
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
