"""Settings read from the environment, shared by the core and the adapters."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, get_args

from mlfunc.errors import ConfigurationError

HOME_ENV = "MLFUNC_HOME"
KERNEL_ENV = "MLFUNC_KERNEL"

Kernel = Literal["numpy", "numba"]
KERNELS: tuple[Kernel, ...] = get_args(Kernel)


def mlfunc_home() -> Path:
    """Return mlfunc's own folder: ``$MLFUNC_HOME`` if set, else ``~/.mlfunc``.

    It contains the embedded MLflow store and the Spark log.
    """
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser().resolve() if configured else Path.home() / ".mlfunc"


def evaluation_kernel() -> Kernel:
    """Return the kernel that evaluates business functions: ``$MLFUNC_KERNEL``, default ``numpy``.

    ``numpy`` needs nothing beyond numpy and has no start-up cost. ``numba``
    compiles the function to machine code on its first call in each process
    and then runs several times faster; it needs ``pip install 'mlfunc[jit]'``.
    Raises ConfigurationError for any other value.
    """
    configured = os.environ.get(KERNEL_ENV, "numpy").strip().lower() or "numpy"
    if configured not in KERNELS:
        raise ConfigurationError(
            f"invalid {KERNEL_ENV} {os.environ[KERNEL_ENV]!r}: expected one of {', '.join(KERNELS)}; "
            f"unset it to use numpy"
        )
    return configured
