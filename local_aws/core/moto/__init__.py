"""moto, as local_aws builds on it: the only package that imports moto. Its state made durable (state), its
IAM and STS (iam), experiments (experiments), and calls forwarded to moto's own server application (calls)."""
