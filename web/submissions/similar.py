"""The similar-ideas check as the idea form's script reads it (JSON), worded as likeness, never as fit."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from services.labels import DUPLICATE_BANDS, IDEA_KINDS, LANGUAGES
from services.matchmaking import SimilarCheck


def _problem_message(problem: str) -> str:
    if problem == "too_long":
        return _("The check could not run: the title, summary, description and keywords together are longer "
                 "than 20,000 characters. Shorten the description to check.")
    if problem in ("no_letters", "empty"):
        return _("The check could not run: write the idea in words first.")
    return _("The check could not run now: the matching engine is not ready. Please try again later.")


def present_similar(check: SimilarCheck) -> dict:
    """{items, problem, message}: ``message`` says why nothing is listed (in the reader's language)."""
    items = [{"title": m.submission.title, "url": url_for("submissions.detail", slug="ideas", item_id=m.submission.id),
              "likeness": m.band, "likeness_label": str(DUPLICATE_BANDS[m.band]),
              "kind": str(IDEA_KINDS.get(m.submission.kind, m.submission.kind)),
              "language": m.submission.language, "language_label": str(LANGUAGES.get(m.submission.language, ""))}
             for m in check.matches]
    if check.problem:
        message = _problem_message(check.problem)
    elif items:
        message = _("These ideas look close to yours. Have a look before publishing: you may want to build on them "
                    "or contact their authors through the department.")
    else:
        message = _("No similar idea found.")
    return {"items": items, "problem": check.problem, "message": message}
