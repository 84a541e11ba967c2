"""Server processes a test starts die with the test process, whatever ends it.

:data:`LIFELINE` goes to :class:`subprocess.Popen` as ``preexec_fn``: the child is killed
(SIGKILL) when the test process dies, even by ``kill -9``, which runs no fixture's clean-up.
:func:`sweep` is the clean-up for a session that ends normally: it kills every process the
test process still has below it, including orphans it adopted with
:func:`chinwag.lifeline.become_subreaper` (the workers of a ``--workers N`` server whose
supervisor died, a browser whose driver died).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

from chinwag.lifeline import preexec_die_with_parent


def lifeline() -> Callable[[], None] | None:
    """The ``preexec_fn`` that kills the child with SIGKILL when the calling thread ends."""
    return preexec_die_with_parent(signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (Linux's /proc), children before grandchildren."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # the command name (field 2) may hold spaces and parentheses: split after its ")"
            fields = stat.read_text().rpartition(")")[2].split()
            if fields[0] != "Z":  # a zombie is dead already; reaping is its parent's job
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        below = children.get(queue.pop(0), [])
        found += below
        queue += below
    return found


def sweep() -> list[str]:
    """Kill every process below this one; the command lines of those it found (for a report).

    Zombies adopted as a subreaper are reaped too, so none is left for PID 1.
    """
    killed = []
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            os.kill(pid, signal.SIGKILL)
            killed.append(cmdline.decode(errors="replace").strip())
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    return killed
