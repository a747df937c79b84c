"""Athena: an action on a query or a workgroup names the workgroup's ARN (primary when none is given)."""

from __future__ import annotations

from local_aws.core.iam.authorization import Call, Need


def athena_needs(call: Call) -> list[Need]:
    workgroup = call.request.get("WorkGroup") or call.request.get("Name") or "primary"
    return [Need(f"athena:{call.operation}", f"arn:aws:athena:{call.region}:{call.account_id}:workgroup/{workgroup}")]
