"""The form that starts a matching round: what to match, and the quotas."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from web.forms import BaseForm, WholeNumberField

MAX_QUOTA = 50


class RoundForm(BaseForm):
    name = StringField(_l("Name of the round"), validators=[DataRequired(), Length(max=200)],
                       description=_l("For example the hackathon or the call for proposals."))
    needs = SelectMultipleField(_l("Technology needs"), coerce=int, render_kw={"size": 10})
    orders = SelectMultipleField(_l("Research orders"), coerce=int, render_kw={"size": 10})
    ideas = SelectMultipleField(_l("Ideas"), coerce=int, render_kw={"size": 14},
                                validators=[DataRequired(message=_l("Choose at least one idea."))])
    max_per_need = WholeNumberField(_l("At most this many ideas for each need or order"), default=5,
                                    validators=[InputRequired()], min=1, max=MAX_QUOTA)
    max_per_idea = WholeNumberField(_l("Each idea goes to at most this many needs or orders"), default=3,
                                    validators=[InputRequired()], min=1, max=MAX_QUOTA)
    min_per_need = WholeNumberField(_l("At least this many ideas for each need or order (0: no minimum)"), default=0,
                                    validators=[InputRequired()], min=0, max=MAX_QUOTA)
    submit = SubmitField(_l("Solve the round as a draft"))

    def set_choices(self, candidates: dict) -> None:
        """Fill the three lists from services.rounds.candidates()."""
        self.needs.choices = [(n.id, f"#{n.id} {n.title}"
                               + (f" ({n.organisation_name})" if n.organisation_name else ""))
                              for n in candidates["needs"]]
        self.orders.choices = [(o.id, f"#{o.id} {o.title} ({o.organisation_name})") for o in candidates["orders"]]
        self.ideas.choices = [(i.id, f"#{i.id} {i.title}" + (f" ({i.event})" if i.event else ""))
                              for i in candidates["ideas"]]

    def validate_orders(self, field):
        if not (self.needs.data or field.data):
            raise ValidationError(_l("Choose at least one technology need or research order."))

    def validate_min_per_need(self, field):
        if field.data is not None and self.max_per_need.data is not None and field.data > self.max_per_need.data:
            raise ValidationError(_l("The minimum must not be above the maximum per need or order."))
