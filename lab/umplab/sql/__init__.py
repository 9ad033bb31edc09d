"""The lab's SQL Server: the TDS wire format (:mod:`.wire`) and T-SQL on SQLite (:mod:`.engine`)."""
