"""Indicators for staff, downloads of staff lists, decisions as a labelled set, and bulk import of ideas."""
