"""The file MLflow runs to build a logged model ("models from code").

mlfunc logs this file as the model's code, with mlfunc's own source as
``code_paths``, so a version loads where mlfunc is not installed and no
pickle is involved. The function and its parameters come from the model
config.
"""

from mlflow.models import set_model

from mlfunc.mlflow_adapter.model import FunctionModel

set_model(FunctionModel())
