"""SageMaker Pipelines: pipelines, their versions, and executions that really run (moto only records them).

service.py      pipeline requests (Create/Update/Describe/List/Delete Pipeline, ListPipelineVersions)
executions.py   execution requests (Start/Describe/List/Stop/Retry/Update, steps, parameters)
experiments.py  the experiment and trial each execution records, as SageMaker (and DescribeExperiment)
models.py       the store: pipelines and executions per account and region, as plain records; the step cache
execution.py    one execution's record and its step records; the identities its steps act as
definition.py   a parsed definition: steps and the dependencies between them
parsing.py      parses and validates a definition as CreatePipeline does
parameters.py   declared parameters and the typed values an execution runs with
references.py   what a definition's expressions may name (step properties vs botocore shapes)
expressions.py  Get / Std:Join / Std:JsonGet and conditions, evaluated during an execution
scope.py        what a running execution's expressions read (S3 documents as the pipeline's role)
executor.py     what runs, per execution ARN: the coordinator (readiness, parallelism, retries, the end)
steps.py        one attempt at each step type, its calls made as the pipeline's role through the gateway

Every call to another service goes through the gateway: a step's as the pipeline's role, watching and
describing what it made as SageMaker itself; the one adapter into moto's own records is the pipeline mirror
that lets moto's tagging calls find a pipeline.
"""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.pipelines import executions, executor, experiments, models, service

SERVICE = Service(
    "pipelines",
    apis=(service.api, executions.api, experiments.api),
    rules={"sagemaker": RULES["sagemaker"]},
    stores=(models.STORE,),
    on_reset=(executor.forget,),
    on_shutdown=(executor.stop_running,),
)

__all__ = ["SERVICE", "executions", "experiments", "service"]
