"""Put first on PYTHONPATH of job processes so the network guard is on before the script runs."""
import local_aws.netguard
import local_aws.opt_ml_guard

local_aws.netguard.install()
local_aws.opt_ml_guard.install()  # only in job processes (LOCAL_AWS_OPT_ML set): literal /opt/ml paths
