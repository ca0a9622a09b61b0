from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from web.forms import BaseForm


class TokenForm(BaseForm):
    name = StringField(_l("Name (what the token is for)"), validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Create a token"))


class RevokeForm(BaseForm):
    """Only the CSRF token: revoking is one button."""

    submit = SubmitField(_l("Revoke"))
