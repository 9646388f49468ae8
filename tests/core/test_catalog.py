"""Finding functions: built-in names, module:attribute references and entry points."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mlfunc.core import FUNCTIONS, available_functions, get_function
from mlfunc.core.catalog import module_root
from mlfunc.errors import UnknownFunctionError
from tests.fixtures.user_functions import MODULE_NAME, SOURCE


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user's module in its own folder, which is the working directory and not on sys.path."""
    (tmp_path / f"{MODULE_NAME}.py").write_text(SOURCE)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    sys.modules.pop(MODULE_NAME, None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


def test_builtin_functions_are_listed() -> None:
    assert set(FUNCTIONS) == {"discount", "hybrid", "piecewise"}
    assert set(FUNCTIONS) <= set(available_functions())


def test_module_reference_loads_from_working_folder(user_module: Path) -> None:
    function = get_function(f"{MODULE_NAME}:shipping")
    assert function.reference == f"{MODULE_NAME}:shipping"
    assert function([1.0, 3.0], fee=2.0, per_kg=0.5).tolist() == [2.5, 3.5]
    assert module_root(function) == user_module / f"{MODULE_NAME}.py"


def test_multi_column_function_returns_each_output(user_module: Path) -> None:
    function = get_function(f"{MODULE_NAME}:discount")
    result = function([10.0, 500.0, np.nan], ["gold", "silver", "bronze"], bulk_from=100.0)
    assert result["rate"].tolist() == [0.1, 0.1, 0.0]
    assert result["label"].tolist() == ["gold", "silver bulk", "bronze"]


def test_reference_errors_say_what_to_fix(user_module: Path) -> None:
    with pytest.raises(UnknownFunctionError, match="has no attribute 'absent'"):
        get_function(f"{MODULE_NAME}:absent")
    with pytest.raises(UnknownFunctionError, match="is a dict, not a BusinessFunction"):
        get_function(f"{MODULE_NAME}:TIER_RATES")
    with pytest.raises(UnknownFunctionError, match="cannot import module 'no_such_module'"):
        get_function("no_such_module:f")


def test_unknown_name_lists_available() -> None:
    with pytest.raises(UnknownFunctionError, match="available functions are discount, hybrid, piecewise"):
        get_function("tax")


def test_entry_point_function_is_found(user_module: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real installed distribution as importlib.metadata finds one: a
    # dist-info folder with an entry_points.txt on sys.path.
    dist_info = user_module / "pricing_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: pricing-plugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[mlfunc.functions]\nparcel = {MODULE_NAME}:shipping\n")
    monkeypatch.syspath_prepend(str(user_module))

    assert "parcel" in available_functions()
    function = get_function("parcel")
    assert function.reference == f"{MODULE_NAME}:shipping"
    assert function.name == "shipping"
