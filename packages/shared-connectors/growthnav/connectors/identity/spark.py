"""A local Spark session set up the way Splink needs it (for tests and single-machine trials).

Production runs pass their own cluster's session to ``IdentityLinker(spark_session=...)``;
the session needs Splink's similarity functions jar and a checkpoint directory, as here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def local_spark_session(checkpoint_dir: Path, *, cores: int = 2) -> Any:
    """A ``local[cores]`` session with Splink's jar, few shuffle partitions, no UI."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    import splink.backends.spark as splink_spark
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("growthnav-identity")
        .config("spark.jars", splink_spark.similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(max(2, cores)))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    session.sparkContext.setCheckpointDir(str(checkpoint_dir))
    session.sparkContext.setLogLevel("ERROR")
    return session
