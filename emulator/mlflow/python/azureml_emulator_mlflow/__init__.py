"""The pulumi-azureml emulator's MLflow tracking-store plugin (the store itself is in store.py).

MLflow loads ``build_store`` through the ``mlflow.tracking_store`` entry point while it is still
importing ``mlflow.tracking``, so this module imports nothing of MLflow: the store module is
loaded on the first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azureml_emulator_mlflow.store import EmulatorTrackingStore

#: The store URI scheme: ``azureml-emulator-sqlite:///<path>`` names the SQLite file ``<path>``.
SCHEME = "azureml-emulator-sqlite"
#: The tag that asks ``runs/create`` for a run id (taken off the run's tags).
RUN_ID_TAG = "azureml.emulator.runId"


def build_store(store_uri: str, artifact_uri: str | None = None) -> EmulatorTrackingStore:
    """The ``mlflow.tracking_store`` entry point for ``azureml-emulator-sqlite`` URIs."""
    from azureml_emulator_mlflow.store import create_store

    return create_store(store_uri, artifact_uri)


__all__ = ["RUN_ID_TAG", "SCHEME", "build_store"]
