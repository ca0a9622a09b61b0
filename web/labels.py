"""Only a pointer: the labels live in services.labels, where services can use them too.

Kept while the files being rewritten for the registry of submission types still import from here
(web/submissions/routes.py, web/review/routes.py, web/api/present.py); delete it once they import
services.labels.
"""
from services.labels import IDEA_KINDS, KIND_SINGULAR, MATCH_BANDS, PROPOSAL_STATES

__all__ = ["IDEA_KINDS", "KIND_SINGULAR", "MATCH_BANDS", "PROPOSAL_STATES"]
