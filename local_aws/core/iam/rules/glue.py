"""Glue: an action needs its permission on the catalog, the database and the table it touches.

AWS checks every level of the hierarchy (docs: "Specifying AWS Glue resource ARNs"): GetTable on
sagemaker_featurestore.t needs glue:GetTable on the catalog, on database/sagemaker_featurestore and
on table/sagemaker_featurestore/t.
"""

from __future__ import annotations

from local_aws.core.iam.authorization import Call, Need


def glue_needs(call: Call) -> list[Need]:
    request, action = call.request, f"glue:{call.operation}"
    base = f"arn:aws:glue:{call.region}:{call.account_id}"
    resources = [f"{base}:catalog"]
    database = request.get("DatabaseName") or (request.get("DatabaseInput") or {}).get("Name")
    if database:
        resources.append(f"{base}:database/{database}")
        table = request.get("TableName") or request.get("Name") or (request.get("TableInput") or {}).get("Name")
        if call.operation == "GetTables":
            table = "*"
        if table:
            resources.append(f"{base}:table/{database}/{table}")
    return [Need(action, resource) for resource in resources]
