"""What a user of azure-ai-ml sees against the emulator, operation group by operation group.

Every failure here is an emulator bug unless Azure fails the same call (then DIFFERENCES.md says
so, with its source).
"""

from __future__ import annotations

import os
from pathlib import Path

from azure.ai.ml import MLClient, command
from azure.ai.ml.entities import BatchEndpoint, Data, Environment, Model


def test_reads_the_workspace_it_was_given(ml_client: MLClient) -> None:
    workspace = ml_client.workspaces.get(os.environ["AZUREML_WORKSPACE_NAME"])
    assert workspace.name == os.environ["AZUREML_WORKSPACE_NAME"]
    assert workspace.location


def test_lists_datastores_and_finds_the_default_one(ml_client: MLClient) -> None:
    names = [d.name for d in ml_client.datastores.list()]
    assert "workspaceblobstore" in names
    default = ml_client.datastores.get_default()
    assert default.name == "workspaceblobstore"


def test_registers_an_environment_and_reads_it_back(ml_client: MLClient, unique: str) -> None:
    created = ml_client.environments.create_or_update(
        Environment(name=unique, version="1", image="python:3.10-slim", description="from the SDK")
    )
    assert created.version == "1"
    fetched = ml_client.environments.get(unique, "1")
    assert fetched.image == "python:3.10-slim"
    assert fetched.description == "from the SDK"
    assert unique in [e.name for e in ml_client.environments.list()]


def test_registers_a_data_asset_from_a_url(ml_client: MLClient, unique: str) -> None:
    created = ml_client.data.create_or_update(
        Data(name=unique, version="1", type="uri_file", path="https://example.org/iris.csv")
    )
    assert created.path == "https://example.org/iris.csv"
    assert ml_client.data.get(unique, "1").type == "uri_file"


def test_registers_a_model_from_a_datastore_path_and_reads_its_flavors(
    ml_client: MLClient, unique: str
) -> None:
    created = ml_client.models.create_or_update(
        Model(
            name=unique,
            path="azureml://datastores/workspaceblobstore/paths/models/m/",
            type="custom_model",
        )
    )
    assert created.version == "1"
    # Reading a model iterates the service's `flavors` (it crashed when the field was missing).
    fetched = ml_client.models.get(unique, "1")
    assert fetched.type == "custom_model"
    assert fetched.path is not None and fetched.path.endswith("models/m/")
    assert [m.version for m in ml_client.models.list(name=unique)] == ["1"]


def test_submits_a_command_job_and_reads_it_back(ml_client: MLClient, unique: str) -> None:
    ml_client.environments.create_or_update(
        Environment(name=unique, version="1", image="python:3.10-slim")
    )
    job = command(
        command="echo hello",
        environment=f"{unique}:1",
        compute="cpu-cluster",
        experiment_name=unique,
    )
    submitted = ml_client.jobs.create_or_update(job)
    assert submitted.name
    fetched = ml_client.jobs.get(submitted.name)
    assert fetched.experiment_name == unique
    ml_client.jobs.begin_cancel(submitted.name).result()


def test_creates_a_batch_endpoint_as_a_long_running_operation(
    ml_client: MLClient, unique: str
) -> None:
    name = f"b{unique.replace('sdk-', '')}"[:32]
    endpoint = ml_client.batch_endpoints.begin_create_or_update(BatchEndpoint(name=name)).result()
    assert endpoint.name == name
    fetched = ml_client.batch_endpoints.get(name)
    assert fetched.scoring_uri
    ml_client.batch_endpoints.begin_delete(name).result()


def test_uploads_a_local_file_as_a_data_asset(
    ml_client: MLClient, unique: str, tmp_path: Path
) -> None:
    local = tmp_path / "iris.csv"
    local.write_text("sepal_length,species\n5.1,setosa\n")
    created = ml_client.data.create_or_update(
        Data(name=unique, version="1", type="uri_file", path=str(local))
    )
    assert created.path is not None and created.path.endswith("iris.csv")
    assert "workspaceblobstore" in created.path


def test_uploads_a_local_folder_as_a_model(ml_client: MLClient, unique: str, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"not really a pickle")
    (folder / "MLmodel").write_text("flavors: {}\n")
    created = ml_client.models.create_or_update(Model(name=unique, path=str(folder)))
    assert created.version == "1"
    assert created.path is not None and "workspaceblobstore" in created.path


def test_submits_a_job_with_local_code_the_sdk_uploads(
    ml_client: MLClient, unique: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "main.py").write_text("print('hello from the SDK')\n")
    ml_client.environments.create_or_update(
        Environment(name=unique, version="1", image="python:3.10-slim")
    )
    job = command(
        code=str(src),
        command="python main.py",
        environment=f"{unique}:1",
        compute="cpu-cluster",
        experiment_name=unique,
    )
    submitted = ml_client.jobs.create_or_update(job)
    fetched = ml_client.jobs.get(submitted.name)
    assert fetched.code is not None and "/codes/" in str(fetched.code)
    ml_client.jobs.begin_cancel(submitted.name).result()
