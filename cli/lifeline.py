"""The lifeline: how a child learns that `tokenplace up` has gone, however it ended.

`up` opens one pipe and holds its write end for as long as it lives, never
writing to it. Each child gets the read end as `--lifeline-fd N` and watches it.
When `up` ends (a clean stop, a crash, SIGKILL) the kernel closes the write end,
every child reads end of file and stops as if it had been sent SIGTERM: no
orphans keep serving, or holding ports, after their supervisor is gone.

Why a pipe rather than Linux's prctl(PR_SET_PDEATHSIG): a pipe works on every
POSIX system (developers run `up` on macOS); it needs no `preexec_fn`, which is
unsafe in a process with threads; it follows the death of the process, where
PDEATHSIG follows the thread that forked; and it has no race with a parent that
dies before the child could call prctl, since end of file waits to be read.
The stop it triggers is the graceful one, where PDEATHSIG delivers a bare signal.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable


class Lifeline:
    """Supervisor side: pass `child_fd` to every child; `close()` when they are gone."""

    def __init__(self) -> None:
        self.child_fd, self._write_fd = os.pipe()  # non-inheritable: only pass_fds hands it on

    def close(self) -> None:
        for fd in (self.child_fd, self._write_fd):
            os.close(fd)


def watch_lifeline(fd: int, on_end: Callable[[], None]) -> None:
    """Child side: call `on_end` once the supervisor's end of the lifeline closes."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            data = os.read(fd, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:  # nobody writes on a lifeline; ignore it if someone does
            return
        loop.remove_reader(fd)
        os.close(fd)
        on_end()

    loop.add_reader(fd, readable)
