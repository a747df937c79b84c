"""Pipelines survive a restart: pipelines with their versions, executions with their steps, parameters,
cache entries and start tokens; an execution running when the server stopped or died ends Stopped or
Failed (saying why), never Executing, and RetryPipelineExecution then runs it to the end."""

from __future__ import annotations

import signal
import time

import pytest
from support.pipelines import (
    BUCKET,
    ROLE,
    condition,
    create,
    definition,
    fail,
    processing,
    start,
    steps_of,
    wait,
    wait_for_step,
)
from support.restart import OwnServer

TOKEN = "start-token-of-the-first-execution-01"
PARAMETERS = [
    {"Name": "Mode", "Type": "String", "DefaultValue": "a"},
    {"Name": "Rounds", "Type": "Integer", "DefaultValue": 3},
]


def _clients(own_server: OwnServer) -> tuple:
    session = own_server.session()
    return session.client("s3"), session.client("sagemaker")


def _answers(sm, pipeline: str, arn: str) -> dict:
    """Everything the API says about the pipeline and its execution, without the request ids."""
    calls = {
        "pipeline": lambda: sm.describe_pipeline(PipelineName=pipeline),
        "pipelines": lambda: sm.list_pipelines(),
        "versions": lambda: sm.list_pipeline_versions(PipelineName=pipeline),
        "executions": lambda: sm.list_pipeline_executions(PipelineName=pipeline),
        "execution": lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn),
        "steps": lambda: sm.list_pipeline_execution_steps(PipelineExecutionArn=arn),
        "parameters": lambda: sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn),
        "definition": lambda: sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn),
        "tags": lambda: sm.list_tags(ResourceArn=sm.describe_pipeline(PipelineName=pipeline)["PipelineArn"]),
    }
    answers = {}
    for name, call in calls.items():
        answers[name] = call()
        answers[name].pop("ResponseMetadata")
    return answers


def test_pipelines_and_executions_survive_a_clean_stop(own_server: OwnServer):
    s3, sm = _clients(own_server)
    s3.create_bucket(Bucket=BUCKET)
    prepare = processing(
        "Prepare",
        "print('prepare')",
        args=[{"Get": "Parameters.Mode"}],
        outputs=[("out", f"s3://{BUCKET}/prepare")],
        CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"},
    )
    check = condition(
        "Check",
        [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"}, "RightValue": "a"}],
        else_steps=[fail("NotA", "the mode is not a")],
        DependsOn=["Prepare"],
    )
    text = definition([prepare, check], PARAMETERS)
    create(sm, "durable", text, Tags=[{"Key": "team", "Value": "ml"}])
    sm.update_pipeline(PipelineName="durable", PipelineDefinition=text, PipelineDescription="second version")
    first = sm.start_pipeline_execution(
        PipelineName="durable", ClientRequestToken=TOKEN, PipelineParameters=[{"Name": "Rounds", "Value": "5"}]
    )["PipelineExecutionArn"]
    assert wait(sm, first)["PipelineExecutionStatus"] == "Succeeded"
    before = _answers(sm, "durable", first)
    assert [v["PipelineVersionId"] for v in before["versions"]["PipelineVersionSummaries"]] == [2, 1]
    assert before["parameters"]["PipelineParameters"] == [
        {"Name": "Mode", "Value": "a"},
        {"Name": "Rounds", "Value": "5"},
    ]

    own_server.stop()
    s3, sm = _clients(own_server.start())

    assert _answers(sm, "durable", first) == before
    assert (
        sm.start_pipeline_execution(
            PipelineName="durable", ClientRequestToken=TOKEN, PipelineParameters=[{"Name": "Rounds", "Value": "5"}]
        )["PipelineExecutionArn"]
        == first
    )
    second = start(sm, "durable")  # Prepare has the same arguments: the run before the restart is reused
    assert wait(sm, second)["PipelineExecutionStatus"] == "Succeeded"
    assert steps_of(sm, second)["Prepare"]["CacheHitResult"] == {"SourcePipelineExecutionArn": first}
    selective = sm.start_pipeline_execution(
        PipelineName="durable",
        SelectiveExecutionConfig={"SourcePipelineExecutionArn": first, "SelectedSteps": [{"StepName": "Check"}]},
    )["PipelineExecutionArn"]
    assert wait(sm, selective)["PipelineExecutionStatus"] == "Succeeded"
    assert steps_of(sm, selective)["Prepare"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": first}


@pytest.mark.parametrize(
    "sig, status", [(signal.SIGKILL, "Failed"), (signal.SIGTERM, "Stopped")], ids=["kill-9", "stop"]
)
def test_an_execution_running_when_the_server_ends_can_be_retried_after_a_restart(
    own_server: OwnServer, sig: int, status: str
):
    s3, sm = _clients(own_server)
    create(
        sm,
        "interrupted",
        definition(
            [
                processing("Prepare", "print('prepare')"),
                processing("Slow", "import time; time.sleep(4)", DependsOn=["Prepare"]),
            ]
        ),
    )
    arn = start(sm, "interrupted")
    running = wait_for_step(sm, arn, "Slow", "Executing")
    time.sleep(1.5)  # saved while the step runs (LOCAL_AWS_SAVE_SECONDS, 1 s)
    own_server.stop(sig)
    s3, sm = _clients(own_server.start())

    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = steps_of(sm, arn)
    assert described["PipelineExecutionStatus"] == status
    assert steps["Prepare"]["StepStatus"] == "Succeeded"
    assert steps["Slow"]["StepStatus"] == status and "EndTime" in steps["Slow"]
    if status == "Failed":
        assert "local_aws stopped while this execution ran" in described["FailureReason"]
        assert "RetryPipelineExecution resumes it" in described["FailureReason"]
        assert "local_aws stopped while this step ran" in steps["Slow"]["FailureReason"]
    summary = sm.list_pipeline_executions(PipelineName="interrupted")["PipelineExecutionSummaries"][0]
    assert summary["PipelineExecutionStatus"] == status

    assert sm.retry_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    assert wait(sm, arn, timeout=60)["PipelineExecutionStatus"] == "Succeeded"
    after = steps_of(sm, arn)
    assert after["Prepare"] == steps["Prepare"]  # kept, not run again
    assert after["Slow"]["StepStatus"] == "Succeeded" and after["Slow"]["AttemptCount"] == 2
    assert after["Slow"]["Metadata"] != running["Metadata"]  # a new job ran it
    assert sm.describe_pipeline(PipelineName="interrupted")["RoleArn"] == ROLE
