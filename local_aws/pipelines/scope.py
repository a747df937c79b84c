"""What the expressions of a running execution read (an expressions.Scope): its parameters and variables,
the results of its steps, and JSON documents in S3 (property files, Std:JsonGet), read as the pipeline's
role, as the service reads them: a role that may not read the object fails the step with S3's AccessDenied.
"""

from __future__ import annotations

import json
from typing import Any

from local_aws.core import gateway
from local_aws.core.gateway.clients import parse_s3_uri
from local_aws.core.gateway.errors import AwsError
from local_aws.core.service import now
from local_aws.pipelines.execution import Execution
from local_aws.pipelines.expressions import EvaluationError, Scope, iso_time, lookup
from local_aws.pipelines.models import STORE


def scope_of(execution: Execution, job_variables: dict[str, str] | None = None) -> Scope:
    """The execution's scope; `job_variables` add what a job step's own arguments may name (its job's name)."""
    variables: dict[str, Any] = {
        "PipelineName": execution.pipeline_name,
        "PipelineArn": execution.pipeline_arn,
        "PipelineExecutionId": execution.execution_id,
        "PipelineExecutionArn": execution.arn,
        "StartDateTime": iso_time(execution.created),
        "CurrentDateTime": lambda: iso_time(now()),
    }
    variables.update(job_variables or {})
    return Scope(
        parameters=execution.parameters,
        variables=variables,
        experiment=execution.experiment,
        step_properties=lambda name: _step_properties(execution, name),
        read_property_file=lambda step, name: _read_property_file(execution, step, name),
        read_s3_json=lambda uri: _read_s3_json(execution, uri),
    )


def _step_properties(execution: Execution, name: str) -> Any:
    with STORE.lock:
        record = execution.steps.get(name)
    if record is None or record.status != "Succeeded":
        raise EvaluationError(f"Step '{name}' has not succeeded in this execution, so its properties are undefined.")
    return record.properties


def _read_property_file(execution: Execution, step_name: str, file_name: str) -> Any:
    spec = execution.definition.steps[step_name].property_files[file_name]
    outputs = lookup(
        _step_properties(execution, step_name), ["ProcessingOutputConfig", "Outputs"], f"Steps.{step_name}"
    )
    output = next((o for o in outputs if o.get("OutputName") == spec["OutputName"]), None)
    if output is None:
        raise EvaluationError(
            f"Step '{step_name}' has no output '{spec['OutputName']}' for property file '{file_name}'."
        )
    uri = output["S3Output"]["S3Uri"].rstrip("/") + "/" + spec["FilePath"].lstrip("/")
    return _read_s3_json(execution, uri, f"property file '{file_name}' of step '{step_name}'")


def _read_s3_json(execution: Execution, uri: str, what: str = "Std:JsonGet") -> Any:
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise EvaluationError(f"{what}: {exc}") from None
    try:
        data = gateway.call("s3", "GetObject", {"Bucket": bucket, "Key": key}, execution.as_role)["Body"]
    except AwsError as error:
        if error.code not in ("NoSuchKey", "NoSuchBucket"):
            raise  # the role may not read it: the step fails with S3's AccessDenied
        raise EvaluationError(f"{what}: {uri} does not exist ({error.code}).") from None
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EvaluationError(f"{what}: the contents of {uri} are not valid JSON.") from None
