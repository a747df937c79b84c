"""The gateway every call goes through: HTTP requests (router, http_server, http_guard, http_errors, wire) and
calls made inside local_aws alike, decoded once, validated against botocore's models (service_models,
validation), authorized as their caller (local_aws.core.iam), answered by a service's handler or by moto,
errors in AWS's shapes (errors) and one paging scheme (paging)."""
