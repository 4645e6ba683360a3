"""A helper process that must not outlive the process that started it.

A bot or worker killed (SIGKILL, or uvicorn re-raising SIGTERM before any cleanup runs)
leaves its pools' processes behind: each holds hundreds of MB and the pipes its parent
shared, so whatever waits for those pipes to close waits for ever. The kernel can kill
them with their parent instead (Linux's PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
    if os.getppid() != parent:
        os._exit(1)  # the parent died before the request was made
