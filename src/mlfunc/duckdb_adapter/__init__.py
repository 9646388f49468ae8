"""Running models as DuckDB SQL functions over files, on one machine without a JVM."""
