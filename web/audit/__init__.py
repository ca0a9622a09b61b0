"""The audit log, for staff."""
