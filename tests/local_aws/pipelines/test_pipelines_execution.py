"""Pipeline executions whose steps run real processing and training jobs (local_aws.jobs), via boto3.

Scripts are tiny `python3 -c` programs, or scripts in S3 where they are longer than the 256 characters
an entrypoint argument may hold (those find /opt/ml from their own path, as local_aws rewrites /opt/ml
paths only in the entrypoint, arguments and environment); the definitions are written by hand as the
SDK would emit them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

from support import error_of, wait_until
from support.iam import reset_with_test_roles
from support.jobs import job_log
from support.pipelines import (
    BUCKET,
    condition,
    create,
    definition,
    fail,
    processing,
    register,
    start,
    steps_of,
    training,
    wait,
    wait_for_step,
)

from local_aws.pipelines.executor import retry_delay

PREPARE = """
    import json, pathlib, sys
    rows = int(sys.argv[sys.argv.index("--rows") + 1])
    processing = pathlib.Path(__file__).parents[1]  # /opt/ml/processing, wherever the job runs
    (processing / "train" / "data.csv").write_text("\\n".join(str(i) for i in range(rows)))
    (processing / "evaluation" / "evaluation.json").write_text(
        json.dumps({"regression_metrics": {"mse": {"value": 1.0 / rows}}, "rows": [rows]}))
"""
RUN_PREPARE = "import runpy; runpy.run_path('/opt/ml/processing/code/prepare.py')"
TRAIN = """
    import json, os, pathlib
    rows = len(pathlib.Path(os.environ["SM_CHANNEL_TRAIN"], "data.csv").read_text().split())
    hp = json.loads(os.environ["SM_HPS"])
    pathlib.Path(os.environ["SM_MODEL_DIR"], "model.json").write_text(json.dumps({"rows": rows, "alpha": hp["alpha"]}))
"""


def test_processing_training_condition_register_chain(clients):
    """Data references order the steps; properties, Std:Join, JsonGet over a PropertyFile all resolve."""
    s3, sm = clients
    sm.create_model_package_group(ModelPackageGroupName="models")
    s3.put_object(Bucket=BUCKET, Key="code/train.py", Body=textwrap.dedent(TRAIN).encode())
    s3.put_object(Bucket=BUCKET, Key="code/prepare.py", Body=textwrap.dedent(PREPARE).encode())
    prefix = {"Std:Join": {"On": "/", "Values": ["s3:/", BUCKET, "runs", {"Get": "Execution.PipelineExecutionId"}]}}
    prepare = processing(
        "Prepare",
        RUN_PREPARE,
        args=["--rows", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Rows"}]}}],
        inputs=[("code", f"s3://{BUCKET}/code/")],
        outputs=[
            ("train", {"Std:Join": {"On": "/", "Values": [prefix, "train"]}}),
            ("evaluation", {"Std:Join": {"On": "/", "Values": [prefix, "evaluation"]}}),
        ],
        PropertyFiles=[{"PropertyFileName": "Evaluation", "OutputName": "evaluation", "FilePath": "evaluation.json"}],
    )
    train = training(
        "Train",
        f"s3://{BUCKET}/code/",
        {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
        f"s3://{BUCKET}/models",
    )
    model = register("Register")
    model["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] = {
        "Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    }
    evaluation = {"Get": "Steps.Prepare.PropertyFiles.Evaluation"}
    mse = {"Std:JsonGet": {"PropertyFile": evaluation, "Path": "regression_metrics.mse.value"}}
    gate = condition(
        "Good",
        [
            {"Type": "LessThanOrEqualTo", "LeftValue": mse, "RightValue": {"Get": "Parameters.MaxMse"}},
            {
                "Type": "Equals",
                "LeftValue": {"Std:JsonGet": {"PropertyFile": evaluation, "Path": "rows[0]"}},
                "RightValue": {"Get": "Parameters.Rows"},
            },
        ],
        if_steps=[model],
        else_steps=[fail("TooHigh", {"Std:Join": {"On": " ", "Values": ["mse", mse]}})],
        DependsOn=["Train"],
    )
    create(
        sm,
        "chain",
        definition(
            [gate, train, prepare],
            [
                {"Name": "Rows", "Type": "Integer", "DefaultValue": 4},
                {"Name": "MaxMse", "Type": "Float", "DefaultValue": 0.5},
            ],
        ),
    )

    arn = start(sm, "chain")
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    described = wait(sm, arn, timeout=60)
    steps = steps_of(sm, arn)
    assert described["PipelineExecutionStatus"] == "Succeeded", json.dumps(steps, default=str, indent=1)
    listed = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [step["StepName"] for step in listed] == ["Register", "Good", "Train", "Prepare"]
    execution_id = arn.rsplit("/", 1)[1]
    job_arn = steps["Prepare"]["Metadata"]["ProcessingJob"]["Arn"]
    job_name = job_arn.rsplit("/", 1)[1]
    assert job_name.startswith(f"pipelines-{execution_id}-prepare-")
    job = sm.describe_processing_job(
        ProcessingJobName=next(j["ProcessingJobName"] for j in sm.list_processing_jobs()["ProcessingJobSummaries"])
    )
    assert job["AppSpecification"]["ContainerArguments"] == ["--rows", "4"]
    run_prefix = f"s3://{BUCKET}/runs/{execution_id}"
    assert job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"{run_prefix}/train"
    training_arn = steps["Train"]["Metadata"]["TrainingJob"]["Arn"]
    trained = sm.describe_training_job(
        TrainingJobName=sm.list_training_jobs()["TrainingJobSummaries"][0]["TrainingJobName"]
    )
    assert trained["TrainingJobArn"] == training_arn
    assert trained["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] == f"{run_prefix}/train"
    assert steps["Good"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    package = sm.describe_model_package(ModelPackageName=steps["Register"]["Metadata"]["RegisterModel"]["Arn"])
    assert (
        package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        == trained["ModelArtifacts"]["S3ModelArtifacts"]
    )

    low = start(sm, "chain", [{"Name": "Rows", "Value": "1"}])  # mse 1.0 > 0.5: the else branch fails
    described = wait(sm, low, timeout=60)
    steps = steps_of(sm, low)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert set(steps) == {"Prepare", "Train", "Good", "TooHigh"}
    assert steps["TooHigh"]["FailureReason"] == "mse 1.0"


def test_independent_steps_run_concurrently_within_the_parallelism_limit(clients):
    s3, sm = clients
    sleeper = "import time; time.sleep(1.5)"
    create(sm, "parallel", definition([processing("A", sleeper), processing("B", sleeper)]))
    arn = start(sm, "parallel")
    started = time.monotonic()
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    elapsed = time.monotonic() - started
    steps = steps_of(sm, arn)
    assert steps["A"]["StartTime"] < steps["B"]["EndTime"] and steps["B"]["StartTime"] < steps["A"]["EndTime"]
    assert elapsed < 2.9, f"two 1.5 s steps took {elapsed:.1f} s: they did not overlap"

    serial = sm.start_pipeline_execution(
        PipelineName="parallel", ParallelismConfiguration={"MaxParallelExecutionSteps": 1}
    )
    assert wait(sm, serial["PipelineExecutionArn"])["PipelineExecutionStatus"] == "Succeeded"
    first, second = sorted(steps_of(sm, serial["PipelineExecutionArn"]).values(), key=lambda s: s["StartTime"])
    assert first["EndTime"] <= second["StartTime"]


def test_failing_job_fails_the_execution_and_is_not_retried_for_an_algorithm_error(clients):
    s3, sm = clients
    crash = processing(
        "Crash",
        "import sys; print('bad input'); sys.exit(3)",
        RetryPolicies=[
            {
                "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR"],
                "IntervalSeconds": 1,
                "BackoffRate": 2.0,
                "MaxAttempts": 3,
            }
        ],
    )
    create(sm, "crash", definition([crash, processing("After", "print(1)", DependsOn=["Crash"])]))
    arn = start(sm, "crash")
    described = wait(sm, arn)
    steps = steps_of(sm, arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "Step failure: One or multiple steps failed."
    assert list(steps) == ["Crash"]
    assert steps["Crash"]["AttemptCount"] == 1
    reason = steps["Crash"]["FailureReason"]
    assert reason.startswith("AlgorithmError:") and "ExitCode 3" in reason
    job_name = steps["Crash"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    assert sm.describe_processing_job(ProcessingJobName=job_name)["ProcessingJobStatus"] == "Failed"


def test_retry_policy_arithmetic():
    """Which failures a policy retries, how often and after how long (IntervalSeconds * BackoffRate^n)."""
    policies = [
        {"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"], "IntervalSeconds": 2, "BackoffRate": 3.0, "MaxAttempts": 2},
        {"ExceptionType": ["Step.SERVICE_FAULT"], "IntervalSeconds": 1, "BackoffRate": 2.0, "ExpireAfterMin": 0},
    ]
    used: dict[int, int] = {}
    now = time.monotonic()
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", used, now) == 2.0
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", used, now) == 6.0
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", used, now) is None  # MaxAttempts spent
    assert retry_delay(policies, "Step.SERVICE_FAULT", used, now) is None  # expired at once
    assert retry_delay(policies, "SageMaker.CAPACITY_ERROR", used, now) is None  # no policy names it


def test_stop_stops_the_running_job_and_nothing_after_it(clients):
    s3, sm = clients
    create(
        sm,
        "stoppable",
        definition(
            [processing("Long", "import time; time.sleep(60)"), processing("Next", "print(1)", DependsOn=["Long"])]
        ),
    )
    arn = start(sm, "stoppable")
    running = wait_for_step(sm, arn, "Long", "Executing")
    assert sm.stop_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
    assert status in ("Stopping", "Stopped")
    described = wait(sm, arn)
    assert described["PipelineExecutionStatus"] == "Stopped"
    steps = steps_of(sm, arn)
    assert list(steps) == ["Long"] and steps["Long"]["StepStatus"] == "Stopped"
    job_name = running["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    assert sm.describe_processing_job(ProcessingJobName=job_name)["ProcessingJobStatus"] == "Stopped"
    # A selective execution's source must have Succeeded or Failed (AWS's SelectiveExecutionConfig rule).
    assert error_of(
        lambda: sm.start_pipeline_execution(
            PipelineName="stoppable",
            SelectiveExecutionConfig={"SourcePipelineExecutionArn": arn, "SelectedSteps": [{"StepName": "Long"}]},
        )
    ) == (
        "ValidationException",
        f"Source pipeline execution '{arn}' is Stopped: the source of a selective execution "
        "must have Succeeded or Failed.",
    )


def logged_lines(logs, job: str) -> list[str]:
    """The processing job's log lines so far (none while its log group is not made yet)."""
    try:
        return job_log(logs, "/aws/sagemaker/ProcessingJobs", job)
    except logs.exceptions.ResourceNotFoundException:
        return []


def test_delete_pipeline_is_refused_while_an_execution_is_executing_or_stopping(aws, clients):
    """AWS deletes a pipeline only once no execution runs (DeletePipeline's ConflictException)."""
    s3, sm = clients
    stubborn = """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        time.sleep(60)
    """
    create(sm, "busy", definition([processing("Long", stubborn)]))
    arn = start(sm, "busy")
    job = wait_for_step(sm, arn, "Long", "Executing")["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    wait_until(
        lambda: logged_lines(aws.client("logs"), job),
        lambda lines: "ignoring SIGTERM" in lines,
        what="the job ignoring SIGTERM",
    )  # a stop: 5 s Stopping
    code, message = error_of(lambda: sm.delete_pipeline(PipelineName="busy"))
    assert code == "ConflictException" and arn in message
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Stopping"
    code, message = error_of(lambda: sm.delete_pipeline(PipelineName="busy"))
    assert code == "ConflictException" and arn in message
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Stopped"
    assert sm.delete_pipeline(PipelineName="busy")["PipelineArn"].endswith(":pipeline/busy")


def test_a_reset_stops_a_running_execution_and_forgets_it(clients, server):
    """A reset ends what runs before it answers: the running step's job is gone, and the step waiting for it never
    starts one."""
    s3, sm = clients
    steps = [processing("Slow", "import time; time.sleep(60)"), processing("After", "print(1)", DependsOn=["Slow"])]
    create(sm, "forgotten", definition(steps))
    arn = start(sm, "forgotten")
    wait_for_step(sm, arn, "Slow", "Executing")
    reset_with_test_roles(server.port)
    assert sm.list_pipelines()["PipelineSummaries"] == []
    assert error_of(lambda: sm.describe_pipeline_execution(PipelineExecutionArn=arn))[0] == "ResourceNotFound"
    assert sm.list_processing_jobs()["ProcessingJobSummaries"] == []


def test_retry_reruns_failed_steps_and_keeps_succeeded_ones(clients):
    s3, sm = clients
    s3.put_object(Bucket=BUCKET, Key="flags/data.txt", Body=b"x")
    check = """
        import os, sys
        sys.exit(0 if os.path.exists("/opt/ml/processing/flags/ok") else 4)
    """
    create(
        sm,
        "retry",
        definition(
            [
                processing("First", "print('first')"),
                processing("Check", check, inputs=[("flags", f"s3://{BUCKET}/flags/")], DependsOn=["First"]),
                processing("Last", "print('last')", DependsOn=["Check"]),
            ]
        ),
    )
    arn = start(sm, "retry")
    assert wait(sm, arn)["PipelineExecutionStatus"] == "Failed"
    before = steps_of(sm, arn)
    assert before["Check"]["StepStatus"] == "Failed" and "Last" not in before

    s3.put_object(Bucket=BUCKET, Key="flags/ok", Body=b"")
    assert sm.retry_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
    described = wait(sm, arn)
    after = steps_of(sm, arn)
    assert described["PipelineExecutionStatus"] == "Succeeded" and "FailureReason" not in described
    assert after["First"] == before["First"]  # kept, not rerun
    assert after["Check"]["StepStatus"] == "Succeeded" and after["Check"]["AttemptCount"] == 2
    assert after["Check"]["Metadata"] != before["Check"]["Metadata"]  # a new job
    assert after["Last"]["StepStatus"] == "Succeeded"
    assert len(sm.list_processing_jobs(MaxResults=100)["ProcessingJobSummaries"]) == 4
    code, message = error_of(lambda: sm.retry_pipeline_execution(PipelineExecutionArn=arn))
    assert code == "ConflictException" and "Succeeded" in message


def test_cache_hits_reuse_earlier_results(clients):
    s3, sm = clients
    cached = processing(
        "Cached",
        "print('work')",
        args=[{"Get": "Parameters.Mode"}],
        outputs=[("out", f"s3://{BUCKET}/cached")],
        CacheConfig={"Enabled": True, "ExpireAfter": "PT1H"},
    )
    brief = processing("Brief", "print('brief')", CacheConfig={"Enabled": True, "ExpireAfter": "PT2S"})
    create(
        sm,
        "cache",
        definition(
            [cached, brief, processing("Uncached", "print(1)")],
            [{"Name": "Mode", "Type": "String", "DefaultValue": "a"}],
        ),
    )
    first = start(sm, "cache")
    assert wait(sm, first)["PipelineExecutionStatus"] == "Succeeded"
    second = start(sm, "cache")
    assert wait(sm, second)["PipelineExecutionStatus"] == "Succeeded"
    one, two = steps_of(sm, first), steps_of(sm, second)
    assert "CacheHitResult" not in one["Cached"]
    assert two["Cached"]["CacheHitResult"] == {"SourcePipelineExecutionArn": first}
    assert two["Cached"]["Metadata"] == one["Cached"]["Metadata"] and two["Cached"]["StepStatus"] == "Succeeded"
    assert two["Brief"]["CacheHitResult"] == {"SourcePipelineExecutionArn": first}
    assert "CacheHitResult" not in two["Uncached"]
    assert len(sm.list_processing_jobs(MaxResults=100)["ProcessingJobSummaries"]) == 4  # the cache hits ran no job

    time.sleep(2.1)  # Brief's cached result expires (PT2S)
    third = start(sm, "cache", [{"Name": "Mode", "Value": "b"}])  # other arguments: a miss
    assert wait(sm, third)["PipelineExecutionStatus"] == "Succeeded"
    three = steps_of(sm, third)
    assert "CacheHitResult" not in three["Cached"] and "CacheHitResult" not in three["Brief"]


def test_an_execution_is_visible_from_another_process(clients, server):
    s3, sm = clients
    create(sm, "shared", definition([processing("Only", "print('hi')")]))
    arn = start(sm, "shared")
    wait(sm, arn)
    probe = textwrap.dedent(f"""
        import boto3, json
        sm = boto3.Session(region_name="us-east-1").client("sagemaker")
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn="{arn}")["PipelineExecutionSteps"]
        print(json.dumps([sm.describe_pipeline_execution(PipelineExecutionArn="{arn}")["PipelineExecutionStatus"],
                          [s["StepName"] for s in steps]]))
    """)
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=server.env | server.client_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert json.loads(out) == ["Succeeded", ["Only"]]


def test_selective_execution_runs_the_selected_steps_on_the_source_results(clients):
    s3, sm = clients
    first = processing("First", "print('first')", outputs=[("out", f"s3://{BUCKET}/first")])
    second = processing(
        "Second", "print('second')", args=[{"Get": "Steps.First.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}]
    )
    third = processing("Third", "print('third')", DependsOn=["Second"])
    create(sm, "selective", definition([first, second, third]))
    source = start(sm, "selective")
    assert wait(sm, source)["PipelineExecutionStatus"] == "Succeeded"
    config = {"SourcePipelineExecutionArn": source, "SelectedSteps": [{"StepName": "Second"}]}
    arn = sm.start_pipeline_execution(PipelineName="selective", SelectiveExecutionConfig=config)["PipelineExecutionArn"]
    described = wait(sm, arn)
    assert described["PipelineExecutionStatus"] == "Succeeded" and described["SelectiveExecutionConfig"] == config
    steps, earlier = steps_of(sm, arn), steps_of(sm, source)
    assert set(steps) == {"First", "Second"}  # Third is not selected: it does not run
    assert steps["First"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": source}
    assert steps["First"]["Metadata"] == earlier["First"]["Metadata"]
    assert steps["Second"]["Metadata"] != earlier["Second"]["Metadata"]
    assert "SelectiveExecutionResult" not in steps["Second"]
    job = steps["Second"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    assert sm.describe_processing_job(ProcessingJobName=job)["AppSpecification"]["ContainerArguments"] == [
        f"s3://{BUCKET}/first"
    ]

    code, message = error_of(
        lambda: sm.start_pipeline_execution(
            PipelineName="selective", SelectiveExecutionConfig={"SelectedSteps": [{"StepName": "Second"}]}
        )
    )
    assert code == "ValidationException" and "Invalid SourcePipelineExecutionArn: null" in message
