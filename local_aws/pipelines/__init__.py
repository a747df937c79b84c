"""SageMaker Pipelines: pipelines, their versions, and executions that really run (moto only records them).

service.py      pipeline requests (Create/Update/Describe/List/Delete Pipeline, ListPipelineVersions)
executions.py   execution requests (Start/Describe/List/Stop/Retry/Update, steps, parameters)
experiments.py  the experiment and trial each execution records (and DescribeExperiment)
models.py       the pipelines and executions held, their lookups, the step cache, their saved state
definition.py   a parsed definition: steps and the dependencies between them
parsing.py      parses and validates a definition as CreatePipeline does
parameters.py   declared parameters and the typed values an execution runs with
references.py   what a definition's expressions may name (step properties vs botocore shapes)
expressions.py  Get / Std:Join / Std:JsonGet and conditions, evaluated during an execution
execution.py    one execution's state and its step records, as saved and as loaded after a restart
executor.py     the coordinator: readiness, parallelism, retries, the execution's end
steps.py        one attempt at each step type (jobs through local_aws.jobs, Model Registry, ...)

"""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.pipelines import executions, experiments, models, service

SERVICE = Service(
    "pipelines",
    apis=(service.api, executions.api, experiments.api),
    rules={"sagemaker": RULES["sagemaker"]},
    stores=(models.STATE,),
    on_reset=(executions.forget,),
    on_shutdown=(executions.stop_running,),
)

__all__ = ["SERVICE", "executions", "experiments", "service"]
