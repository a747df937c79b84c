"""What every service of local_aws shares, in four parts:

    gateway   every call, over HTTP or from inside local_aws: decoded, validated, authorized, answered
    iam       who calls, what a call needs and whether IAM allows it
    moto      the adapters onto moto, the only place that knows moto's internals
    runtime   configuration, the server's start and stop, durable state, background runs

Kept free of heavy imports: job processes import local_aws.job_side, whose parent packages load first.
"""
