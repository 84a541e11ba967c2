"""Processes that do not outlive the process that started them (Linux's ``PR_SET_PDEATHSIG``).

A ``serve --workers N`` worker whose supervisor was killed (``kill -9``, the OOM killer) would
go on holding the port with nobody to restart or stop it; a test server whose test process was
killed would go on listening. The kernel can send a process a signal when its parent dies:
that needs no cooperation from the parent, which is the point, since a parent killed with
SIGKILL runs no clean-up at all.

The signal fires when the *thread* that started the process ends, not the whole process, so
start such processes from a thread that lives as long as they should (the main thread).
Elsewhere than Linux these functions do nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

#: ``prctl`` options, from <linux/prctl.h>
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

Prctl = Callable[[int, int, int, int, int], int]


def _prctl() -> Prctl | None:
    if not sys.platform.startswith("linux"):
        return None
    function: Prctl = ctypes.CDLL(None, use_errno=True).prctl
    return function


def die_with_parent(signal: int, parent: int) -> None:
    """Have this process get ``signal`` when its parent, pid ``parent``, dies.

    ``parent`` closes the race with a parent that died before the request took effect: then
    this process is already an orphan, and the signal is sent at once.
    """
    prctl = _prctl()
    if prctl is None:
        return
    prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal)


def preexec_die_with_parent(signal: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``signal`` when the
    calling thread ends. ``prctl`` is looked up here, before the fork, so the child runs no
    more than one foreign call and two system calls before ``exec``."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal)

    return arm


def become_subreaper() -> bool:
    """Adopt this process's orphaned descendants (instead of PID 1), so a sweep can find them.

    Returns whether it took effect (Linux only).
    """
    prctl = _prctl()
    return prctl is not None and prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
