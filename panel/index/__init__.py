"""The record index: one SQLite file of every record's summary fields, kept in step with the files.

The store does not know it exists: the entry points (`panel.cli`, `panel.desk`) register
`database.record_written` as a write listener of `panel.records.store`.
"""
