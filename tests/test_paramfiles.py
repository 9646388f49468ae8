"""Parameter files, --set overrides and the messages that point at the file and key to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfunc.core import HYBRID, PIECEWISE
from mlfunc.errors import InputDataError, ParameterError
from mlfunc.paramfiles import collect_parameters, parse_assignment, read_parameter_file


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_toml_and_yaml_give_same_parameters(tmp_path: Path) -> None:
    toml = write(tmp_path, "p.toml", "breakpoints = [1.0, 2.0]\nsegments = [[0.0], [1.0, 2.0], [3.0]]\n")
    yaml = write(tmp_path, "p.yaml", "breakpoints: [1.0, 2.0]\nsegments: [[0.0], [1.0, 2.0], [3.0]]\n")
    assert collect_parameters(PIECEWISE, file=toml) == collect_parameters(PIECEWISE, file=yaml)


def test_set_overrides_file_and_options(tmp_path: Path) -> None:
    path = write(tmp_path, "h.toml", "x0 = 5\ny0 = 2\ngradient = 1\n")
    values = collect_parameters(HYBRID, file=path, options={"y0": 3.0}, assignments=["gradient=4"])
    assert values == {"x0": 5.0, "y0": 3.0, "gradient": 4.0}


def test_parse_assignment_reads_json_or_text() -> None:
    assert parse_assignment("breakpoints=[1, 2.5]") == ("breakpoints", [1, 2.5])
    assert parse_assignment("outside=clamp") == ("outside", "clamp")
    assert parse_assignment("continuous=true") == ("continuous", True)


def test_parse_assignment_without_equals() -> None:
    with pytest.raises(InputDataError, match="expected NAME=VALUE"):
        parse_assignment("x0")


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "h.toml", "x0 = 5\ny0 = 2\ngradient = 1\nslope = 3\n")
    with pytest.raises(ParameterError) as caught:
        collect_parameters(HYBRID, file=path)
    message = str(caught.value)
    assert f"parameter file '{path}', key 'slope'" in message
    assert "expected only x0, y0, gradient" in message
    assert caught.value.fix == f"Fix key 'slope' in parameter file '{path}'."


def test_missing_key_names_file_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "p.toml", "breakpoints = [1.0]\n")
    with pytest.raises(ParameterError) as caught:
        collect_parameters(PIECEWISE, file=path)
    assert f"parameter file '{path}': missing parameter 'segments'" in str(caught.value)
    assert caught.value.fix == "Add key 'segments' to the --params file, or pass --set segments=JSON."


def test_wrong_type_shows_expected_and_found(tmp_path: Path) -> None:
    path = write(tmp_path, "h.toml", 'x0 = "five"\ny0 = 2\ngradient = 1\n')
    with pytest.raises(ParameterError) as caught:
        collect_parameters(HYBRID, file=path)
    assert f"parameter file '{path}', key 'x0'" in str(caught.value)
    assert "expected a finite number, got 'five'" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("breakpoints = [3.0, 1.0]\nsegments = [[0.0], [1.0], [2.0]]\n", "increasing order, but 1.0 at position 1"),
        ("breakpoints = [1.0, 1.0]\nsegments = [[0.0], [1.0], [2.0]]\n", "breakpoint 1.0 appears twice"),
    ],
)
def test_bad_breakpoints_name_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, "p.toml", text)
    with pytest.raises(ParameterError) as caught:
        collect_parameters(PIECEWISE, file=path)
    assert f"parameter file '{path}', key 'breakpoints'" in str(caught.value)
    assert fragment in str(caught.value)


def test_bad_set_value_names_the_set(tmp_path: Path) -> None:
    with pytest.raises(ParameterError) as caught:
        collect_parameters(HYBRID, options={"x0": 1.0, "y0": 2.0}, assignments=["gradient=[1]"])
    assert "--set gradient=[1]" in str(caught.value)


def test_yaml_is_parsed_safely(tmp_path: Path) -> None:
    path = write(tmp_path, "evil.yaml", "x0: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(InputDataError, match="is not valid YAML"):
        read_parameter_file(path)


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("p.toml", "x0 = = 5\n", "is not valid TOML"),
        ("p.yaml", "- 1\n- 2\n", "contains a list at its top level"),
        ("p.json", "{}", "expected .toml, .yaml or .yml"),
    ],
)
def test_unreadable_parameter_files(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(InputDataError, match=fragment):
        read_parameter_file(path)


def test_missing_parameter_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not found"):
        read_parameter_file(tmp_path / "absent.toml")
