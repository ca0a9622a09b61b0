"""Translated names of the codes stored in the database, in one place for forms and templates."""
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
VISIBILITIES = {"public": _l("Everyone"), "members": _l("Signed-in members only")}
URGENCIES = {"normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
MATCH_BANDS = {"strong": _l("Strong fit"), "good": _l("Good fit"), "possible": _l("Possible fit"),
               "weak": _l("Weak fit")}
KIND_TITLES = {
    "ideas": _l("Ideas and projects"),
    "needs": _l("Technology needs"),
    "orders": _l("Research orders"),
}
KIND_SINGULAR = {
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
    "conflict_of_interest": _l("Conflict of interest"),
    "other": _l("Other (explain in the note)"),
}


def choices(mapping: dict) -> list[tuple[str, str]]:
    return list(mapping.items())


def template_labels() -> dict:
    return {
        "IDEA_KINDS": IDEA_KINDS, "STAGES": STAGES, "STATUSES": STATUSES, "ROLES": ROLES,
        "INNOVATOR_TYPES": INNOVATOR_TYPES, "LANGUAGE_NAMES": LANGUAGES, "VISIBILITIES": VISIBILITIES,
        "URGENCIES": URGENCIES, "MATCH_BANDS": MATCH_BANDS, "KIND_TITLES": KIND_TITLES, "KIND_SINGULAR": KIND_SINGULAR,
        "PROPOSAL_STATES": PROPOSAL_STATES, "PROPOSAL_ACTIONS": PROPOSAL_ACTIONS,
        "PROPOSAL_SOURCES": PROPOSAL_SOURCES, "REJECT_REASONS": REJECT_REASONS,
    }
