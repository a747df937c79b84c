"""Pipelines on local_aws: what a step costs over running its script directly, and step concurrency.

Starts its own local_aws on a free port (own LOCAL_AWS_HOME), then measures side by side:
  1. a pipeline of three trivial processing steps in a chain, against the same three scripts run
     directly in sequence with the same Python: overhead per step (goal: under 0.5 s);
  2. a pipeline of two independent 3-second processing steps: execution wall time (goal: under
     4.5 s, i.e. they overlap), against the 6 s they take one after the other.

    .venv/bin/python bench/pipeline_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import local_aws  # noqa: E402

ROLE_NAME = "BenchRole"
ROLE = f"arn:aws:iam::123456789012:role/{ROLE_NAME}"
SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TRIVIAL = [f"print('step {i}')" for i in (1, 2, 3)]
SLEEP_SECONDS = 3.0


def processing_step(name: str, code: str, depends_on: list[str]) -> dict:
    step = {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}
            },
            "AppSpecification": {"ImageUri": IMAGE, "ContainerEntrypoint": ["python3", "-c", code]},
            "RoleArn": ROLE,
        },
    }
    if depends_on:
        step["DependsOn"] = depends_on
    return step


def create_role(iam) -> None:
    """The pipeline's role, as a user makes one: SageMaker may assume it, and it may do what its steps do."""
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST))
    iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def create(sm, name: str, steps: list[dict]) -> None:
    sm.create_pipeline(
        PipelineName=name,
        RoleArn=ROLE,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": steps}),
    )


def run_execution(sm, name: str) -> float:
    """Wall seconds from StartPipelineExecution to a Succeeded status (polled every 10 ms)."""
    started = time.perf_counter()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    while True:
        status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        if status != "Executing":
            elapsed = time.perf_counter() - started
            if status != "Succeeded":
                raise RuntimeError(
                    f"{name} ended {status}: {sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)}"
                )
            return elapsed
        time.sleep(0.01)


def run_directly(codes: list[str]) -> float:
    started = time.perf_counter()
    for code in codes:
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each measurement (median reported)")
    args = parser.parse_args()
    with local_aws.temporary_server():
        session = boto3.Session(region_name="us-east-1")
        create_role(session.client("iam"))
        sm = session.client("sagemaker")
        create(
            sm,
            "chain",
            [
                processing_step(f"Step{i}", code, [f"Step{i - 1}"] if i > 1 else [])
                for i, code in enumerate(TRIVIAL, start=1)
            ],
        )
        sleeper = f"import time; time.sleep({SLEEP_SECONDS})"
        create(sm, "parallel", [processing_step("SleepA", sleeper, []), processing_step("SleepB", sleeper, [])])
        run_execution(sm, "chain")  # warm up: imports, moto backends

        direct = statistics.median(run_directly(TRIVIAL) for _ in range(args.runs))
        chain = statistics.median(run_execution(sm, "chain") for _ in range(args.runs))
        sequential = statistics.median(run_directly([sleeper, sleeper]) for _ in range(args.runs))
        parallel = statistics.median(run_execution(sm, "parallel") for _ in range(args.runs))

    per_step = (chain - direct) / len(TRIVIAL)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, median of {args.runs} runs")
    print(f"{'measurement':58} {'seconds':>8}")
    print(f"{'3 trivial scripts run directly, in sequence':58} {direct:8.2f}")
    print(f"{'pipeline of the same 3 scripts as chained Processing steps':58} {chain:8.2f}")
    print(f"{'  overhead per step (goal < 0.5)':58} {per_step:8.2f}   ratio {chain / direct:.1f}x")
    print(f"{'2 x 3-second scripts run directly, in sequence':58} {sequential:8.2f}")
    print(
        f"{'pipeline of 2 independent 3-second steps (goal < 4.5)':58} {parallel:8.2f}   "
        f"ratio {parallel / sequential:.2f}x"
    )
    return 0 if per_step < 0.5 and parallel < 4.5 else 1


if __name__ == "__main__":
    sys.exit(main())
