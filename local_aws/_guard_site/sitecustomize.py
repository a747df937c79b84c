"""Put first on PYTHONPATH of job processes so the network guard is on before the script runs."""
import local_aws.netguard

local_aws.netguard.install()
