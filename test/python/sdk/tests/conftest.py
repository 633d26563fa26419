"""MLClient connected to the emulator the way a user connects it to a custom cloud.

The environment is what a user exports (test/support/pythonTests.ts sets it from a running
emulator): ``ARM_CLOUD_METADATA_URL`` (the emulator's ``/metadata/endpoints``),
``REQUESTS_CA_BUNDLE`` (the emulator's CA), ``IDENTITY_ENDPOINT``/``IDENTITY_HEADER`` (its
managed-identity endpoint), ``AZURE_SUBSCRIPTION_ID``, ``AZURE_RESOURCE_GROUP`` and
``AZUREML_WORKSPACE_NAME``.
"""

from __future__ import annotations

import os
import uuid

import pytest
from azure.ai.ml import MLClient
from azure.identity import ManagedIdentityCredential

REQUIRED = (
    "ARM_CLOUD_METADATA_URL",
    "REQUESTS_CA_BUNDLE",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_RESOURCE_GROUP",
    "AZUREML_WORKSPACE_NAME",
)

#: The cloud name the emulator's metadata document declares.
CLOUD_NAME = "AzureMLEmulator"


@pytest.fixture(scope="session")
def ml_client() -> MLClient:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        raise RuntimeError(
            "These tests need a running emulator; run them with `npm run test:python` "
            f"(missing: {', '.join(missing)})"
        )
    return MLClient(
        ManagedIdentityCredential(),
        os.environ["AZURE_SUBSCRIPTION_ID"],
        os.environ["AZURE_RESOURCE_GROUP"],
        os.environ["AZUREML_WORKSPACE_NAME"],
        cloud=CLOUD_NAME,
    )


@pytest.fixture()
def unique() -> str:
    """A name no other test run uses (the emulator may be shared)."""
    return f"sdk-{uuid.uuid4().hex[:10]}"
