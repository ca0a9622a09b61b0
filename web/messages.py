"""What a refused action says: one table from a service error's code to its sentence, in the
reader's language, for pages and API problem details alike (services only name the reason)."""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from services.errors import ServiceError
from services.labels import PROPOSAL_STATES


def _minimum_unreachable(targets) -> str:
    return _("These needs or orders cannot get the minimum number of ideas: %(titles)s. "
             "Lower the minimum, add ideas or leave them out.", titles="; ".join(t.title for t in targets))


def _columns(missing=(), unknown=()) -> str:
    parts = []
    if missing:
        parts.append(_("Missing columns: %(names)s.", names=", ".join(missing)))
    if unknown:
        # a header cell may hold anything, even megabytes: each is quoted short, and at most ten
        shown = [name if len(name) <= 60 else name[:59] + "…" for name in list(unknown)[:10]]
        more = len(unknown) - len(shown)
        parts.append(_("Unknown columns: %(names)s.", names=", ".join(shown) + (f" (+{more})" if more else "")))
    return " ".join(parts) + " " + _("Use the headers of the template file.")


def _wrong_state(state: str) -> str:
    return _("Someone else has just moved this proposal: it is now “%(state)s”. Nothing was changed; "
             "look at it again before you act.", state=PROPOSAL_STATES.get(state, state))


_EMPTY_FILE = _l("The file has no rows to import.")

# code -> the sentence (filled with the error's params), or a function of the params for the
# sentences that are put together from parts. Codes are unique across every ServiceError.
MESSAGES: dict[str, LazyString | Callable[..., str]] = {
    # accounts
    "email_taken": _l("An account with this e-mail already exists."),
    "bad_role": _l("This role cannot be chosen here."),
    "wrong_password": _l("The current password is not right."),
    "reset_link_invalid": _l("This link does not work: it was already used, the password was changed since, "
                             "or it was not copied whole. Ask for a new link."),
    "reset_link_expired": _l("This link has expired. Ask for a new link."),
    # the password policy (services/passwords.py)
    "password_short": _l("Use at least 8 characters."),
    "password_long": _l("Use at most 128 characters."),
    "password_personal": _l("This password is made of your name, e-mail or organisation, which others can guess. "
                            "Choose another."),
    "password_common": _l("This password is one of the most common ones and is tried first by attackers. "
                          "Choose another, e.g. several words."),
    "password_guessable": _l("This password is too easy to guess (a pattern, a repeat or a common word). "
                             "Choose a longer one, e.g. several words."),
    # proposals
    "not_allowed": _l("This step is not possible for this proposal, or not for your role."),
    "conflict_of_interest": _l("This proposal involves your own organisation, so you may not decide on it. "
                               "It goes to another reviewer."),
    "exists": _l("This pair has already been proposed; it is not proposed twice."),
    "own_item_invalid": _l("Choose one of your own published submissions."),
    "reason_required": _l("Choose why the proposal is rejected."),
    "wrong_state": _wrong_state,
    # anything two people can act on at once (the row's version moved on, see services/errors.py)
    "changed_meanwhile": _l("Someone else changed this at the same moment, and their change was saved first. "
                            "Yours was not saved: look at it again and repeat it if it still applies."),
    # submissions
    "already_published": _l("This is already published."),
    "not_published": _l("This is not published, so it cannot be withdrawn."),
    # matching rounds
    "minimum_unreachable": _minimum_unreachable,
    "engine_unavailable": _l("The matching engine is not ready yet. Please try again in a moment."),
    "not_draft": _l("This round was already published or discarded."),
    "unknown_item": _l("Some of the chosen items are no longer published. Reload the page and choose again."),
    # lists
    "unknown_sort": _l("This list cannot be sorted that way. Choose one of: %(choices)s."),
    # periods of the indicators
    "bad_date": _l("Dates must look like 2025-01-31."),
    "reversed": _l("The end of the period is before its start."),
    "date_range": _l("Choose a date from %(first)s to %(last)s."),
    # uploaded tables and imports
    "format": _l("Upload an .xlsx or .csv file."),
    "encoding": _l("The file is not in UTF-8. In Excel choose “Save as” > “CSV UTF-8 (Comma delimited)”, "
                   "or upload the .xlsx file itself."),
    "unreadable": _l("The file cannot be read. Check that it is a valid .xlsx or .csv file."),
    "empty": _EMPTY_FILE,
    "no_rows": _EMPTY_FILE,
    "columns": _columns,
    "too_many_rows": _l("The file has more than %(n)s rows. Split it into smaller files."),
    "too_many_columns": _l("The sheet has cells beyond column %(n)s. Delete the columns to the right of "
                           "the table (or copy the table into a new file) and upload it again."),
    "too_large": _l("The file unpacks to more than %(mb)s MB. Remove pictures and other sheets, or split "
                    "it into smaller files."),
    "has_errors": _l("Correct every error in the file and upload it again: nothing was imported."),
    "not_yours": _l("Only the person who uploaded the file can confirm it."),
    "not_preview": _l("This import was already confirmed."),
    # the province glossary
    "glossary_concept_missing": _l("Give the concept id, e.g. cinnamon."),
    "glossary_concept": _l("The concept id “%(value)s” may hold only lower-case letters without accents, digits, "
                           "“_” and “-”, and must start with a letter or a digit (at most 80 characters)."),
    "glossary_kind": _l("The kind “%(value)s” is not known. Use one of: %(kinds)s."),
    "glossary_no_names": _l("Give at least one name, in Vietnamese, English or Chinese."),
    "glossary_duplicate": _l("The concept “%(value)s” is already in row %(first)s of the file."),
    "glossary_exists": _l("The concept “%(value)s” is already in the glossary."),
    "glossary_rows": _l("%(n)s problems in the file: correct them and upload it again. Nothing was imported."),
}


def message_for(error: ServiceError | str) -> str:
    """The sentence for a service error, or for a bare code (e.g. what proposals.refusal() answers),
    in the current request's language."""
    code, params = (error.code, error.params) if isinstance(error, ServiceError) else (error, {})
    entry = MESSAGES[code]
    if isinstance(entry, LazyString):
        return str(entry) % params if params else str(entry)
    return entry(**params)
