"""Pipelines of SDK v3 @step functions: plain Python, no scripts. Each step is a training job that runs the
SDK's remote-function bootstrap (job_driver.sh, the runtime environment and its dependencies, then
invoke_function), reads its function and arguments from S3 and writes its return value there for the
next step, as on AWS."""

from __future__ import annotations

import pytest
from botocore.exceptions import WaiterError
from support.pipelines import IMAGE, ROLE


def test_three_step_functions_pass_their_return_values_along(session, tmp_path):
    from sagemaker.core.workflow.conditions import ConditionGreaterThan
    from sagemaker.core.workflow.parameters import ParameterInteger
    from sagemaker.mlops.workflow import ConditionStep, FailStep, Pipeline
    from sagemaker.mlops.workflow.function_step import step

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy\n")  # installed already: the dependencies step keeps it
    settings = {"image_uri": IMAGE, "instance_type": "ml.m5.large", "role": ROLE}

    @step(name="Measure", dependencies=str(requirements), **settings)
    def measure(count: int) -> list[float]:
        import numpy

        return [float(x) for x in numpy.arange(count) * 0.5]

    @step(name="Summarise", **settings)
    def summarise(values: list[float]) -> dict:
        return {"count": len(values), "mean": sum(values) / len(values)}

    @step(name="Report", **settings)
    def report(summary: dict, values: list[float]) -> str:
        return f"{summary['count']} shells, mean {summary['mean']:.2f}, largest {max(values)}"

    rows = ParameterInteger("Rows", default_value=3)
    values = measure(rows)
    summary = summarise(values)
    gate = ConditionStep(
        name="Enough",
        conditions=[ConditionGreaterThan(left=summary["mean"], right=0.5)],
        if_steps=[report(summary, values)],
        else_steps=[FailStep(name="TooSmall", error_message="x")],
    )
    pipeline = Pipeline(name="step-functions", parameters=[rows], steps=[gate], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start(parameters={"Rows": 6})
    execution.wait(delay=0.5, max_attempts=600)

    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert {name: s["StepStatus"] for name, s in steps.items()} == {
        "Measure": "Succeeded",
        "Summarise": "Succeeded",
        "Enough": "Succeeded",
        "Report": "Succeeded",
    }
    assert steps["Enough"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert execution.result(step_name="Measure") == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert execution.result(step_name="Summarise") == {"count": 6, "mean": 1.25}
    assert execution.result(step_name="Report") == "6 shells, mean 1.25, largest 2.5"


def test_a_step_function_that_raises_fails_its_step_with_the_error(session):
    from sagemaker.mlops.workflow import Pipeline
    from sagemaker.mlops.workflow.function_step import step

    @step(name="Check", image_uri=IMAGE, instance_type="ml.m5.large", role=ROLE)
    def check(rows: int) -> int:
        if rows < 10:
            raise ValueError(f"only {rows} rows; at least 10 are needed")
        return rows

    pipeline = Pipeline(name="step-function-error", steps=[check(3)], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    with pytest.raises(WaiterError, match='matched expected path: "Failed"'):
        execution.wait(delay=0.5, max_attempts=300)
    failed = execution.list_steps()[0]
    assert failed["StepStatus"] == "Failed"
    assert "only 3 rows; at least 10 are needed" in failed["FailureReason"]
