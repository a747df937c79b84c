"""Put first on PYTHONPATH of job processes so the network guard is on before the script runs."""

import local_aws.job_side.netguard
import local_aws.job_side.opt_ml_guard

local_aws.job_side.netguard.install()
local_aws.job_side.opt_ml_guard.install()  # only in jobs whose /opt/ml is rewritten: literal /opt/ml paths
