"""Forms of match proposals: moving one, proposing by hand, expressing interest. The review pages and the
JSON API both validate with them."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from services.labels import REJECT_REASONS, choices
from web.forms import BaseForm

NOTE = 2000


class TransitionForm(BaseForm):
    """One button per allowed move; a rejection also carries a reason and maybe a note."""

    to = HiddenField(validators=[DataRequired()])
    reason = SelectField(_l("Reason for rejecting"),
                         choices=[("", _l("— Choose a reason —")), *choices(REJECT_REASONS)], validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE)], render_kw={"rows": 3})

    def validate_reason(self, field):
        if self.to.data == "rejected" and not field.data:
            raise ValidationError(_l("Choose why the proposal is rejected."))

    def validate_note(self, field):
        if self.to.data == "rejected" and self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Explain the reason “Other” in a note."))


class ProposeForm(BaseForm):
    """Staff pair an idea with a need or an order by hand."""

    idea = SelectField(_l("Idea"), coerce=int, validators=[DataRequired()])
    target = SelectField(_l("Technology need or research order"), validators=[DataRequired()])
    note = TextAreaField(_l("Note for the reviewer"), validators=[Optional(), Length(max=NOTE)], render_kw={"rows": 3})
    submit = SubmitField(_l("Propose the match"))


class InterestForm(BaseForm):
    """Express interest: pick which of one's own submissions fits the other side's item."""

    own = SelectField(_l("Which of yours"), coerce=int, validators=[DataRequired()])
    note = TextAreaField(_l("A short note for the department (optional)"), validators=[Optional(), Length(max=NOTE)],
                         render_kw={"rows": 2})
    submit = SubmitField(_l("Express interest"))
