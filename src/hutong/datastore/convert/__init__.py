"""Convert raw batches to the declared field types, naming every bad cell (类型转换与校验).

Arrow types of the declared field types, and what each accepts:

- string: ``string``. Kept as is (not trimmed); an empty cell is null. ``length`` is the
  maximum number of characters.
- integer: ``int64``. Digits with an optional sign ('+12', '-3', '007'); not '1.5',
  '1e3' or '1,000'. Spaces around the value are ignored.
- decimal: ``decimal128(38, 10)``: exact, so amounts and identifiers never pick up float
  noise; 10 decimal places hold coordinates (121.4737012) and rates, 28 digits before
  the point hold any amount. A value with more places is rejected, not rounded:
  rounding would change the provider's data without telling anyone. Accepts '1.5',
  '-.5', '+3', '1.5E-05'; not '1,234.5', 'NaN'.
- boolean: ``bool``. true/false, 1/0, 是/否, Y/N, yes/no, any case.
- date: ``date32``. YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD; single-digit month
  and day ('2024/5/1', as spreadsheets write them); a midnight time ('2024-05-01
  00:00:00') is allowed and dropped.
- datetime: ``timestamp[us, tz=UTC]``: one instant, comparable across sources. ISO 8601
  with 'T' or a space, minutes or seconds, fractions, a 'Z' or '+08:00' offset; the date
  forms above. A time without offset is Beijing time (Asia/Shanghai, with its 1986-1991
  summer time), the way Chinese systems record local times.

The hot path is one pyarrow cast per column. Only when it fails does a column go through
normalization (trim, '+', date separators) and a vectorized grammar check (RE2) that
finds the bad cells; values that pass the grammar but still do not cast (2024-02-30,
an integer past int64) are found by checking that column's values one by one in Python.
"""

from hutong.datastore.convert.batch import convert_batch as convert_batch
from hutong.datastore.convert.batch import match_columns as match_columns
from hutong.datastore.convert.keys import KeyTracker as KeyTracker
from hutong.datastore.convert.schema import TIMESTAMP_UTC as TIMESTAMP_UTC
from hutong.datastore.convert.schema import arrow_schema as arrow_schema
from hutong.datastore.convert.schema import arrow_type as arrow_type
