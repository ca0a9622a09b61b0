"""The seam between submissions and the matching engine (filled in by the matching work)."""


def submission_changed(item) -> None:
    return None


def matches_for(item, viewer):
    return []
