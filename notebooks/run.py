# Databricks notebook source
# MAGIC %md
# MAGIC # Run the deployed hybrid function from pandas and Spark SQL
# MAGIC
# MAGIC This notebook loads the serving version that the `deploy` notebook promoted, predicts on a pandas DataFrame,
# MAGIC registers the model as the Spark SQL function `custom_model_udf` and queries it from a `%sql` cell.
# MAGIC
# MAGIC Set the `registry` widget as in the `deploy` notebook: `workspace` loads `models:/custom_model/Production`,
# MAGIC `unity-catalog` loads `models:/main.default.custom_model@champion`.
# MAGIC The data is the UCI wine recognition data set that ships with scikit-learn (178 wines), so no download is needed.

# COMMAND ----------

# MAGIC %pip install --quiet ..

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

dbutils.widgets.dropdown("registry", "workspace", ["workspace", "unity-catalog"], "Registry")
dbutils.widgets.text("catalog", "main", "Catalog (Unity Catalog only)")
dbutils.widgets.text("schema", "default", "Schema (Unity Catalog only)")
dbutils.widgets.text("model", "custom_model", "Model")
dbutils.widgets.text("alias", "champion", "Alias")

# COMMAND ----------

from mlfunc.mlflow_adapter.registry_kind import use_registry

registry = use_registry(dbutils.widgets.get("registry"))
model_name = registry.model_name(
    dbutils.widgets.get("model"),
    catalog=dbutils.widgets.get("catalog"),
    schema=dbutils.widgets.get("schema"),
)
model_uri = registry.serving_uri(model_name, alias=dbutils.widgets.get("alias"))
print(f"Registry: {registry.describe()}")
print(f"Model:    {model_uri}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Load by URI and predict on pandas
# MAGIC
# MAGIC `load_model` is `mlflow.pyfunc.load_model(model_uri)` that also reports which registered version the URI
# MAGIC resolved to, and names the versions that exist when it resolves to none.

# COMMAND ----------

import pandas as pd
from sklearn.datasets import load_wine

from mlfunc.mlflow_adapter.loading import load_model, prediction_values

model, version = load_model(model_uri)
print(f"{model_uri} is version {version.version}: {version.description}")

wine = load_wine(as_frame=True).frame[["color_intensity"]]
sample = wine.sort_values("color_intensity").iloc[::30]
predictions = model.predict(pd.DataFrame({"x": sample["color_intensity"].to_numpy()}))
display(sample.assign(prediction=prediction_values(predictions)))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Register the Spark SQL function
# MAGIC
# MAGIC The hybrid function compiles to a SQL expression, so the function is a temporary SQL function that Spark
# MAGIC runs natively, without Python workers. A function that does not compile runs on Python workers instead; the
# MAGIC printed line names the path. It and the `wine` view live in this notebook's Spark session, so the `%sql` cell
# MAGIC below can use both.

# COMMAND ----------

from mlfunc.spark_adapter.sql import register_sql_function

print(register_sql_function(spark, "custom_model_udf", model_uri).describe())
spark.createDataFrame(wine).createOrReplaceTempView("wine")

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT color_intensity, custom_model_udf(color_intensity) AS prediction
# MAGIC FROM wine
# MAGIC ORDER BY color_intensity

# COMMAND ----------

# MAGIC %md
# MAGIC ## Check that Spark SQL and pandas agree
# MAGIC
# MAGIC The same version run by two engines must give the same numbers on every row.

# COMMAND ----------

scored = spark.sql("SELECT color_intensity, custom_model_udf(color_intensity) AS prediction FROM wine").toPandas()
expected = prediction_values(model.predict(pd.DataFrame({"x": scored["color_intensity"].to_numpy()})))
mismatched = int((expected != scored["prediction"].to_numpy()).sum())
if mismatched:
    raise AssertionError(f"Spark SQL and pandas predictions differ on {mismatched} of {len(scored)} rows")
print(f"Spark SQL and pandas agree on all {len(scored)} rows of version {version.version}")
