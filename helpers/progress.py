"""Progress while SageMaker works: a job's log lines as CloudWatch Logs receives them, its status changes
with the time elapsed, and pipeline executions step by step. Ctrl-C (Kernel > Interrupt) stops the
work the wait was for, so nothing keeps running (and costing) unseen.

    job = progress.follow_job(setup, "processing", job_name)      # returns DescribeProcessingJob's answer
    job = progress.follow_job(setup, "training", training_job_name)
    statuses, steps = progress.follow_executions(setup, {pipeline.name: execution.arn})

A job's log opens with its container's set-up (the SDK's runproc.sh lists the code directory; the
ModelTrainer's driver prints its environment and command): the script's own lines come first here, and
one line counts the set-up lines left out and names the log stream that holds them all.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from helpers.session import Setup

KINDS = ("processing", "training")  # the API names each kind's calls, members and log group alike
ENDED = ("Completed", "Failed", "Stopped")
# The SDK's runproc.sh (FrameworkProcessor): "Files in ... before extraction:", then `ls -la` twice.
_LISTING = re.compile(r"^(Files (in|after) .*:|total \d+|[-dlcbps][-rwxsStT]{9}[.+@]?\s.*)$")
# The ModelTrainer's driver logs the command it runs; before it, its set-up; `+ ...` lines are its shell's trace.
_COMMAND = "Executing command: "
# The training toolkit of the framework images (estimators, tuning jobs) announces the script it runs.
_TOOLKIT_COMMAND = "Invoking script with the following command:"


@dataclass
class _Stream:
    """One log stream read so far: where to go on, and whether the script's own lines have begun."""

    name: str
    token: str | None = None
    script_started: bool = False
    set_up: list[str] = field(default_factory=list)


def _set_up_line(kind: str, stream: _Stream, message: str) -> bool:
    """Whether `message` belongs to the container's set-up (it is then held back), not to the script."""
    if kind == "processing":
        return not stream.script_started and bool(_LISTING.match(message))
    return not stream.script_started or message.startswith("+")


class _LogTail:
    """New lines of a job's log streams, each call reading on from where the last one stopped."""

    def __init__(self, setup: Setup, kind: str, job_name: str):
        self.logs = setup.boto_session.client("logs")
        self.kind, self.group, self.prefix = kind, f"/aws/sagemaker/{kind.title()}Jobs", f"{job_name}/"
        self.streams: dict[str, _Stream] = {}

    def read(self) -> list[str]:
        try:
            for found in self.logs.describe_log_streams(logGroupName=self.group, logStreamNamePrefix=self.prefix)[
                "logStreams"
            ]:
                self.streams.setdefault(found["logStreamName"], _Stream(found["logStreamName"]))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceNotFoundException":  # no log yet
                raise
        lines = []
        for stream in self.streams.values():
            lines += self._read_stream(stream)
        return lines

    def _read_stream(self, stream: _Stream) -> list[str]:
        lines = []
        while True:
            request = {"logGroupName": self.group, "logStreamName": stream.name, "startFromHead": True}
            if stream.token:
                request["nextToken"] = stream.token
            answer = self.logs.get_log_events(**request)
            for event in answer["events"]:
                lines += self._show(stream, event["message"])
            if answer.get("nextForwardToken") in (None, stream.token):
                return lines
            stream.token = answer["nextForwardToken"]
            if not answer["events"]:
                return lines

    def _show(self, stream: _Stream, message: str) -> list[str]:
        if self.kind == "training" and not stream.script_started and _COMMAND in message:
            stream.script_started = True
            stream.set_up.append(message)
            program, _, arguments = message.split(_COMMAND, 1)[1].partition(" ")
            return [f"$ {os.path.basename(program)} {arguments}"]  # the interpreter without its directory
        if self.kind == "training" and message.startswith(_TOOLKIT_COMMAND):
            stream.script_started = True
        if _set_up_line(self.kind, stream, message):
            stream.set_up.append(message)
            return []
        stream.script_started = True
        return [message]

    def held_back(self) -> list[str]:
        """After the end: one line per stream on the set-up lines left out (or them all, if the script never
        started: then they are what there is to see)."""
        lines = []
        for stream in self.streams.values():
            if not stream.script_started:
                lines += stream.set_up
            elif stream.set_up:
                lines.append(
                    f"({len(stream.set_up)} lines of container set-up not shown: all of them are in "
                    f"CloudWatch Logs, log group {self.group}, stream {stream.name})"
                )
        return lines


def follow_job(
    setup: Setup, kind: str, job_name: str, poll_seconds: int | None = None, timeout_seconds: int = 3600
) -> dict:
    """Wait for a processing or training job (`kind`) to end, printing its log lines as they arrive and its
    status changes with the seconds elapsed; its Describe answer at the end. Ctrl-C stops the job."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {KINDS}")
    describe, stop = f"describe_{kind}_job", f"stop_{kind}_job"
    name_member, status_member = f"{kind.title()}JobName", f"{kind.title()}JobStatus"
    sagemaker_client = setup.boto_session.client("sagemaker")
    poll_seconds = poll_seconds or setup.poll_seconds
    tail, started, shown = _LogTail(setup, kind, job_name), time.monotonic(), None
    try:
        while True:
            job = getattr(sagemaker_client, describe)(**{name_member: job_name})
            for line in tail.read():  # read after Describe: an ended job's last lines come before its end
                print(line)
            state = (job[status_member], job.get("SecondaryStatus"))
            if state != shown:
                print(f"{time.monotonic() - started:6.0f} s  {job_name}: {' / '.join(filter(None, state))}")
                shown = state
            if job[status_member] in ENDED:
                break
            if time.monotonic() - started > timeout_seconds:
                print(
                    f"{job_name} is still {job[status_member]} after {timeout_seconds} s: stop waiting "
                    "(the job goes on; run this cell again to wait on)"
                )
                break
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        print(f"Interrupted: stopping {job_name} ({stop}), so it does not run on unseen.")
        getattr(sagemaker_client, stop)(**{name_member: job_name})
        raise
    for line in tail.held_back():
        print(line)
    if job.get("FailureReason"):
        print(f"FailureReason: {job['FailureReason']}")
    return job


def follow_executions(
    setup: Setup, executions: dict[str, str], poll_seconds: int | None = None, timeout_seconds: int = 7200
) -> tuple[dict[str, str], dict[str, list[dict]]]:
    """Wait for pipeline executions ({pipeline name: execution ARN}) to end, printing each step's status
    changes with the seconds elapsed. Returns each pipeline's execution status and its steps (newest first,
    as ListPipelineExecutionSteps lists them). Ctrl-C stops the executions."""
    sagemaker_client = setup.boto_session.client("sagemaker")
    poll_seconds = poll_seconds or setup.poll_seconds
    started, seen, statuses, steps_of = time.monotonic(), {}, {}, {}
    try:
        while executions:
            for name, arn in executions.items():
                statuses[name] = sagemaker_client.describe_pipeline_execution(PipelineExecutionArn=arn)[
                    "PipelineExecutionStatus"
                ]
                steps_of[name] = sagemaker_client.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
                    "PipelineExecutionSteps"
                ]
                for step in reversed(steps_of[name]):  # oldest first
                    if seen.get((name, step["StepName"])) != step["StepStatus"]:
                        seen[(name, step["StepName"])] = step["StepStatus"]
                        print(
                            f"{time.monotonic() - started:6.0f} s  {name:<24} {step['StepName']:<12} "
                            f"{step['StepStatus']}"
                        )
            if all(status not in ("Executing", "Stopping") for status in statuses.values()):
                break
            if time.monotonic() - started > timeout_seconds:
                print(f"still running after {timeout_seconds} s: stop waiting (the executions go on)")
                break
            time.sleep(poll_seconds)
    except KeyboardInterrupt:
        for name, arn in executions.items():
            if statuses.get(name, "Executing") == "Executing":
                print(f"Interrupted: stopping the execution of {name} (StopPipelineExecution).")
                sagemaker_client.stop_pipeline_execution(PipelineExecutionArn=arn)
        raise
    for name, status in statuses.items():
        print(f"{time.monotonic() - started:6.0f} s  {name:<24} execution {status}")
    return statuses, steps_of
