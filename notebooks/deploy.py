# Databricks notebook source
# MAGIC %md
# MAGIC # Deploy the hybrid function to MLflow
# MAGIC
# MAGIC This notebook logs the hybrid function with its parameters as a new version of a registered MLflow
# MAGIC model, then promotes that version so that the `run` notebook, a job or a `%sql` query can load it by URI.
# MAGIC
# MAGIC One widget chooses the registry; every other step follows from it:
# MAGIC
# MAGIC | `registry` | model name | promotion | URI of the serving version |
# MAGIC | --- | --- | --- | --- |
# MAGIC | `workspace` | `custom_model` | stage `Production` and alias `champion` | `models:/custom_model/Production` |
# MAGIC | `unity-catalog` | `main.default.custom_model` | alias `champion` (Unity Catalog has no stages) | `models:/main.default.custom_model@champion` |
# MAGIC
# MAGIC The parameters come from the `x0`, `y0` and `gradient` widgets, or from a JSON or TOML file named in
# MAGIC `parameters_file`, such as `/Volumes/main/default/config/hybrid.json` containing
# MAGIC `{"x0": 5, "y0": 2, "gradient": 1}`. In a Databricks job, pass any widget as a job parameter of the same name.
# MAGIC
# MAGIC Setup, permissions and limits: `docs/databricks.md` in the mlfunc repository.

# COMMAND ----------

# MAGIC %md
# MAGIC ## Install mlfunc
# MAGIC
# MAGIC `..` is the repository this notebook belongs to, when it is opened from a Databricks Git folder. To install a
# MAGIC built wheel instead, replace `..` with the wheel's path, for example
# MAGIC `/Volumes/main/default/wheels/mlfunc-0.1.0-py3-none-any.whl`.

# COMMAND ----------

# MAGIC %pip install --quiet ..

# COMMAND ----------

# Restart Python so that this notebook imports the MLflow version pip just installed.
dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.dropdown("registry", "workspace", ["workspace", "unity-catalog"], "Registry")
dbutils.widgets.text("catalog", "main", "Catalog (Unity Catalog only)")
dbutils.widgets.text("schema", "default", "Schema (Unity Catalog only)")
dbutils.widgets.text("model", "custom_model", "Model")
dbutils.widgets.text("alias", "champion", "Alias")
dbutils.widgets.text("x0", "5", "x0: breakpoint")
dbutils.widgets.text("y0", "2", "y0: output below the breakpoint")
dbutils.widgets.text("gradient", "1", "gradient: slope above the breakpoint")
dbutils.widgets.text("parameters_file", "", "Parameter file (.json or .toml)")
dbutils.widgets.text("experiment", "/Shared/mlfunc", "MLflow experiment")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Choose the registry

# COMMAND ----------

from mlfunc.mlflow_adapter.registry_kind import use_registry

registry = use_registry(dbutils.widgets.get("registry"))
model_name = registry.model_name(
    dbutils.widgets.get("model"),
    catalog=dbutils.widgets.get("catalog"),
    schema=dbutils.widgets.get("schema"),
)
print(f"Registry: {registry.describe()}")
print(f"Model:    {model_name}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Read the parameters

# COMMAND ----------

from mlfunc.core import HYBRID
from mlfunc.parameter_input import parameters_from_text, read_parameter_file

parameters_file = dbutils.widgets.get("parameters_file").strip()
if parameters_file:
    parameters = read_parameter_file(HYBRID, parameters_file)
    print(f"Parameters from {parameters_file}: {parameters}")
else:
    widget_values = {parameter.name: dbutils.widgets.get(parameter.name) for parameter in HYBRID.parameters}
    parameters = parameters_from_text(HYBRID, widget_values)
    print(f"Parameters from the widgets: {parameters}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Deploy and promote
# MAGIC
# MAGIC `deploy` logs a run with the parameters as run params and the model as code, and registers a new version.
# MAGIC `promote` then moves the serving stage and alias to it: on the workspace registry the stage `Production`
# MAGIC (archiving the version that held it) and the alias, on Unity Catalog the alias alone.

# COMMAND ----------

from mlfunc.mlflow_adapter.deploy import deploy
from mlfunc.mlflow_adapter.promotion import promote
from mlfunc.mlflow_adapter.registry import resolve_version

deployment = deploy(HYBRID, parameters, name=model_name, experiment=dbutils.widgets.get("experiment"))
print(f"Registered {deployment.registry_uri} from run {deployment.run_id}")

alias = dbutils.widgets.get("alias")
stage = "Production" if registry.supports_stages else None
promote(model_name, deployment.version, stage=stage, alias=alias)

serving_uri = registry.serving_uri(model_name, alias=alias)
serving = resolve_version(serving_uri)
print(f"{serving_uri} now loads version {serving.version}")

# COMMAND ----------

import pandas as pd

from mlfunc.mlflow_adapter.registry import list_versions

display(
    pd.DataFrame(
        [
            {
                "version": version.version,
                "stage": version.stage,
                "aliases": ", ".join(version.aliases),
                "description": version.description,
            }
            for version in list_versions(model_name)
        ]
    )
)

# COMMAND ----------

# A job that runs this notebook receives the serving URI as the task's output.
dbutils.notebook.exit(serving_uri)
