from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlfunc.core import DISCOUNT
from mlfunc.errors import ParameterError
from mlfunc.paramfiles import collect_parameters

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "decision_table" / "discount.toml"

ORDERS_QUANTITY = np.array([600.0, 600.0, 200.0, 200.0, 10.0, 10.0, np.nan, 499.999])
ORDERS_TIER = np.array(["gold", "silver", "gold", "bronze", "platinum", "gold", "gold", None], dtype=object)


def test_discount_example_first_match() -> None:
    parameters = collect_parameters(DISCOUNT, file=EXAMPLE)
    result = DISCOUNT.evaluate(ORDERS_QUANTITY, ORDERS_TIER, **parameters)
    assert result["rate"].tolist() == [0.2, 0.12, 0.1, 0.05, 0.03, 0.0, 0.0, 0.05]


def test_discount_explanation_names_rule_or_default() -> None:
    parameters = collect_parameters(DISCOUNT, file=EXAMPLE)
    labels = DISCOUNT.explanations([ORDERS_QUANTITY, ORDERS_TIER], parameters)
    assert labels.tolist() == ["rule 0", "rule 1", "rule 2", "rule 3", "rule 4", "default", "default", "rule 3"]


def test_discount_golden_cases_meet_their_rule() -> None:
    parameters = collect_parameters(DISCOUNT, file=EXAMPLE)
    cases = DISCOUNT.golden_cases(parameters)
    assert [case.expected["rate"] for case in cases] == [0.2, 0.12, 0.1, 0.05, 0.03]


def rules(*rows: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"rules": list(rows), "default": {"rate": 0.0}, **extra}


BAD_TABLES = [
    ({"rules": []}, "default", "missing parameter 'default'"),
    (rules({"when": {"region": "EU"}, "then": {"rate": 0.1}}), "rules", "rule 0 has a condition on column 'region'"),
    (rules({"when": {}, "then": {"discount": 0.1}}), "rules", "rule 0: expected a value for each output column rate"),
    (rules({"when": {"tier": "gold"}}), "rules", "rule 0: expected a table with keys 'when' and 'then'"),
    (rules({"when": {"tier": {"min": 1}}, "then": {"rate": 0.1}}), "rules", "a range is {min = NUMBER, max = NUMBER}"),
    (rules({"when": {"quantity": {"min": 5, "max": 1}}, "then": {"rate": 0.1}}), "rules", "min 5.0 must be below"),
    (rules({"when": {"quantity": "ten"}, "then": {"rate": 0.1}}), "rules", "expected a number, got 'ten'"),
    (rules({"when": {"tier": []}, "then": {"rate": 0.1}}), "rules", "an empty list matches nothing"),
    (
        rules(
            {"when": {"quantity": {"min": 10}}, "then": {"rate": 0.1}},
            {"when": {"quantity": {"min": 20}, "tier": "gold"}, "then": {"rate": 0.2}},
        ),
        "rules",
        "rule 1 can never match, because rule 0 matches every row it would",
    ),
    (
        rules(
            {"when": {"tier": ["gold", "silver"]}, "then": {"rate": 0.1}},
            {"when": {"tier": "silver", "quantity": {"max": 5}}, "then": {"rate": 0.2}},
            hit_policy="unique",
        ),
        "rules",
        "rules 0 and 1 overlap",
    ),
    ({**rules({"when": {}, "then": {"rate": 0.1}}), "default": {"rate": "high"}}, "default", "got 'high'"),
    ({**rules({"when": {}, "then": {"rate": 0.1}}), "default": [0.0]}, "default", "expected a table of names"),
    ({"rules": [], "default": {"rate": 0.0}}, "rules", "expected a list of tables, got []"),
]


@pytest.mark.parametrize(("values", "parameter", "fragment"), BAD_TABLES)
def test_decision_table_rejects_bad_rules(values: dict[str, Any], parameter: str, fragment: str) -> None:
    with pytest.raises(ParameterError) as caught:
        DISCOUNT.validate(values)
    assert caught.value.parameter == parameter
    assert fragment in str(caught.value)


def test_unique_policy_accepts_disjoint_rules() -> None:
    values = rules(
        {"when": {"quantity": {"max": 10}}, "then": {"rate": 0.0}},
        {"when": {"quantity": {"min": 10}}, "then": {"rate": 0.1}},
        hit_policy="unique",
    )
    parameters = DISCOUNT.validate(values)
    result = DISCOUNT.evaluate(np.array([9.99, 10.0]), np.array(["a", "b"], dtype=object), **parameters)
    assert result["rate"].tolist() == [0.0, 0.1]


def test_condition_on_undeclared_column_in_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text('default = { rate = 0.0 }\n[[rules]]\nwhen = { region = "EU" }\nthen = { rate = 0.1 }\n')
    with pytest.raises(ParameterError) as caught:
        collect_parameters(DISCOUNT, file=path)
    assert f"parameter file '{path}', key 'rules'" in str(caught.value)
    assert "its input columns are quantity, tier" in str(caught.value)
