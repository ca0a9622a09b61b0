"""The words for the codes stored in the database: the one place that turns a code into words.

Every mapping is a Babel lazy string, so it speaks the language of whoever reads it: the reader
of a page or an API answer, the recipient of an e-mail (rendered under their preferred language),
and Vietnamese for the Department's documents (exports and report tables render these under
`force_locale("vi")`). The importer reads them back the other way (`in_locale`). Forms, templates
(`template_labels`), the API, exports, imports and indicators take their words for a code from
here, so a state or a kind is called the same on every page, in every answer and in every file.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

IDEA_KINDS = {
    "startup_idea": _l("Startup idea"),
    "stem_project": _l("STEM project"),
    "hackathon_project": _l("Hackathon project"),
    "research_proposal": _l("Research proposal"),
}
STAGES = {
    "idea": _l("Idea"),
    "prototype": _l("Prototype"),
    "pilot": _l("Pilot"),
    "market": _l("On the market"),
}
STATUSES = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "withdrawn": _l("Withdrawn"),
    "closed": _l("Closed"),
}
ROLES = {
    "innovator": _l("Innovator"),
    "business": _l("Business"),
    "staff": _l("Department staff"),
    "admin": _l("Administrator"),
}
INNOVATOR_TYPES = {
    "student": _l("Student"),
    "startup": _l("Startup"),
    "researcher": _l("Researcher"),
}
LANGUAGES = {"vi": _l("Vietnamese"), "en": _l("English"), "zh": _l("Chinese")}
# Each language's name in itself, never translated: where people pick a language, they find theirs
# whatever language the page is in.
LANGUAGE_ENDONYMS = {"vi": "Tiếng Việt", "en": "English", "zh": "中文"}
# The text's language, when the author leaves it to the engine.
AUTO_LANGUAGE = {"auto": _l("Detect automatically")}
VISIBILITIES = {"public": _l("Everyone"), "members": _l("Signed-in members only")}
URGENCIES = {"normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
MATCH_BANDS = {"strong": _l("Strong fit"), "good": _l("Good fit"), "possible": _l("Possible fit"),
               "weak": _l("Weak fit")}
# What a ranker learned from (services.ranker: a labelled set's file name, or the staff decisions)
RANKER_SOURCES = {"laocai-dev": _l("The department's labelled examples"),
                  "matching-dev-v2": _l("Independent labelled examples"), "decisions": _l("Staff decisions")}
# The orders of a list (services.search.SORTS)
SORT_LABELS = {"relevance": _l("Most relevant"), "newest": _l("Newest"), "deadline": _l("Deadline soonest"),
               "budget": _l("Largest budget")}
# The duplicate check's two decisions (services.matchmaking.similar_ideas): likeness, not fit.
DUPLICATE_BANDS = {"strong": _l("Very similar"), "good": _l("Similar")}
# Each type of submission by its slug (services/submission_types.py names them from here): the list's
# heading, and the word in a sentence ("New technology need").
SUBMISSION_TYPE_TITLES = {
    "ideas": _l("Ideas and projects"),
    "needs": _l("Technology needs"),
    "orders": _l("Research orders"),
}
SUBMISSION_TYPE_NAMES = {
    "ideas": _l("idea"),
    "needs": _l("technology need"),
    "orders": _l("research order"),
}

PROPOSAL_STATES = {
    "proposed": _l("Proposed"),
    "under_review": _l("Under review"),
    "approved": _l("Approved: introduced"),
    "rejected": _l("Rejected"),
    "in_discussion": _l("In discussion"),
    "agreement_signed": _l("Agreement signed"),
    "no_agreement": _l("No agreement"),
    "closed": _l("Closed"),
}
# The button that moves a proposal into each state.
PROPOSAL_ACTIONS = {
    "under_review": _l("Start the review"),
    "approved": _l("Approve and introduce"),
    "rejected": _l("Reject"),
    "in_discussion": _l("We are in discussion"),
    "agreement_signed": _l("An agreement was signed"),
    "no_agreement": _l("No agreement"),
    "closed": _l("Close"),
}
PROPOSAL_SOURCES = {
    "engine": _l("Matching engine"),
    "staff": _l("Department staff"),
    "interest": _l("Expressed interest"),
    "round": _l("Matching round"),
}
REJECT_REASONS = {
    "off_topic": _l("Off topic"),
    "not_feasible": _l("Not feasible"),
    "stage_mismatch": _l("Stage mismatch"),
    "duplicate": _l("Duplicate"),
    "already_contracted": _l("Need already met (contracted elsewhere)"),
    "conflict_of_interest": _l("Conflict of interest"),
    "other": _l("Other (explain in the note)"),
}
ROUND_STATES = {"draft": _l("Draft"), "published": _l("Published"), "discarded": _l("Discarded")}
PLACE_KINDS = {"xa": _l("Commune (xã)"), "phuong": _l("Ward (phường)")}
# The kinds of the province glossary's concepts (matching.glossary.KINDS).
GLOSSARY_KINDS = {
    "crop": _l("Crop or product"), "place": _l("Place"), "technology": _l("Technology"),
    "institution": _l("Institution"), "other": _l("Other"),
}
AUDIT_ENTITY_TYPES = {
    "proposal": _l("Match proposals"), "idea": _l("Ideas"), "need": _l("Technology needs"),
    "order": _l("Research orders"), "user": _l("Accounts"), "place": _l("Communes and wards"),
    "sector": _l("Sectors"), "round": _l("Matching rounds"), "glossary": _l("Province glossary"),
}
# Who an audit entry names when no person acted (imports' jobs, the seeding, the engine).
SYSTEM_ACTOR = _l("the system")
YES_NO = {True: _l("Yes"), False: _l("No")}

# The indicators (services.indicators): each figure's title and note, its value columns, and the
# rows that are neither a stored code above nor reference data.
FIGURE_TITLES = {
    "ideas_by_kind": _l("Ideas by kind"),
    "ideas_by_sector": _l("Ideas by sector"),
    "ideas_by_district": _l("Ideas by former district"),
    "ideas_by_month": _l("Ideas by month"),
    "needs_and_orders": _l("Technology needs and research orders: open and closed"),
    "proposals_by_state": _l("Match proposals by state"),
    "approval_rate": _l("Approval rate of match proposals"),
    "days_to_introduction": _l("Days from an idea's publication to its introduction"),
    "introductions_to_agreements": _l("Introductions that led to an agreement"),
    "student_share": _l("Share of student projects"),
    "district_share": _l("Share of ideas from each former district"),
}
FIGURE_NOTES = {
    "ideas_by_sector": _l("An idea with several sectors counts in each of them."),
    "student_share": _l("Student projects: ideas by student innovators, and every STEM project."),
    "needs_and_orders": _l("Closed: closed or withdrawn, or the deadline has passed."),
    "approval_rate": _l("Approved: approved and every later state; among the proposals decided in the period."),
}
FIGURE_SERIES = {"count": _l("Number"), "open": _l("Open"), "closed": _l("Closed"), "share": _l("Share (%)")}
FIGURE_ROWS = {
    "needs": SUBMISSION_TYPE_TITLES["needs"], "orders": SUBMISSION_TYPE_TITLES["orders"],
    "student": _l("Students and STEM projects"), "other": _l("Other"),
    "approved": _l("Approved"), "rejected": _l("Rejected"), "agreement": _l("Agreement signed"),
}
UNKNOWN = _l("Unknown")


def label(mapping: Mapping, code) -> str:
    """The words for `code` in the current language: "" for no code, the code itself if unknown
    (a value written by a newer version, or edited by hand, stays readable)."""
    if code is None or code == "":
        return ""
    return str(mapping.get(code, code))


def in_locale(mapping: Mapping, locale: str) -> dict:
    """`mapping` rendered in `locale` ({code: words}), e.g. to read a code back from its words."""
    with force_locale(locale):
        return {code: str(words) for code, words in mapping.items()}


def choices(mapping: Mapping) -> list[tuple[str, str]]:
    """(code, words) pairs for a select field; the words stay lazy, so the form speaks the reader's language."""
    return list(mapping.items())


def template_labels() -> dict:
    """The mappings every template may use, by the names the templates know them by."""
    return {
        "IDEA_KINDS": IDEA_KINDS, "STAGES": STAGES, "STATUSES": STATUSES, "ROLES": ROLES,
        "INNOVATOR_TYPES": INNOVATOR_TYPES, "LANGUAGE_NAMES": LANGUAGES, "LANGUAGE_ENDONYMS": LANGUAGE_ENDONYMS,
        "VISIBILITIES": VISIBILITIES, "URGENCIES": URGENCIES, "MATCH_BANDS": MATCH_BANDS,
        "DUPLICATE_BANDS": DUPLICATE_BANDS, "RANKER_SOURCES": RANKER_SOURCES,
        "PROPOSAL_STATES": PROPOSAL_STATES, "PROPOSAL_ACTIONS": PROPOSAL_ACTIONS,
        "PROPOSAL_SOURCES": PROPOSAL_SOURCES, "REJECT_REASONS": REJECT_REASONS, "ROUND_STATES": ROUND_STATES,
        "PLACE_KINDS": PLACE_KINDS, "GLOSSARY_KINDS": GLOSSARY_KINDS,
        "AUDIT_ENTITY_TYPES": AUDIT_ENTITY_TYPES, "SYSTEM_ACTOR": SYSTEM_ACTOR,
    }
