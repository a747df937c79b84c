"""A query's result as Athena hands it out: rows of text for GetQueryResults (header row first), the
`<id>.csv` and `<id>.csv.metadata` objects written next to the output location, and ColumnInfo.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv


@dataclass
class QueryResult:
    names: list[str]
    types: list[tuple[str, int, int]]  # Athena (type name, precision, scale)
    rows: pa.Table  # every value as text (null stays null), in result order
    data_scanned_bytes: int

    def to_csv(self) -> bytes:
        """The result as Athena writes it to S3: header row, every non-null field double-quoted."""
        out = io.BytesIO()
        table = self.rows.rename_columns(self.names)
        pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="all_valid"))
        return out.getvalue()

    def metadata(self) -> bytes:
        """The `<id>.csv.metadata` object: the result's column descriptions (Athena's own is binary)."""
        return json.dumps({"ColumnInfo": self.column_info()}).encode()

    def column_info(self) -> list[dict]:
        return [
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": name,
                "Label": name,
                "Type": type_name,
                "Precision": precision,
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": type_name == "varchar",
            }
            for name, (type_name, precision, scale) in zip(self.names, self.types)
        ]


class ResultRows(Sequence):
    """GetQueryResults' rows: the header row, then the data rows, built only for the page asked for."""

    def __init__(self, result: QueryResult):
        self.result = result

    def __len__(self) -> int:
        return self.result.rows.num_rows + 1

    def __getitem__(self, index: int | slice) -> dict | list[dict]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(len(self))
        rows = [{"Data": [{"VarCharValue": name} for name in self.result.names]}] if start == 0 < stop else []
        first = max(start - 1, 0)
        for record in self.result.rows.slice(first, max(stop - 1 - first, 0)).to_pylist():
            rows.append({"Data": [{} if value is None else {"VarCharValue": value} for value in record.values()]})
        return rows
