"""Which CUDA devices this machine has, asked without importing torch where the answer is none."""

from __future__ import annotations

import functools
import os
import shutil


@functools.cache
def nvidia_driver_present() -> bool:
    """Whether this machine has the NVIDIA driver; without it no CUDA device can be visible."""
    return os.path.exists("/proc/driver/nvidia") or shutil.which("nvidia-smi") is not None


def visible_gpus() -> int:
    """How many CUDA devices this process sees (0 without an NVIDIA driver, torch or CUDA)."""
    # Importing torch costs seconds; a machine without the NVIDIA driver has no GPU to find.
    if not nvidia_driver_present():
        return 0
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0
