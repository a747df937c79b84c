"""Fixtures of the Athena tests: one lake of Glue tables over Parquet objects per test module."""

from __future__ import annotations

from typing import Any

import pytest
from support.athena import Lake
from support.iam import reset_with_test_roles


@pytest.fixture(scope="module")
def lake(server: Any) -> Lake:
    """One lake for the module (tests that add data make their own table): setting up is the slow part.
    Its main table holds five rows: c1 twice (age 30 then 31), c2 (age 40, then deleted) and c3."""
    lake = Lake(reset_with_test_roles(server.port))
    lake.put(
        "20240501T000000Z_a",
        [
            {"customer_id": "c1", "age": 30, "score": 0.5, "event_time": "2024-05-01T00:00:00Z"},
            {"customer_id": "c2", "age": 40, "score": 1.25, "event_time": "2024-05-01T00:00:00Z"},
        ],
    )
    lake.put(
        "20240502T000000Z_b",
        [
            {"customer_id": "c1", "age": 31, "score": 0.75, "event_time": "2024-05-02T00:00:00Z"},
            {"customer_id": "c3", "age": None, "score": 2.0, "event_time": "2024-05-02T00:00:00Z"},
            {"customer_id": "c2", "event_time": "2024-05-03T00:00:00Z", "is_deleted": True},
        ],
    )
    return lake
