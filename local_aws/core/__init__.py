"""What every service of local_aws shares: the server and its router, the handler registries
(protocol), errors, validation and paging driven by botocore's service models, the one module that
touches moto's internals (moto_state), durable state (persistence), the HTTP server's guards and
limits, Iceberg tables in moto's Glue and S3 (iceberg_catalog, for the Feature Store and Athena),
configuration, the server's lifecycle and CLI, and the guards that keep jobs and the network in
bounds. Kept free of heavy imports: job processes import the guards from here.
"""
