"""The hybrid function compiled to machine code by numba, used when MLFUNC_KERNEL=numba.

Imported only on the first evaluation with that kernel, because importing
numba and compiling take about a second.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]


# cache=True keeps the machine code in __pycache__ beside this file, or in
# numba's user cache folder where that is read-only, so later processes skip
# the compilation while this file is unchanged.
@njit(cache=True, nogil=True)
def evaluate_hybrid_compiled(
    values: FloatArray, out: FloatArray, x0: float, y0: float, gradient: float, intercept: float
) -> None:
    """Write the hybrid function of ``values`` into ``out``; both are flat and of equal length."""
    for index in range(values.size):
        value = values[index]
        # Without fastmath, numba keeps the multiply and the add as two
        # rounded operations (no fused multiply-add), like numpy does.
        out[index] = y0 if value < x0 else gradient * value + intercept
