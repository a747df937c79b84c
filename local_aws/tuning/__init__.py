"""SageMaker hyperparameter tuning jobs that really tune: training jobs run one set of hyperparameters each.

models      a tuning job's record, its training jobs' summaries, counters and best job; the registry
service     the API: Create/Describe/List/Stop HyperParameterTuningJob, ListTrainingJobsForHyperParameterTuningJob
runner      a tuning job's run: training jobs launched within the limits, objectives read from their metrics
strategies  Random, Grid, and Bayesian (Optuna's TPE) choices of the next hyperparameters
ranges      integer, continuous and categorical ranges with their scaling, checked, sampled, enumerated
"""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.tuning import models, service
from local_aws.tuning.models import find as find_tuning_job
from local_aws.tuning.service import describe as describe_tuning_job
from local_aws.tuning.service import sorted_summaries, start_tuning_job

SERVICE = Service(
    "tuning",
    apis=(service.api,),
    rules={"sagemaker": RULES["sagemaker"]},
    stores=(models.REGISTRY.state,),
    on_reset=(models.REGISTRY.forget,),
    on_shutdown=(models.REGISTRY.stop_running,),
)

__all__ = ["SERVICE", "describe_tuning_job", "find_tuning_job", "sorted_summaries", "start_tuning_job"]
