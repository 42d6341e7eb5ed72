-- SPEC section 2: for every file, records_read = records_loaded + records_quarantined + duplicates.
select *
from {{ ref('ingestion_ledger') }}
where records_read != records_loaded + records_quarantined + duplicates
