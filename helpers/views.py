"""Readable tables (pandas DataFrames) of the dicts that boto3's describe and list calls return.

Each function takes a response (or part of one) exactly as boto3 returns it and makes no calls
itself: the notebooks show the call, these only lay out the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd


def _fields(rows: Iterable[tuple[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame([(name, "" if value is None else value) for name, value in rows], columns=["field", "value"])
    return frame.set_index("field")


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 1)


def _name_from_arn(arn: str | None) -> str | None:
    return arn.rsplit("/", 1)[-1] if arn else None


def feature_group(describe: Mapping[str, Any]) -> pd.DataFrame:
    """One feature group (DescribeFeatureGroup): status, identifier, stores and Glue table."""
    online = describe.get("OnlineStoreConfig", {})
    offline = describe.get("OfflineStoreConfig", {})
    catalog = offline.get("DataCatalogConfig", {})
    offline_status = describe.get("OfflineStoreStatus", {})
    return _fields(
        [
            ("name", describe.get("FeatureGroupName")),
            ("status", describe.get("FeatureGroupStatus")),
            ("record identifier", describe.get("RecordIdentifierFeatureName")),
            ("event time", describe.get("EventTimeFeatureName")),
            ("features", len(describe.get("FeatureDefinitions", []))),
            ("online store", "enabled" if online.get("EnableOnlineStore") else "disabled"),
            ("offline store", offline_status.get("Status", "disabled" if not offline else "")),
            ("offline data", offline.get("S3StorageConfig", {}).get("ResolvedOutputS3Uri")),
            ("Glue table", f"{catalog['Database']}.{catalog['TableName']}" if catalog else None),
            ("role", describe.get("RoleArn")),
            ("created", describe.get("CreationTime")),
            ("failure reason", describe.get("FailureReason")),
        ]
    )


def feature_definitions(describe: Mapping[str, Any]) -> pd.DataFrame:
    """The features of a feature group in definition order, marking identifier and event time."""
    roles = {
        describe.get("RecordIdentifierFeatureName"): "record identifier",
        describe.get("EventTimeFeatureName"): "event time",
    }
    return pd.DataFrame(
        [
            {"feature": d["FeatureName"], "type": d["FeatureType"], "role": roles.get(d["FeatureName"], "")}
            for d in describe.get("FeatureDefinitions", [])
        ]
    )


def processing_job(describe: Mapping[str, Any]) -> pd.DataFrame:
    """One processing job (DescribeProcessingJob): status, image, instances, command, timing."""
    cluster = describe.get("ProcessingResources", {}).get("ClusterConfig", {})
    app = describe.get("AppSpecification", {})
    return _fields(
        [
            ("name", describe.get("ProcessingJobName")),
            ("status", describe.get("ProcessingJobStatus")),
            ("image", app.get("ImageUri")),
            ("instances", f"{cluster.get('InstanceCount')} x {cluster.get('InstanceType')}"),
            ("entrypoint", " ".join(app.get("ContainerEntrypoint", []))),
            ("arguments", " ".join(str(a) for a in app.get("ContainerArguments", []))),
            ("role", describe.get("RoleArn")),
            ("seconds", _seconds(describe.get("ProcessingStartTime"), describe.get("ProcessingEndTime"))),
            ("exit message", describe.get("ExitMessage")),
            ("failure reason", describe.get("FailureReason")),
        ]
    )


def processing_channels(describe: Mapping[str, Any]) -> pd.DataFrame:
    """Where a processing job's inputs came from and its outputs went: S3 URI <-> container path."""
    rows = []
    for item in describe.get("ProcessingInputs", []):
        s3 = item.get("S3Input", {})
        rows.append(
            {
                "direction": "input",
                "name": item.get("InputName"),
                "container path": s3.get("LocalPath"),
                "s3 uri": s3.get("S3Uri"),
            }
        )
    for item in describe.get("ProcessingOutputConfig", {}).get("Outputs", []):
        s3 = item.get("S3Output", {})
        rows.append(
            {
                "direction": "output",
                "name": item.get("OutputName"),
                "container path": s3.get("LocalPath"),
                "s3 uri": s3.get("S3Uri"),
            }
        )
    return pd.DataFrame(rows, columns=["direction", "name", "container path", "s3 uri"])


def metrics(evaluation: Mapping[str, Any]) -> pd.DataFrame:
    """An evaluation.json in the Model Registry's format as metric / value / standard deviation."""
    groups = [v for v in evaluation.values() if isinstance(v, Mapping)]
    rows = [
        {"metric": name, "value": entry.get("value"), "standard deviation": entry.get("standard_deviation")}
        for group in groups
        for name, entry in group.items()
    ]
    return pd.DataFrame(rows, columns=["metric", "value", "standard deviation"]).set_index("metric")


def model_versions(
    packages: Iterable[Mapping[str, Any]], evaluations: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """Model package versions (list or describe responses), newest first, with their metrics.

    evaluations: model package ARN -> its evaluation.json, when the notebook has read them.
    """
    rows = []
    for package in packages:
        row = {
            "version": package.get("ModelPackageVersion"),
            "approval": package.get("ModelApprovalStatus"),
            "status": package.get("ModelPackageStatus"),
            "created": package.get("CreationTime"),
            "description": package.get("ModelPackageDescription", ""),
        }
        evaluation = (evaluations or {}).get(package.get("ModelPackageArn"))
        if evaluation:
            row.update(metrics(evaluation)["value"].round(4).to_dict())
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.sort_values("version", ascending=False).set_index("version")


def executions(summaries: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Pipeline executions (ListPipelineExecutions summaries), newest first."""
    rows = [
        {
            "execution": _name_from_arn(s.get("PipelineExecutionArn")),
            "status": s.get("PipelineExecutionStatus"),
            "started": s.get("StartTime"),
            "display name": s.get("PipelineExecutionDisplayName", ""),
            "failure reason": s.get("PipelineExecutionFailureReason", ""),
        }
        for s in summaries
    ]
    frame = pd.DataFrame(rows, columns=["execution", "status", "started", "display name", "failure reason"])
    return frame.sort_values("started", ascending=False).reset_index(drop=True)


def _step_job(metadata: Mapping[str, Any]) -> str:
    for kind in ("ProcessingJob", "TrainingJob", "TransformJob", "TuningJob", "RegisterModel", "Model"):
        arn = metadata.get(kind, {}).get("Arn")
        if arn:
            return _name_from_arn(arn) if kind != "RegisterModel" else arn.split("/", 1)[-1]
    if "Condition" in metadata:
        return f"outcome: {metadata['Condition'].get('Outcome')}"
    if "Fail" in metadata:
        return f"fail: {metadata['Fail'].get('ErrorMessage', '')}"
    return ""


def execution_steps(steps: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The steps of one execution (ListPipelineExecutionSteps) in the order they started."""
    rows = [
        {
            "step": s.get("StepName"),
            "status": s.get("StepStatus"),
            "started": s.get("StartTime"),
            "seconds": _seconds(s.get("StartTime"), s.get("EndTime")),
            "job / outcome": _step_job(s.get("Metadata", {})),
            "failure reason": s.get("FailureReason", ""),
        }
        for s in steps
    ]
    frame = pd.DataFrame(rows, columns=["step", "status", "started", "seconds", "job / outcome", "failure reason"])
    return frame.sort_values("started", kind="stable").reset_index(drop=True)


def parameters(response: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Pipeline parameters: a ListPipelineParametersForExecution response (name, value) or a
    definition's list (name, type, default value)."""
    items = list(response.get("PipelineParameters", []) if isinstance(response, Mapping) else response)
    rows = [
        {"parameter": p["Name"], "value": p.get("Value", p.get("DefaultValue")), "type": p.get("Type")} for p in items
    ]
    frame = pd.DataFrame(rows, columns=["parameter", "value", "type"]).set_index("parameter")
    return frame if frame["type"].notna().any() else frame.drop(columns="type")
