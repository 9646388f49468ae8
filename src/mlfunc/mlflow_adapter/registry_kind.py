"""The kind of model registry mlfunc talks to, and the rules that follow from it.

The workspace registry (the embedded SQLite store, a tracking server, or
Databricks' workspace model registry) has stages and aliases, and any model
name. Unity Catalog (registry URI ``databricks-uc``, or ``uc`` for the open
source Unity Catalog server) has aliases only, and its model names have three
parts: ``catalog.schema.model``.

mlfunc reads the kind from the registry URI. The setting ``MLFUNC_REGISTRY``
(``workspace`` or ``unity-catalog``, set by :func:`use_registry`) selects it
explicitly. Beside a Databricks tracking URI, use_registry also switches
MLflow's registry URI. Elsewhere ``unity-catalog`` makes mlfunc apply the
Unity Catalog rules to the registry it has, so that notebooks written for
Unity Catalog run unchanged on the embedded SQLite store, which accepts
three-part names as plain names.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Literal, get_args

import mlflow

from mlfunc.errors import RegistryError
from mlfunc.mlflow_adapter.store import redact_uri, use_store

logger = logging.getLogger(__name__)

RegistryKind = Literal["workspace", "unity-catalog"]
REGISTRY_KINDS: tuple[RegistryKind, ...] = get_args(RegistryKind)
REGISTRY_ENV = "MLFUNC_REGISTRY"

# MLflow's URI schemes for Databricks Unity Catalog and for the open source
# Unity Catalog server (mlflow.utils.uri in MLflow 3.17). Neither has stages.
_UNITY_CATALOG_SCHEMES = frozenset({"databricks-uc", "uc"})
_DATABRICKS_SCHEME = "databricks"


@dataclass(frozen=True)
class ModelRegistry:
    """The model registry in use.

    ``uri`` has any password removed. ``emulated`` is True when mlfunc applies
    the Unity Catalog rules to a registry that is not Unity Catalog.
    """

    kind: RegistryKind
    uri: str
    emulated: bool = False

    @property
    def supports_stages(self) -> bool:
        return self.kind == "workspace"

    def describe(self) -> str:
        """Summarise the registry for a notebook or log line."""
        if self.kind == "workspace":
            return f"workspace registry at {self.uri}: stages and aliases"
        if self.emulated:
            return f"Unity Catalog rules ({REGISTRY_ENV}=unity-catalog) on {self.uri}: aliases only, three-part names"
        return f"Unity Catalog registry at {self.uri}: aliases only, three-part names"

    def model_name(self, model: str, *, catalog: str, schema: str) -> str:
        """Return the registered model name: ``model`` in the workspace registry, else ``catalog.schema.model``."""
        name = model if self.kind == "workspace" else f"{catalog}.{schema}.{model}"
        self.check_model_name(name)
        return name

    def serving_uri(self, name: str, *, alias: str) -> str:
        """Return the serving version's URI: ``models:/NAME/Production`` with stages, else ``models:/NAME@ALIAS``."""
        return f"models:/{name}/Production" if self.supports_stages else f"models:/{name}@{alias}"

    def check_model_name(self, name: str) -> None:
        """Raise RegistryError if mlfunc could not find ``name`` again, or Unity Catalog would reject it.

        MLflow's search filter has no escape for quotes, so a name with both
        kinds of quote could be registered but never listed again.
        """
        if "'" in name and '"' in name:
            raise RegistryError(
                f"invalid model name {name!r}: it contains both kinds of quote, which MLflow's search cannot "
                "match; remove one of them"
            )
        if self.kind == "workspace":
            return
        parts = name.split(".")
        if len(parts) == 3 and all(part and part.strip() == part for part in parts):
            return
        raise RegistryError(
            f"invalid Unity Catalog model name {name!r}: expected three parts catalog.schema.model, "
            f"such as main.default.custom_model ({self.describe()})"
        )

    def check_stage(self, stage: str | None, *, name: str) -> None:
        """Raise RegistryError if ``stage`` is requested from a registry without stages."""
        if stage is None or self.supports_stages:
            return
        where = f"{REGISTRY_ENV}=unity-catalog on {self.uri}" if self.emulated else self.uri
        raise RegistryError(
            f"stage {stage!r} requested for {name!r}, but stages are not supported by the Unity Catalog "
            f"registry ({where}): use an alias instead (--alias champion, or alias='champion' in Python) "
            f"and load models:/{name}@champion"
        )


def registry_kind_for_uri(uri: str) -> RegistryKind:
    """Return the kind of registry a registry URI addresses, from its scheme alone."""
    scheme = uri.partition(":")[0].lower()
    return "unity-catalog" if scheme in _UNITY_CATALOG_SCHEMES else "workspace"


def parse_registry_kind(value: str, *, setting: str = REGISTRY_ENV) -> RegistryKind:
    """Return ``value`` as a registry kind, or raise RegistryError naming ``setting`` and the accepted values."""
    normalised = value.strip().lower()
    for kind in REGISTRY_KINDS:
        if normalised == kind:
            return kind
    raise RegistryError(f"invalid {setting} {value!r}: expected one of {', '.join(REGISTRY_KINDS)}")


def current_registry() -> ModelRegistry:
    """Return the registry MLflow is pointed at, with the rules ``MLFUNC_REGISTRY`` selects.

    Raises RegistryError if ``MLFUNC_REGISTRY=workspace`` names a Unity
    Catalog registry URI, because mlfunc cannot give Unity Catalog stages.
    """
    uri = mlflow.get_registry_uri()
    detected = registry_kind_for_uri(uri)
    configured = os.environ.get(REGISTRY_ENV, "").strip()
    requested = parse_registry_kind(configured) if configured else detected

    if requested == detected:
        return ModelRegistry(detected, redact_uri(uri))
    if requested == "unity-catalog":
        return ModelRegistry("unity-catalog", redact_uri(uri), emulated=True)
    raise RegistryError(
        f"{REGISTRY_ENV}=workspace conflicts with the Unity Catalog registry URI {redact_uri(uri)!r}: "
        f"call mlflow.set_registry_uri('databricks') for the workspace registry, or set {REGISTRY_ENV}=unity-catalog"
    )


def registry_uri_for(kind: RegistryKind, tracking_uri: str) -> str | None:
    """Return the registry URI that selects ``kind`` next to ``tracking_uri``, or None to keep the current one.

    Only a Databricks tracking URI has both kinds of registry beside it, so
    only there does the kind choose a registry URI. A ``databricks://PROFILE``
    tracking URI keeps its profile.
    """
    scheme, separator, rest = tracking_uri.partition(":")
    if scheme.lower() != _DATABRICKS_SCHEME:
        return None
    registry_scheme = "databricks-uc" if kind == "unity-catalog" else _DATABRICKS_SCHEME
    return f"{registry_scheme}{separator}{rest}" if separator else registry_scheme


def use_registry(kind: str) -> ModelRegistry:
    """Select the workspace registry or Unity Catalog for this process, and return the registry in use.

    Sets ``MLFUNC_REGISTRY`` to ``kind``. With a Databricks tracking URI it
    also points MLflow's registry URI at ``databricks`` or ``databricks-uc``.
    With any other tracking URI, ``unity-catalog`` applies the Unity Catalog
    rules to the registry there.
    """
    selected = parse_registry_kind(kind, setting="registry kind")
    store = use_store()

    registry_uri = registry_uri_for(selected, store.tracking_uri)
    if registry_uri is not None:
        mlflow.set_registry_uri(registry_uri)
    os.environ[REGISTRY_ENV] = selected

    registry = current_registry()
    logger.info("Using the %s", registry.describe())
    return registry


def check_registry_request(name: str, stage: str | None) -> None:
    """Raise RegistryError if the registry in use rejects model name ``name`` or ``stage``.

    Called before anything is written, so a rejected request leaves the
    tracking store and registry unchanged.
    """
    registry = current_registry()
    registry.check_stage(stage, name=name)
    registry.check_model_name(name)
