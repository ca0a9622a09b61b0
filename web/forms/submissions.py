"""One form per kind of submission; each knows how to fill itself from and turn itself into data.

The pages (web/submissions) and the JSON API (web/api) both validate with these forms, so they live
here, beside BaseForm, rather than in either blueprint.
"""
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from services.formats import local_today
from services.labels import AUTO_LANGUAGE, IDEA_KINDS, LANGUAGE_ENDONYMS, STAGES, URGENCIES, VISIBILITIES, choices
from services.match_index import text_problem
from services.reference import place_choices, sector_choices
from web.forms import AmountField, BaseForm, BoundedDateField, WholeNumberField, clean_line, clean_lines

LANGUAGE_CHOICES = choices({**AUTO_LANGUAGE, **LANGUAGE_ENDONYMS})
LONG = 20000


def display_width(text: str) -> int:
    """Length in columns: wide and fullwidth characters (Chinese, Unicode UAX #11
    East_Asian_Width W/F) count 2, so "智慧茶园" (4 characters, 8 columns) is as long a title as
    "Smart tea" rather than too short."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class TitleLength:
    """Length(min, max) where the minimum counts :func:`display_width`, the maximum characters."""

    def __init__(self, min: int, max: int):  # noqa: A002 (the names WTForms' Length uses)
        self.min, self.max = min, max

    def __call__(self, form, field):
        text = field.data or ""
        if display_width(text) < self.min or len(text) > self.max:
            raise ValidationError(field.gettext("Field must be between %(min)d and %(max)d characters long.")
                                  % {"min": self.min, "max": self.max})


def usable_text(form, field):
    """The engine must be able to read it: letters, not only emoji or punctuation."""
    if field.data and text_problem(field.data) == "no_letters":
        raise ValidationError(_l("Please write words: this text has no letters."))


def _line(label, max_len, required=False):
    return StringField(label, validators=[DataRequired() if required else Optional(), Length(max=max_len)],
                       filters=[clean_line])


def _text(label, max_len, required=True, **kw):
    return TextAreaField(label, validators=[DataRequired() if required else Optional(), Length(max=max_len),
                                            usable_text], filters=[clean_lines], **kw)


class SubmissionForm(BaseForm):
    """Fields and buttons every submission form has."""

    title = StringField(_l("Title"), validators=[DataRequired(), TitleLength(min=5, max=200), usable_text],
                        filters=[clean_line])
    # Check boxes, not a multi-select: several are picked with a tap each, on a phone too, without Ctrl.
    sectors = SelectMultipleField(_l("Sectors"), validators=[DataRequired()],
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    place = SelectField(_l("Commune or ward"), validators=[Optional()])
    language = SelectField(_l("Language of the text"), choices=LANGUAGE_CHOICES, default="auto")
    save_draft = SubmitField(_l("Save as draft"))
    publish = SubmitField(_l("Publish"))

    # Fields copied one-to-one between the form and the model.
    plain_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sectors.choices = sector_choices()
        self.place.choices = place_choices()

    def load(self, item) -> None:
        for name in ("title", "language", *self.plain_fields):
            getattr(self, name).data = getattr(item, name)
        self.sectors.data = [s.code for s in item.sectors]
        self.place.data = item.place.code if item.place else ""

    def to_data(self) -> dict:
        data = {name: _blank_to_none(getattr(self, name).data) for name in ("title", *self.plain_fields)}
        data["language"] = self.language.data
        data["sector_codes"] = list(self.sectors.data or [])
        data["place_code"] = self.place.data or None
        return data

    @property
    def wants_publish(self) -> bool:
        return bool(self.publish.data)


def _blank_to_none(value):
    return value.strip() or None if isinstance(value, str) else value


class IdeaForm(SubmissionForm):
    kind = SelectField(_l("Kind"), choices=choices(IDEA_KINDS), validators=[DataRequired()])
    summary = _text(_l("Summary (one or two sentences)"), 1000, render_kw={"rows": 2})
    description = _text(_l("Description"), LONG, render_kw={"rows": 8})
    keywords = _line(_l("Keywords, separated by commas"), 500)
    stage = SelectField(_l("Stage"), choices=choices(STAGES), default="idea")
    trl = WholeNumberField(_l("Technology readiness level (TRL 1-9)"), validators=[Optional()], min=1, max=9)
    team = _text(_l("Team"), 1000, required=False, render_kw={"rows": 2})
    organisation = _line(_l("School or organisation"), 200)
    event = _line(_l("Competition or hackathon (if any)"), 200)
    visibility = SelectField(_l("Who can see it"), choices=choices(VISIBILITIES), default="public")
    check_similar = SubmitField(_l("Check for similar ideas"))

    plain_fields = ("kind", "summary", "description", "keywords", "stage", "trl", "team", "organisation",
                    "event", "visibility")


class NeedForm(SubmissionForm):
    problem = _text(_l("The problem"), LONG, render_kw={"rows": 6})
    desired_outcome = _text(_l("Desired outcome"), LONG, render_kw={"rows": 3})
    organisation = _line(_l("Company or cooperative"), 200)
    budget_min = AmountField(_l("Budget from (VND)"), validators=[Optional()])
    budget_max = AmountField(_l("Budget up to (VND)"), validators=[Optional()])
    deadline = BoundedDateField(_l("Deadline"), validators=[Optional()])
    required_stage = SelectField(_l("Solutions we can use"), default="",
                                 choices=[("", _l("Any stage, even an idea"))] + choices(STAGES))
    confidential = BooleanField(_l("Confidential: show the company name and details only to department staff"))

    plain_fields = ("problem", "desired_outcome", "organisation", "budget_min", "budget_max", "deadline",
                    "required_stage", "confidential")

    def validate_budget_max(self, field):
        if field.data is not None and self.budget_min.data is not None and field.data < self.budget_min.data:
            raise ValidationError(_l("The upper budget must not be below the lower budget."))

    def validate_deadline(self, field):
        if field.data and field.data < local_today() and field.data != field.object_data:
            raise ValidationError(_l("The deadline cannot be in the past."))


class OrderForm(SubmissionForm):
    ordering_body = _line(_l("Ordering body"), 200, required=True)
    urgency = SelectField(_l("Urgency"), choices=choices(URGENCIES), default="normal")
    objectives = _text(_l("Objectives"), LONG, render_kw={"rows": 4})
    main_content = _text(_l("Main content"), LONG, render_kw={"rows": 6})
    expected_products = _text(_l("Expected products"), LONG, render_kw={"rows": 3})
    application_place = _line(_l("Where the results will be applied"), 500)
    duration_months = WholeNumberField(_l("Duration (months)"), validators=[Optional()], min=1, max=120)
    budget_state = AmountField(_l("State budget (VND)"), validators=[Optional()])
    budget_other = AmountField(_l("Other sources (VND)"), validators=[Optional()])
    proposal_deadline = BoundedDateField(_l("Deadline for proposals"), validators=[Optional()])

    plain_fields = ("ordering_body", "urgency", "objectives", "main_content", "expected_products",
                    "application_place", "duration_months", "budget_state", "budget_other", "proposal_deadline")

    def validate_proposal_deadline(self, field):
        if field.data and field.data < local_today() and field.data != field.object_data:
            raise ValidationError(_l("The deadline cannot be in the past."))


FORMS = {"ideas": IdeaForm, "needs": NeedForm, "orders": OrderForm}
