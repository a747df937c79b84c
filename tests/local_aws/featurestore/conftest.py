"""Fixtures of the Feature Store tests: boto3 clients made once, and a probe group for error tests."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from support.featurestore import PROBE, Clients, create_group


@pytest.fixture(scope="session")
def clients(server: Any) -> Clients:
    return Clients()


@pytest.fixture()
def aws(aws: Any, clients: Clients) -> Clients:
    """The root conftest's `aws` (a reset local_aws), with clients made once per test session."""
    return clients


@pytest.fixture()
def sm(clients: Clients) -> Any:
    """A SageMaker client for tests that only provoke errors, so need no reset."""
    return clients.client("sagemaker")


@pytest.fixture()
def probe(clients: Clients) -> dict:
    """A group for tests that only provoke errors: made once and kept until a reset, as they write nothing."""
    try:
        return clients.client("sagemaker").describe_feature_group(FeatureGroupName=PROBE)
    except ClientError:
        return create_group(clients, PROBE)
