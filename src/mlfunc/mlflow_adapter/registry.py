"""Reading and changing the MLflow Model Registry: resolve URIs, list and promote versions."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST, ErrorCode

from mlfunc.errors import ModelNotFoundError, RegistryError, RegistryUnavailableError
from mlfunc.mlflow_adapter.registry_kind import check_registry_request, current_registry
from mlfunc.mlflow_adapter.store import redact_uri

logger = logging.getLogger(__name__)

STAGES = ("None", "Staging", "Production", "Archived")
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<selector>[^/]+))$")


@dataclass(frozen=True)
class ModelReference:
    """A registry model URI split into its name and one of version, stage or alias."""

    uri: str
    name: str
    version: str | None = None
    stage: str | None = None
    alias: str | None = None

    def describe(self) -> str:
        if self.alias is not None:
            return f"alias {self.alias!r}"
        if self.stage is not None:
            return f"stage {self.stage!r}"
        return "the latest version" if self.version is None else f"version {self.version}"


def parse_model_uri(uri: str) -> ModelReference | None:
    """Split a ``models:/NAME/VERSION|STAGE|latest`` or ``models:/NAME@ALIAS`` URI.

    Returns None for other URIs (``runs:/``, local paths, ``models:/m-<id>``),
    which are loaded as they are.
    """
    match = _REGISTRY_URI.match(uri)
    if match is None or match["name"].startswith("m-") and match["selector"] is None and match["alias"] is None:
        return None

    name, alias, selector = match["name"], match["alias"], match["selector"]
    if alias is not None:
        return ModelReference(uri, name, alias=alias)
    if selector.isdigit():
        return ModelReference(uri, name, version=selector)
    if selector.lower() == "latest":
        return ModelReference(uri, name)
    stage = next((known for known in STAGES if known.lower() == selector.lower()), selector)
    return ModelReference(uri, name, stage=stage)


@contextlib.contextmanager
def registry_errors(action: str) -> Iterator[None]:
    """Translate MLflow and connection errors raised while doing ``action`` into mlfunc errors."""
    try:
        yield
    except MlflowException as exc:
        if exc.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            raise ModelNotFoundError(f"{action} failed: {exc.message}") from exc
        if _looks_unreachable(exc):
            uri = redact_uri(mlflow.get_tracking_uri())
            raise RegistryUnavailableError(
                f"{action} failed: the tracking server at {uri} cannot be reached. "
                "Check MLFLOW_TRACKING_URI and that the server is running"
            ) from exc
        raise RegistryError(f"{action} failed: {exc.message}") from exc


def _looks_unreachable(exc: MlflowException) -> bool:
    # MLflow wraps connection failures of its REST client in a plain
    # MlflowException, so the cause chain is the only reliable signal.
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionError | TimeoutError) or type(cause).__module__.startswith("requests"):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


@dataclass(frozen=True)
class RegisteredVersion:
    """One version of a registered model, with the aliases that point to it."""

    name: str
    version: str
    stage: str
    aliases: tuple[str, ...]
    run_id: str | None
    source: str
    description: str
    tags: dict[str, str]
    created_ms: int

    @classmethod
    def from_mlflow(cls, version: ModelVersion, aliases: dict[str, str]) -> RegisteredVersion:
        number = str(version.version)
        return cls(
            name=version.name,
            version=number,
            stage=version.current_stage or "None",
            aliases=tuple(sorted(alias for alias, target in aliases.items() if str(target) == number)),
            run_id=version.run_id,
            source=version.source or "",
            description=version.description or "",
            tags=dict(version.tags or {}),
            created_ms=int(version.creation_timestamp or 0),
        )


def list_versions(name: str) -> list[RegisteredVersion]:
    """Return every version of registered model ``name``, oldest first.

    Raises ModelNotFoundError, listing the registered models, if ``name`` does not exist.
    """
    client = mlflow.MlflowClient()
    with registry_errors(f"looking up registered model {name!r}"):
        try:
            model = client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
                raise
            raise ModelNotFoundError(_missing_model_message(client, name)) from exc

        found = client.search_model_versions(_name_filter(name))

    # search_model_versions leaves ModelVersion.aliases empty on some stores,
    # so the aliases come from the registered model instead.
    aliases = {alias: str(target) for alias, target in (model.aliases or {}).items()}
    versions = [RegisteredVersion.from_mlflow(version, aliases) for version in found]
    return sorted(versions, key=lambda version: int(version.version))


def _name_filter(name: str) -> str:
    # MLflow's filter grammar has no escape for quotes inside a string, so a
    # name with a single quote is matched in double quotes, and vice versa.
    if "'" not in name:
        return f"name = '{name}'"
    if '"' not in name:
        return f'name = "{name}"'
    raise RegistryError(f"model name {name!r} contains both kinds of quote, which MLflow searches cannot match")


def _missing_model_message(client: mlflow.MlflowClient, name: str) -> str:
    models = sorted(model.name for model in client.search_registered_models())
    known = f"registered models are {', '.join(models)}" if models else "the registry has no registered models yet"
    return f"registered model {name!r} not found: {known}. Create it with: mlfunc deploy hybrid --name {name} ..."


def describe_versions(versions: list[RegisteredVersion]) -> str:
    """Summarise versions as ``1 (Archived), 2 (Production, @champion)`` for messages."""
    parts = []
    for version in versions:
        labels = [version.stage, *(f"@{alias}" for alias in version.aliases)]
        parts.append(f"{version.version} ({', '.join(labels)})")
    return ", ".join(parts) or "none"


def resolve_version(uri: str) -> RegisteredVersion | None:
    """Return the registered version a ``models:/`` URI points to, or None for other URIs.

    Raises ModelNotFoundError naming the versions that exist and how to
    promote one when the name, version, stage or alias does not exist.
    """
    reference = parse_model_uri(uri)
    if reference is None:
        return None
    check_registry_request(reference.name, reference.stage)

    versions = list_versions(reference.name)
    found = _select(reference, versions)
    if found is None:
        raise ModelNotFoundError(
            f"model URI {uri!r} not found: registered model {reference.name!r} has no {reference.describe()}. "
            f"Its versions are {describe_versions(versions)}. "
            f"Promote one with: mlfunc promote {reference.name} VERSION {_promote_option(reference)}"
        )

    logger.info("Resolved %s to version %s of %r", uri, found.version, reference.name)
    return found


def _promote_option(reference: ModelReference) -> str:
    if reference.alias is not None:
        return f"--alias {reference.alias}"
    if not current_registry().supports_stages:
        return "--alias champion"
    return f"--stage {reference.stage or 'Production'}"


def _select(reference: ModelReference, versions: list[RegisteredVersion]) -> RegisteredVersion | None:
    if reference.alias is not None:
        return next((v for v in versions if reference.alias in v.aliases), None)
    if reference.stage is not None:
        in_stage = [v for v in versions if v.stage == reference.stage]
        return in_stage[-1] if in_stage else None
    if reference.version is not None:
        return next((v for v in versions if v.version == reference.version), None)
    return versions[-1] if versions else None
