"""mlfunc: package business functions as versioned MLflow models and run them in pandas, Spark SQL or REST.

Importing ``mlfunc`` is cheap: MLflow and Spark load only when a name that
needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mlfunc.mlflow_adapter.model import FunctionModel, HybridFunction

__all__ = ["FunctionModel", "HybridFunction", "__version__"]


def __getattr__(name: str) -> Any:
    # Import the MLflow adapter on first use, not at `import mlfunc`.
    if name in ("HybridFunction", "FunctionModel"):
        from mlfunc.mlflow_adapter import model

        return getattr(model, name)
    raise AttributeError(f"module 'mlfunc' has no attribute {name!r}")
