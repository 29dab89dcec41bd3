"""Whether the user's code would find an NVIDIA GPU, as `has_gpu` tells it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_NVIDIA_GPUS = Path("/proc/driver/nvidia/gpus")


def detect_gpu() -> bool:
    """True when the NVIDIA driver is loaded and at least one device is visible.

    CUDA_VISIBLE_DEVICES set to nothing (or -1) hides every device from CUDA libraries,
    so it hides them from us too.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1", "none", "NoDevFiles"):
        return False
    try:
        if _NVIDIA_GPUS.is_dir() and any(_NVIDIA_GPUS.iterdir()):
            return True
    except OSError:
        pass
    nvidia_smi = shutil.which("nvidia-smi")
    if nvidia_smi is None:
        return False
    try:
        listing = subprocess.run(
            [nvidia_smi, "-L"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return listing.returncode == 0 and "GPU " in listing.stdout
