"""Put first on PYTHONPATH of job processes so the network guard is on before the script runs."""
import local_aws.core.netguard
import local_aws.core.opt_ml_guard

local_aws.core.netguard.install()
local_aws.core.opt_ml_guard.install()  # only in job processes (LOCAL_AWS_OPT_ML set): literal /opt/ml paths
