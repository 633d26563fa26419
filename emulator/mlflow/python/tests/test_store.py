"""The emulator's tracking store against a real SQLite file, through MLflow's own store registry."""

from __future__ import annotations

import re
import uuid
import pytest
from mlflow.entities import RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking._tracking_service.utils import _tracking_store_registry

from azureml_emulator_mlflow import RUN_ID_TAG, SCHEME, build_store
from azureml_emulator_mlflow.store import EmulatorTrackingStore, chosen_run_id, sqlite_uri


# One database for the module: creating one runs MLflow's migrations, which takes seconds.
@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmulatorTrackingStore:
    folder = tmp_path_factory.mktemp("tracking")
    return build_store(f"{SCHEME}:///{folder / 'mlflow.db'}", str(folder / "artifacts"))


def experiment(store: EmulatorTrackingStore) -> str:
    return str(store.create_experiment(f"experiment-{uuid.uuid4().hex}"))


def test_a_run_created_with_the_reserved_tag_has_that_id_and_not_the_tag(
    store: EmulatorTrackingStore,
) -> None:
    tags = [RunTag(RUN_ID_TAG, "sturdy_lime_x7k2"), RunTag("team", "ml")]
    run = store.create_run(experiment(store), "user", 0, tags, "train iris")
    assert run.info.run_id == "sturdy_lime_x7k2"
    fetched = store.get_run("sturdy_lime_x7k2")
    assert fetched.info.run_name == "train iris"
    assert fetched.info.status == RunStatus.to_string(RunStatus.RUNNING)
    assert fetched.data.tags["team"] == "ml"
    assert RUN_ID_TAG not in fetched.data.tags
    assert fetched.info.artifact_uri.endswith("/sturdy_lime_x7k2/artifacts")


def test_a_run_created_without_the_tag_gets_an_mlflow_id(store: EmulatorTrackingStore) -> None:
    run = store.create_run(experiment(store), "user", 0, [], None)
    assert re.fullmatch(r"[0-9a-f]{32}", run.info.run_id)


def test_creating_a_run_twice_with_one_id_is_refused(store: EmulatorTrackingStore) -> None:
    exp = experiment(store)
    store.create_run(exp, "user", 0, [RunTag(RUN_ID_TAG, "job-1")], None)
    with pytest.raises(MlflowException) as raised:
        store.create_run(exp, "user", 0, [RunTag(RUN_ID_TAG, "job-1")], None)
    assert raised.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_a_run_id_that_is_not_a_job_name_is_refused(store: EmulatorTrackingStore) -> None:
    with pytest.raises(MlflowException) as raised:
        store.create_run(experiment(store), "user", 0, [RunTag(RUN_ID_TAG, "../escape")], None)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_chosen_id_is_used_once_then_ids_are_mlflow_s_again(store: EmulatorTrackingStore) -> None:
    exp = experiment(store)
    store.create_run(exp, "user", 0, [RunTag(RUN_ID_TAG, "job-2")], None)
    after = store.create_run(exp, "user", 0, [], None)
    assert after.info.run_id != "job-2"
    assert re.fullmatch(r"[0-9a-f]{32}", after.info.run_id)


def test_the_last_reserved_tag_wins_and_others_are_kept() -> None:
    chosen, rest = chosen_run_id([RunTag(RUN_ID_TAG, "a"), RunTag("k", "v"), RunTag(RUN_ID_TAG, "b")])
    assert chosen == "b"
    assert [(t.key, t.value) for t in rest] == [("k", "v")]


def test_the_scheme_names_the_same_sqlite_file() -> None:
    assert sqlite_uri(f"{SCHEME}:////var/lib/mlflow/mlflow.db") == "sqlite:////var/lib/mlflow/mlflow.db"
    with pytest.raises(MlflowException):
        sqlite_uri("sqlite:///mlflow.db")


def test_mlflow_finds_the_store_through_its_entry_point() -> None:
    # The test environment installs this folder as a package, as the server's environment does.
    assert _tracking_store_registry.get_store_builder(f"{SCHEME}:///x.db") is build_store
