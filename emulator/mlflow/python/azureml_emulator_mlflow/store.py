"""MLflow's SQLAlchemy tracking store, with run ids chosen by the emulator.

Azure ML's MLflow run id is the job's name, and a job's client logs to ``MLFLOW_RUN_ID=<job name>``.
MLflow's ``runs/create`` takes no id (the store draws a 32-hex uuid), so the emulator asks for one
with the reserved tag ``azureml.emulator.runId``: this store takes it off the tag list and creates
the run under that id. Runs created without the tag (by any client) get MLflow's usual ids.

Registered through the ``mlflow.tracking_store`` entry point for URIs
``azureml-emulator-sqlite:///<path>``, which name the same SQLite file as ``sqlite:///<path>``.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import mlflow.store.tracking.sqlalchemy_store as sqlalchemy_store_module
from mlflow.entities import Run, RunTag
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from azureml_emulator_mlflow import RUN_ID_TAG, SCHEME

# Azure ML job names; also safe as a path segment of the run's artifact location.
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")
# What `mlflow server` passes as the artifact root when it proxies artifacts.
_SERVER_ARTIFACT_ROOT_ENV_VAR = "_MLFLOW_SERVER_ARTIFACT_ROOT"


class _RunIdSource:
    """Stands in for the ``uuid`` module inside MLflow's store module.

    ``SqlAlchemyStore.create_run`` draws its id with ``uuid.uuid4().hex``. While a thread creates
    a run with a chosen id, ``uuid4()`` returns that id in that thread only; everything else is
    the real ``uuid`` module.
    """

    def __init__(self, real: ModuleType) -> None:
        self._real = real
        self._chosen = threading.local()

    def uuid4(self) -> uuid.UUID | _ChosenId:
        chosen: str | None = getattr(self._chosen, "run_id", None)
        if chosen is None:
            return self._real.uuid4()  # type: ignore[no-any-return]
        self._chosen.run_id = None  # one id per create_run
        return _ChosenId(chosen)

    @contextmanager
    def choose(self, run_id: str) -> Iterator[None]:
        self._chosen.run_id = run_id
        try:
            yield
        finally:
            self._chosen.run_id = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _ChosenId:
    """What ``uuid4()`` returns for a chosen id: only ``.hex`` is read."""

    def __init__(self, value: str) -> None:
        self.hex = value


def _install_run_id_source() -> _RunIdSource:
    current = getattr(sqlalchemy_store_module, "uuid")
    if isinstance(current, _RunIdSource):
        return current
    source = _RunIdSource(current)
    setattr(sqlalchemy_store_module, "uuid", source)
    return source


_run_ids = _install_run_id_source()


def chosen_run_id(tags: Sequence[RunTag] | None) -> tuple[str | None, list[RunTag]]:
    """The run id asked for with the reserved tag (last one wins), and the other tags."""
    chosen: str | None = None
    rest: list[RunTag] = []
    for tag in tags or []:
        if tag.key == RUN_ID_TAG:
            chosen = tag.value
        else:
            rest.append(tag)
    if chosen is not None and RUN_ID_PATTERN.fullmatch(chosen) is None:
        raise MlflowException(
            f"Invalid run id {chosen!r} in tag {RUN_ID_TAG}: expected 1 to 255 letters, digits, "
            "'-' or '_', starting with a letter or digit.",
            INVALID_PARAMETER_VALUE,
        )
    return chosen, rest


class EmulatorTrackingStore(SqlAlchemyStore):
    """SqlAlchemyStore whose ``create_run`` honours the reserved run-id tag."""

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: list[RunTag],
        run_name: str | None,
    ) -> Run:
        run_id, rest = chosen_run_id(tags)
        if run_id is None:
            return super().create_run(experiment_id, user_id, start_time, rest, run_name)
        if self._run_exists(run_id):
            raise MlflowException(f"Run with id={run_id} already exists.", RESOURCE_ALREADY_EXISTS)
        with _run_ids.choose(run_id):
            run = super().create_run(experiment_id, user_id, start_time, rest, run_name)
        if run.info.run_id != run_id:
            # MLflow changed how it draws run ids: fail loudly rather than log to a wrong run.
            raise MlflowException(
                f"The tracking store created run {run.info.run_id} instead of {run_id}; "
                "this MLflow version is not supported by the emulator's store."
            )
        return run

    def _run_exists(self, run_id: str) -> bool:
        try:
            self.get_run(run_id)
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return False
            raise
        return True


def sqlite_uri(store_uri: str) -> str:
    """``azureml-emulator-sqlite:///<path>`` → ``sqlite:///<path>``."""
    prefix = f"{SCHEME}:"
    if not store_uri.startswith(prefix):
        raise MlflowException(
            f"Expected a store URI starting with {prefix!r}, got {store_uri!r}.",
            INVALID_PARAMETER_VALUE,
        )
    return "sqlite:" + store_uri[len(prefix) :]


def create_store(store_uri: str, artifact_uri: str | None = None) -> EmulatorTrackingStore:
    """The store for an ``azureml-emulator-sqlite`` URI (what the entry point builds)."""
    if artifact_uri is None:
        artifact_uri = os.environ.get(_SERVER_ARTIFACT_ROOT_ENV_VAR, "./mlruns")
    return EmulatorTrackingStore(sqlite_uri(store_uri), artifact_uri)


__all__ = ["EmulatorTrackingStore", "chosen_run_id", "create_store", "sqlite_uri"]
