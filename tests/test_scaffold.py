"""`mlfunc new`: the files it writes pass their own tests and deploy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlfunc.cli import main
from mlfunc.errors import InputDataError
from mlfunc.scaffold import scaffold_function


def test_new_writes_module_parameters_and_tests(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new", "shipping_cost", "--folder", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "shipping_cost.py",
        "shipping_cost.toml",
        "test_shipping_cost.py",
    ]


@pytest.mark.slow
def test_new_function_tests_pass(tmp_path: Path) -> None:
    scaffold_function("shipping_cost", tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shipping_cost.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    scaffold_function("tariff", tmp_path)
    with pytest.raises(InputDataError, match="exists already"):
        scaffold_function("tariff", tmp_path)
    assert len(scaffold_function("tariff", tmp_path, overwrite=True)) == 3


@pytest.mark.parametrize("name", ["class", "Shipping", "2fast", "with-dash"])
def test_new_rejects_bad_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputDataError, match="invalid function name"):
        scaffold_function(name, tmp_path)
