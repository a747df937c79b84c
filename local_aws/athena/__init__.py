"""Athena query executions that really run (moto's answer canned empty results).

A query is read as Trino and translated to DuckDB with sqlglot, then run by DuckDB over the Glue
tables' objects in moto's S3 (an Iceberg table's: those of its current snapshot); workgroups and
data catalogs stay moto's.

    service.py     the API: Start/Get/BatchGet/Stop/List QueryExecution(s), GetQueryResults
    executions.py  the QueryExecution record and registry, the background run thread, cancelling,
                   the saved state (executions, results, tokens) restored at start
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

from local_aws.athena import executions, service
from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service

SERVICE = Service(
    "athena",
    apis=(service.api,),
    rules={"athena": RULES["athena"]},
    stores=(executions.STATE,),
    on_reset=(executions.forget,),
    on_shutdown=(executions.stop_running,),
)
