"""The Spark adapter: a quiet local session, model SQL functions and file tables.

Spark exceptions are translated into :class:`mlfunc.errors.SparkError` here.
"""
