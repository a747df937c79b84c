"""CloudWatch Logs: an action on a log group (or one of its streams) names that group's ARN."""

from __future__ import annotations

from local_aws.core.iam.authorization import Call, Need


def logs_needs(call: Call) -> list[Need]:
    group = call.request.get("logGroupName")
    if not group:
        return [Need(f"logs:{call.operation}")]
    resource = f"arn:aws:logs:{call.region}:{call.account_id}:log-group:{group}"
    stream = call.request.get("logStreamName")
    return [Need(f"logs:{call.operation}", f"{resource}:log-stream:{stream}" if stream else f"{resource}:*")]
