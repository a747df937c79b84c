"""Put first on PYTHONPATH of job processes so the network guard is on before the script runs."""

import local_aws.core.netguard
import local_aws.core.opt_ml_guard

local_aws.core.netguard.install()
local_aws.core.opt_ml_guard.install()  # only in jobs whose /opt/ml is rewritten: literal /opt/ml paths
