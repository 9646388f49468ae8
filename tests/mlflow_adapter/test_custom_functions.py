"""Functions beyond the hybrid one, deployed to a real MLflow store and run from pandas and Spark SQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mlfunc.cli import main
from mlfunc.core import DISCOUNT, PIECEWISE, get_function
from mlfunc.mlflow_adapter.deploy import deploy
from mlfunc.mlflow_adapter.loading import load_model
from mlfunc.paramfiles import collect_parameters
from mlfunc.spark_adapter.sql import register_model_function, register_sql_function, run_query
from tests.fixtures.user_functions import MODULE_NAME, SOURCE
from tests.mlflow_adapter.test_deploy import _with_site_packages

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "piecewise"


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A user's module in its own folder, importable while the tests deploy from it."""
    folder = tmp_path_factory.mktemp("user-code")
    (folder / f"{MODULE_NAME}.py").write_text(SOURCE)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop(MODULE_NAME, None)


def test_module_function_version_loads_without_its_folder(mlfunc_home: Path, user_folder: Path, tmp_path: Path) -> None:
    function = get_function(f"{MODULE_NAME}:shipping")
    deployment = deploy(function, {"fee": 3.0, "per_kg": 0.5}, name="user_shipping", alias="champion")
    assert deployment.created
    assert mlflow.get_run(str(deployment.run_id)).data.params["function"] == f"{MODULE_NAME}:shipping"

    # A clean interpreter in another folder, without mlfunc or the user's folder on sys.path.
    script = f"""
import sys
sys.path = [p for p in sys.path if 'mlfunc' not in p and not p.endswith('/src') and p != {str(user_folder)!r}]
import importlib.util
assert importlib.util.find_spec('mlfunc') is None, 'mlfunc is importable'
assert importlib.util.find_spec({MODULE_NAME!r}) is None, 'the user module is importable'
import mlflow, pandas as pd
mlflow.set_tracking_uri({mlflow.get_tracking_uri()!r})
model = mlflow.pyfunc.load_model('models:/user_shipping@champion')
print(model.predict(pd.DataFrame({{'weight': [0.0, 4.0]}})).iloc[:, 0].tolist())
"""
    completed = subprocess.run(
        [sys.executable, "-S", "-c", _with_site_packages(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[3.0, 5.0]"


def test_multi_column_function_in_pandas_and_spark(spark, mlfunc_home: Path, user_folder: Path) -> None:  # type: ignore[no-untyped-def]
    function = get_function(f"{MODULE_NAME}:discount")
    deployment = deploy(function, {"bulk_from": 100.0}, name="user_discount", alias="champion")
    assert [result.passed for result in deployment.golden] == [True]

    orders = pd.DataFrame({"quantity": [10.0, 150.0, 150.0], "tier": ["gold", "silver", "bronze"]})
    model, _ = load_model("models:/user_discount@champion")
    predicted = model.predict(orders)
    assert predicted["rate"].tolist() == [0.1, 0.1, 0.0]
    assert predicted["label"].tolist() == ["gold", "silver bulk", "bronze bulk"]

    register_model_function(spark, "discount_udf", "models:/user_discount@champion")
    spark.createDataFrame(orders).createOrReplaceTempView("orders")
    rows = run_query(
        spark, "SELECT d.rate, d.label FROM (SELECT discount_udf(quantity, tier) AS d FROM orders) ORDER BY d.label"
    ).collect()
    assert [(row["rate"], row["label"]) for row in rows] == [(0.0, "bronze bulk"), (0.1, "gold"), (0.1, "silver bulk")]


def test_piecewise_example_deploys_from_cli_with_explanation(spark, mlfunc_home: Path) -> None:  # type: ignore[no-untyped-def]
    params = EXAMPLES / "tax_brackets.toml"
    arguments = ["--params", str(params), "--name", "income_tax", "--alias", "champion", "--explain"]
    result = CliRunner().invoke(main, ["deploy", "piecewise", *arguments])
    assert result.exit_code == 0, result.output
    assert "Deployed models:/income_tax/1" in result.stdout

    income = np.array([5000.0, 30000.0, 60000.0, 200000.0])
    expected = PIECEWISE.evaluate(income, **collect_parameters(PIECEWISE, file=params))
    model, _ = load_model("models:/income_tax@champion")
    predicted = model.predict(pd.DataFrame({"x": income}))
    assert predicted["y"].tolist() == expected.tolist()
    assert predicted["explanation"].tolist()[1] == "segment 1: 12570 <= x < 50270"

    register_model_function(spark, "income_tax", "models:/income_tax@champion")
    spark.createDataFrame(pd.DataFrame({"income": income})).createOrReplaceTempView("payroll")
    rows = run_query(spark, "SELECT income, income_tax(income) AS tax FROM payroll ORDER BY income").collect()
    assert [row["tax"]["y"] for row in rows] == expected.tolist()
    assert rows[3]["tax"]["explanation"] == "segment 3: x >= 125140"


def test_cli_deploys_module_function_by_reference(mlfunc_home: Path, user_folder: Path, tmp_path: Path) -> None:
    params = tmp_path / "shipping.yaml"
    params.write_text("fee: 2.5\nper_kg: 1.0\n")
    result = CliRunner().invoke(
        main, ["deploy", f"{MODULE_NAME}:shipping", "--params", str(params), "--name", "cli_shipping"]
    )
    assert result.exit_code == 0, result.output
    model, _ = load_model("models:/cli_shipping/1")
    assert model.predict(pd.DataFrame({"weight": [2.0]})).iloc[0, 0] == 4.5


def test_cli_bad_parameter_file_logs_nothing(mlfunc_home: Path, tmp_path: Path) -> None:
    params = tmp_path / "tax.toml"
    params.write_text("breakpoints = [50.0, 10.0]\nsegments = [[0.0], [1.0], [2.0]]\n")
    result = CliRunner().invoke(main, ["deploy", "piecewise", "--params", str(params), "--name", "never_logged"])
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: parameter file '{params}', key 'breakpoints'")
    assert last.endswith(f"Fix key 'breakpoints' in parameter file '{params}'.")
    assert mlflow.search_registered_models(filter_string="name = 'never_logged'") == []


def test_decision_table_example_in_pandas_and_spark(spark, mlfunc_home: Path) -> None:  # type: ignore[no-untyped-def]
    params = Path(__file__).resolve().parents[2] / "examples" / "decision_table" / "discount.toml"
    parameters = collect_parameters(DISCOUNT, file=params)
    deployment = deploy(DISCOUNT, parameters, name="order_discount", alias="champion", explain=True)
    assert len(deployment.golden) == 5

    orders = pd.DataFrame({"quantity": [600.0, 200.0, 10.0, None], "tier": ["silver", "gold", "platinum", "gold"]})
    model, _ = load_model("models:/order_discount@champion")
    predicted = model.predict(orders)
    assert predicted["rate"].tolist() == [0.12, 0.1, 0.03, 0.0]
    assert predicted["explanation"].tolist() == ["rule 1", "rule 2", "rule 4", "default"]

    register_model_function(spark, "order_discount", "models:/order_discount@champion")
    spark.createDataFrame(orders).createOrReplaceTempView("orders_for_discount")
    rows = run_query(
        spark, "SELECT quantity, order_discount(quantity, tier) AS d FROM orders_for_discount ORDER BY quantity"
    ).collect()
    by_quantity = {row["quantity"]: (row["d"]["rate"], row["d"]["explanation"]) for row in rows}
    assert by_quantity[600.0] == (0.12, "rule 1")
    assert by_quantity[10.0] == (0.03, "rule 4")


def test_decimal_output_stays_decimal_on_both_sql_paths(spark, user_folder: Path) -> None:  # type: ignore[no-untyped-def]
    function = get_function(f"{MODULE_NAME}:UNIT_PRICE")
    rules = {"rules": [{"when": {"quantity": {"min": 100}}, "then": {"price": 8.995}}], "default": {"price": 9.99}}
    deploy(function, rules, name="unit_price", alias="champion")

    compiled = register_sql_function(spark, "price_sql", "models:/unit_price@champion")
    python = register_sql_function(spark, "price_python", "models:/unit_price@champion", python_udf=True)
    assert (compiled.path, python.path) == ("compiled", "python")
    query = (
        "SELECT typeof(price_sql(q)), price_sql(q), typeof(price_python(q)), price_python(q) "
        "FROM VALUES (150.0D), (1.0D) AS t(q)"
    )
    rows = [tuple(row) for row in run_query(spark, query).collect()]
    assert rows == [
        ("decimal(10,2)", Decimal("9.00"), "decimal(10,2)", Decimal("9.00")),
        ("decimal(10,2)", Decimal("9.99"), "decimal(10,2)", Decimal("9.99")),
    ]
