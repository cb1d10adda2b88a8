"""Handing freed memory back to the operating system (a render holds ffmpeg next to Python)."""

from __future__ import annotations

import ctypes
import gc


def trim_heap() -> None:
    """Collect garbage, then ask glibc to unmap the free heap pages it keeps.

    glibc keeps freed heap pages mapped, and after a large block is freed it also serves the
    next large blocks (numpy arrays) from the heap, so without ``malloc_trim`` the process's
    RSS barely drops. Other C libraries have no such call; there this only collects.
    """
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        return
