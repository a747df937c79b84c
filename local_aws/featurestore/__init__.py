"""SageMaker Feature Store: feature groups with an online store answered in memory and an offline
store written to moto's S3 as Parquet, with its Glue table (or, for TableFormat Iceberg, an Iceberg
table registered in Glue), so Athena can query it.

moto only sketches the Feature Store, so local_aws answers the control plane (SageMaker's
*FeatureGroup and *FeatureMetadata calls) and the whole runtime (sagemaker-featurestore-runtime).
The modules divide the work as moto divides a service:

- models.py: features, feature groups and their registry, with the lazy Creating/Deleting/update
  transitions AWS shows;
- feature_groups.py: the control-plane handlers;
- glue_table.py: the offline store's table in the Glue Data Catalog (Glue table format);
- iceberg_store.py: the offline store as an Iceberg table (AWS's layout, one snapshot per flush);
- records.py: checking records against a group (values by FeatureType, event times, identifiers);
- online_store.py: per group, the latest record per identifier, soft-delete tombstones and TTLs;
- runtime.py: the runtime's handlers (Put/Get/Delete/Update/BatchGet/BatchWrite/ListRecords);
- offline_store.py: the buffer of offline rows, written to S3 as Parquet exactly once, before each
  save of the server's state, on demand (`local_aws.flush()`) and before the server stops;
- durable.py: the groups and online stores saved and restored across restarts.
"""

from local_aws.core.iam.rules import RULES
from local_aws.core.service import Service
from local_aws.featurestore import durable, feature_groups, models, offline_store, online_store, runtime

SERVICE = Service(
    "featurestore",
    apis=(feature_groups.api, runtime.api),
    rules={"sagemaker": RULES["sagemaker"], runtime.SERVICE: RULES[runtime.SERVICE]},
    stores=(durable.STATE,),
    on_start=(models.reach_tags,),
    on_reset=(models.GROUPS.forget, online_store.forget_all, offline_store.forget_buffered, durable.JOURNAL.forget),
    before_save=(offline_store.STORE.flush,),
    on_flush=(offline_store.flush_before_exit,),
    admin_actions={"flush": offline_store.flush_now},
)
