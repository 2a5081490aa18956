"""Domain events other packages listen to, for changes that bypass model signals (bulk writes)."""

from django.dispatch import Signal

# Sent inside the writing transaction with `patent_ids`: patents created or changed by a bulk upsert.
patents_written = Signal()

# Sent inside the writing transaction with `entry` (the AuditEntry) and `obj`: every recorded state change.
# Deal rooms turn the deal workflow's changes into system messages in the same transaction.
audit_recorded = Signal()
