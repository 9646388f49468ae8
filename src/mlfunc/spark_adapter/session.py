"""Starting or reusing a Spark session.

An active session (a notebook's, a cluster's, a test fixture's) is reused.
Otherwise mlfunc starts one with master ``$MLFUNC_SPARK_MASTER`` (default
``local[*]``), bound to 127.0.0.1, with the JVM's console output sent to a
log file so that users see results rather than Spark's start-up lines.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from pyspark import SparkConf, SparkContext
from pyspark.errors import PySparkException
from pyspark.java_gateway import launch_gateway
from pyspark.sql import SparkSession

from mlfunc.errors import SparkError
from mlfunc.settings import mlfunc_home

logger = logging.getLogger(__name__)

MASTER_ENV = "MLFUNC_SPARK_MASTER"
DEFAULT_MASTER = "local[*]"

_LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # A few partitions suit one machine; Spark's default of 200 makes small queries slow.
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def spark_log_path() -> Path:
    return mlfunc_home() / "logs" / "spark.log"


def get_spark(app_name: str = "mlfunc") -> SparkSession:
    """Return the active Spark session, or start one as described in the module docstring."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active

    master = os.environ.get(MASTER_ENV, DEFAULT_MASTER)
    # Python workers must run the interpreter that has mlfunc and its
    # dependencies, not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    conf = SparkConf().setMaster(master).setAppName(app_name)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        conf.setAll(list(_LOCAL_SETTINGS.items()))

    log_path = spark_log_path()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log_path.open("ab") as log:
            # launch_gateway is PySpark's own JVM launcher. Passing the log file
            # as the child's stdout and stderr keeps the JVM's
            # console lines (log4j, JDK notices) out of the user's terminal.
            gateway = launch_gateway(
                conf,
                popen_kwargs={"stdout": log, "stderr": subprocess.STDOUT},
            )
        context = SparkContext(conf=conf, gateway=gateway)
    except (PySparkException, OSError) as exc:
        raise SparkError(
            f"cannot start Spark with master {master!r}: {exc}. Check that Java 17 or newer is installed "
            f"and see {log_path}"
        ) from exc

    context.setLogLevel("ERROR")
    logger.info("Started Spark %s with master %s (log: %s)", context.version, master, log_path)
    return SparkSession(context)
