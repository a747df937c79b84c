"""Athena query executions that really run (moto's answer canned empty results).

A query is read as Trino and translated to DuckDB with sqlglot, then run by DuckDB over the Glue
tables' S3 objects (an Iceberg table's: those of its current snapshot). Athena makes every call a query
needs as the caller who started it, via athena.amazonaws.com, through the gateway: Glue GetDatabase and
GetTable, S3 ListObjectsV2 and GetObject of the tables' objects, GetBucketLocation and PutObject of the
results; IAM decides each, and a refusal fails the query with Athena's reason. Workgroups and data
catalogs stay moto's.

    service.py     the API: Start/Get/BatchGet/Stop/List QueryExecution(s), GetQueryResults
    executions.py  the QueryExecution records, results and ClientRequestTokens per account and region
                   (an AccountRegionStore, saved and restored; a query cut short by a stop loads FAILED)
    runner.py      the running queries, a thread each keyed by execution id: queueing, cancelling,
                   writing the results
    access.py      the Glue and S3 calls of a query, as its caller, and Athena's reason for each refusal
    sql.py         reading a query (syntax errors as Athena words them), its tables, column names,
                   and its DuckDB translation
    engine.py      DuckDB over the Glue tables a query names, loaded from S3 and cached
    tables.py      what Glue says about a table, and its objects read as Arrow
    iceberg_scan.py  an Iceberg table's current snapshot (through local_aws.core.iceberg_catalog,
                   which the Feature Store writes its Iceberg offline store with): its data files,
                   read by field id
    types.py       Glue -> DuckDB -> Athena types, and values rendered as Athena renders them
    results.py     a result as GetQueryResults pages it and as the `<id>.csv` objects hold it
    failures.py    why a query FAILED, in Athena's words
"""

from local_aws.athena import executions, runner, service
from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service

SERVICE = Service(
    "athena",
    apis=(service.api,),
    rules={"athena": RULES["athena"]},
    stores=(executions.STORE,),
    on_reset=(runner.forget,),
    on_shutdown=(runner.stop_all,),
)
