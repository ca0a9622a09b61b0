"""What the API reads and answers, as marshmallow schemas (they also make the OpenAPI document).

Request bodies of submissions are only *described* here: they are validated by the HTML forms
(web/forms/submissions.py), so the pages and the API share one set of rules.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from models import IdeaKind, ProposalState, RejectReason, Stage, Status, Urgency, Visibility
from services.bounds import MAX_PAGE, MAX_VND
from services.submission_types import BY_CODE, IDEA, NEED, ORDER

TEXT_LANGUAGES = ["vi", "en", "zh"]
BANDS = ["strong", "good", "possible", "weak"]
MAX_FILTER = 200


def _values(enum) -> list[str]:
    return [member.value for member in enum]


class _Longer(validate.Length):
    """marshmallow's Length, with its message in the caller's language."""

    def _format_error(self, value, message: str) -> str:
        return str(_l("At most %(max)s characters.", max=self.max))


def printable(value: str) -> None:
    """Text the database can store: no NUL character."""
    if "\x00" in value:
        # a str, worded now: marshmallow would take a lazy string for a list of one-letter messages
        raise ValidationError(str(_l("This text contains a character that is not allowed.")))


def _filter(description: str) -> fields.String:
    return fields.String(load_default="", validate=[_Longer(max=MAX_FILTER), printable],
                         metadata={"description": description})


# --- errors ----------------------------------------------------------------------

class ProblemSchema(Schema):
    """RFC 9457 problem details, in the caller's language."""

    type = fields.String(required=True, metadata={
        "description": "about:blank or /api/problems/<name>, a stable name of the kind of error"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Messages per field, for invalid data"})


# --- query strings ---------------------------------------------------------------

class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE, error=_l(
                              "The page must be a number from {min} to {max}.")),
                          error_messages={"invalid": _l("Not a valid integer value.")},
                          metadata={"description": "1, 2, ...; a page past the end is empty"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100,
                                                                      error=_l("Ask for 1 to 100 items per page.")),
                              error_messages={"invalid": _l("Not a valid integer value.")})


class BrowseArgs(PageArgs):
    """The filters of the browse pages."""

    q = _filter("Words to find: case and accents are ignored (sat lo finds sạt lở), every word must be "
                "found; quote a phrase. Items of the same meaning in any language are added when the "
                "engine is ready. A confidential need is searched by its title and place only, except "
                "by staff and its author.")
    sector = _filter("Sector code")
    district = _filter("Former district")
    place = _filter("Commune or ward code")
    language = _filter("Language of the text: vi, en or zh")


def _sort(submission_type) -> fields.String:
    # checked by the service (services/search.check_sort), whose message the pages share
    return fields.String(load_default="", validate=[_Longer(max=MAX_FILTER), printable], metadata={
        "enum": list(submission_type.sorts),
        "description": "Order (relevance only with q; default: relevance when q is given, else newest)"})


class IdeaBrowseArgs(BrowseArgs):
    kind = _filter("Kind of idea: " + ", ".join(_values(IdeaKind)))
    sort = _sort(IDEA)


class NeedBrowseArgs(BrowseArgs):
    sort = _sort(NEED)


class OrderBrowseArgs(BrowseArgs):
    sort = _sort(ORDER)


BROWSE_ARGS = {"ideas": IdeaBrowseArgs, "needs": NeedBrowseArgs, "orders": OrderBrowseArgs}


class PeriodArgs(Schema):
    start = fields.String(data_key="from", load_default=None, validate=[validate.Length(max=20), printable],
                          metadata={"description": "First day, e.g. 2025-01-01 (default: 1 January this year)"})
    end = fields.String(data_key="to", load_default=None, validate=[validate.Length(max=20), printable],
                        metadata={"description": "Last day, included (default: 31 December this year)"})


# --- submissions -----------------------------------------------------------------

class SubmissionSchema(Schema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, validate=validate.OneOf(list(BY_CODE)))
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(_values(Status)))
    language = fields.String(required=True)
    sectors = fields.List(fields.String(), required=True, metadata={"description": "Sector codes"})
    place = fields.String(allow_none=True, metadata={"description": "Commune or ward code"})
    place_name = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    published_at = fields.DateTime(allow_none=True)
    mine = fields.Boolean(required=True, metadata={"description": "The caller is the author"})


class IdeaSchema(SubmissionSchema):
    kind = fields.String(required=True)
    summary = fields.String(required=True)
    description = fields.String(required=True)
    keywords = fields.String(allow_none=True)
    stage = fields.String(required=True)
    trl = fields.Integer(allow_none=True)
    team = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    event = fields.String(allow_none=True)
    visibility = fields.String(required=True)


class NeedSchema(SubmissionSchema):
    details_hidden = fields.Boolean(required=True, metadata={
        "description": "Confidential need seen by someone other than staff or its author: the company, "
                       "the problem and the desired outcome are null"})
    problem = fields.String(allow_none=True)
    desired_outcome = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)
    budget_min = fields.Integer(allow_none=True)
    budget_max = fields.Integer(allow_none=True)
    deadline = fields.Date(allow_none=True)
    required_stage = fields.String(allow_none=True)
    confidential = fields.Boolean(required=True)


class OrderSchema(SubmissionSchema):
    ordering_body = fields.String(required=True)
    urgency = fields.String(required=True)
    objectives = fields.String(required=True)
    main_content = fields.String(required=True)
    expected_products = fields.String(required=True)
    application_place = fields.String(allow_none=True)
    duration_months = fields.Integer(allow_none=True)
    budget_state = fields.Integer(allow_none=True)
    budget_other = fields.Integer(allow_none=True)
    proposal_deadline = fields.Date(allow_none=True)


def _page_schema(name: str, item: type[Schema], listed: bool = False) -> type[Schema]:
    """A page of items; ``listed``: a list of submissions, which also says its order, whether
    the engine's cross-language hits are in and which corrected words were also searched."""
    extra = {
        "sort": fields.String(required=True, metadata={"description": "The order used"}),
        "cross_language": fields.String(required=True, validate=validate.OneOf(["used", "not_ready", "off"]),
                                        metadata={"description": "used: items of the same meaning in any language "
                                                  "are included; not_ready: only items holding the words (the "
                                                  "engine is loading or busy); off: no search"}),
        "corrected": fields.String(required=True, allow_none=True,
                                   metadata={"description": "The query's words with a misspelled one "
                                             "corrected, whose items are also listed, after those holding "
                                             "the words as typed; in lower case, spelled as the listed "
                                             "items write them (without diacritics where they do not hold "
                                             "them); null when the query was not corrected",
                                             "example": "sạt lở"}),
    } if listed else {}
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "total": fields.Integer(required=True),
        "pages": fields.Integer(required=True),
        **extra,
    }, name=name)


# Bodies: documentation only (the forms validate). PATCH takes any subset of the same fields.
_LANG = validate.OneOf(["auto", *TEXT_LANGUAGES])
_COMMON_INPUT = {
    "title": fields.String(metadata={"description": "5 to 200 characters",
                                     "example": "Cảm biến độ ẩm cho ruộng bậc thang"}),
    "sectors": fields.List(fields.String(), metadata={"description": "Sector codes, at least one",
                                                       "example": ["agriculture_highland"]}),
    "place": fields.String(allow_none=True, metadata={"description": "Commune or ward code"}),
    "language": fields.String(validate=_LANG, metadata={"description": "auto (default): detected"}),
    "publish": fields.Boolean(metadata={"description": "true: publish now; false (default): keep or save as draft"}),
}


def _amount() -> fields.Integer:
    return fields.Integer(allow_none=True, validate=validate.Range(0, MAX_VND), metadata={
        "description": "Đồng, 0 to 10,000,000,000,000. A string written the Vietnamese way is read too: "
                       "\"1.500.000.000\", \"1 500 000 000\", \"1,5 tỷ\", \"300 triệu\"."})


def _input(name: str, extra: dict) -> type[Schema]:
    return Schema.from_dict({**_COMMON_INPUT, **extra}, name=name)


IdeaInput = _input("IdeaInput", {
    "kind": fields.String(validate=validate.OneOf(_values(IdeaKind))),
    "summary": fields.String(metadata={"description": "Up to 1,000 characters"}),
    "description": fields.String(metadata={"description": "Up to 20,000 characters"}),
    "keywords": fields.String(allow_none=True),
    "stage": fields.String(validate=validate.OneOf(_values(Stage))),
    "trl": fields.Integer(allow_none=True, validate=validate.Range(1, 9), metadata={"description": "1 to 9"}),
    "team": fields.String(allow_none=True),
    "organisation": fields.String(allow_none=True),
    "event": fields.String(allow_none=True),
    "visibility": fields.String(validate=validate.OneOf(_values(Visibility))),
})
NeedInput = _input("NeedInput", {
    "problem": fields.String(),
    "desired_outcome": fields.String(),
    "organisation": fields.String(allow_none=True),
    "budget_min": _amount(),
    "budget_max": _amount(),
    "deadline": fields.Date(allow_none=True),
    "required_stage": fields.String(allow_none=True, validate=validate.OneOf(["", *_values(Stage)])),
    "confidential": fields.Boolean(),
})
OrderInput = _input("OrderInput", {
    "ordering_body": fields.String(),
    "urgency": fields.String(validate=validate.OneOf(_values(Urgency))),
    "objectives": fields.String(),
    "main_content": fields.String(),
    "expected_products": fields.String(),
    "application_place": fields.String(allow_none=True),
    "duration_months": fields.Integer(allow_none=True, validate=validate.Range(1, 120),
                                      metadata={"description": "1 to 120"}),
    "budget_state": _amount(),
    "budget_other": _amount(),
    "proposal_deadline": fields.Date(allow_none=True),
})

KIND_SCHEMAS = {
    "ideas": (IdeaSchema, IdeaInput, _page_schema("IdeaPage", IdeaSchema, listed=True)),
    "needs": (NeedSchema, NeedInput, _page_schema("NeedPage", NeedSchema, listed=True)),
    "orders": (OrderSchema, OrderInput, _page_schema("OrderPage", OrderSchema, listed=True)),
}


# --- matches ---------------------------------------------------------------------

class FacetSchema(Schema):
    code = fields.String(required=True, metadata={"description": "One of same_sector, same_place, "
                                                                 "same_place_group, stage_fits, stage_early, "
                                                                 "deadline_open"})
    value = fields.Raw(allow_none=True)
    label = fields.String(required=True)


class TermSchema(Schema):
    query_term = fields.String(required=True)
    candidate_term = fields.String(required=True)


class SentencePairSchema(Schema):
    query_sentence = fields.String(required=True)
    candidate_sentence = fields.String(required=True)
    strength = fields.String(required=True, validate=validate.OneOf(BANDS))
    strength_label = fields.String(required=True)


class ExplanationSchema(Schema):
    facets = fields.List(fields.Nested(FacetSchema), required=True)
    shared_terms = fields.List(fields.Nested(TermSchema), required=True)
    sentence_pairs = fields.List(fields.Nested(SentencePairSchema), required=True)


class MatchSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(list(BY_CODE)))
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    band = fields.String(required=True, validate=validate.OneOf(BANDS), metadata={
        "description": "the pair's band now: the same on both sides' lists, the review page and rounds"})
    band_label = fields.String(required=True)
    organisation = fields.String(allow_none=True, metadata={"description": "null for a confidential need"})
    explanation = fields.Nested(ExplanationSchema, required=True)
    reasons_pending = fields.Boolean(required=True, metadata={
        "description": "true while the other text's reasons are being prepared (the explanation is empty "
                       "for now; ask again in a minute)"})


class MatchListSchema(Schema):
    items = fields.List(fields.Nested(MatchSchema), required=True)


# --- proposals -------------------------------------------------------------------

class SideSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(list(BY_CODE)))
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    organisation = fields.String(allow_none=True, metadata={"description": "null while it is confidential"})


class ContactSchema(Schema):
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)


class ProposalSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(_values(ProposalState)))
    state_label = fields.String(required=True)
    source = fields.String(required=True)
    band = fields.String(allow_none=True, metadata={"description": "the engine's band when the pair was proposed"})
    idea = fields.Nested(SideSchema, required=True)
    target = fields.Nested(SideSchema, required=True)
    reject_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "the proposer's own note (staff, or an interest)"})
    decision_note = fields.String(allow_none=True, metadata={"description": "the reviewer's note on the decision"})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    allowed_transitions = fields.List(fields.String(), required=True,
                                      metadata={"description": "States the caller may move it to now"})
    contacts = fields.Dict(keys=fields.String(), values=fields.Nested(ContactSchema), allow_none=True,
                           metadata={"description": "idea and target contacts, once introduced (staff: always)"})


ProposalPage = _page_schema("ProposalPage", ProposalSchema)

ProposalInput = Schema.from_dict({
    "idea_id": fields.Integer(required=True),
    "need_id": fields.Integer(allow_none=True, metadata={"description": "Either need_id or order_id"}),
    "order_id": fields.Integer(allow_none=True),
    "note": fields.String(allow_none=True, metadata={"description": "Up to 2,000 characters"}),
}, name="ProposalInput")

TransitionInput = Schema.from_dict({
    "to": fields.String(required=True, validate=validate.OneOf(_values(ProposalState))),
    "reason": fields.String(allow_none=True, validate=validate.OneOf(["", *_values(RejectReason)]),
                            metadata={"description": "Required to reject"}),
    "note": fields.String(allow_none=True, metadata={"description": "Required with the reason `other`"}),
}, name="TransitionInput")


# --- indicators and the caller ---------------------------------------------------

class RowSchema(Schema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    values = fields.List(fields.Float(), required=True)


class FigureSchema(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    group = fields.String(required=True)
    unit = fields.String(required=True)
    series = fields.List(fields.String(), required=True,
                         metadata={"description": "Codes of the series: count, open, closed, share"})
    series_labels = fields.List(fields.String(), required=True)
    rows = fields.List(fields.Nested(RowSchema), required=True)
    summary = fields.Dict(required=True)


class IndicatorsSchema(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    total_ideas = fields.Integer(required=True)
    figures = fields.List(fields.Nested(FigureSchema), required=True)


class MeSchema(Schema):
    id = fields.Integer(allow_none=True)
    email = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)
    role = fields.String(allow_none=True, metadata={"description": "null for anonymous callers"})
    preferred_language = fields.String(allow_none=True)
