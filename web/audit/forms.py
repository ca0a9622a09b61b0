from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import Email, Length, Optional, ValidationError

from web.forms import BaseForm, BoundedDateField


class AuditFilterForm(BaseForm):
    """The audit log's filters, read from the query string."""

    class Meta:
        csrf = False

    entity_type = SelectField(_l("What"), validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=60)],
                         description=_l("E.g. proposal.approved, or proposal for every proposal action."))
    actor = EmailField(_l("Who (e-mail)"), validators=[Optional(), Email(), Length(max=254)])
    date_from = BoundedDateField(_l("From"), validators=[Optional()])
    date_to = BoundedDateField(_l("To"), validators=[Optional()])
    submit = SubmitField(_l("Filter"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))
