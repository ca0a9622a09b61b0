"""The notification bell and list."""
