"""The MLflow adapter: packaging, logging, registering and loading mlfunc models.

Named ``mlflow_adapter`` rather than ``mlflow`` so it can never shadow the real
package. MLflow exceptions are translated into :mod:`mlfunc.errors` here.
"""
