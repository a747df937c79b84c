"""The server's life: configuration, starting and stopping it (lifecycle, cli, server), durable state
(persistence) and the durable records of background runs (run_registry)."""
