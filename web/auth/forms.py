from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp

from services.labels import INNOVATOR_TYPES, LANGUAGE_ENDONYMS, choices
from services.reference import former_districts, place_choices, sector_choices
from web.forms import BaseForm, clean_line

PHONE = Regexp(r"^[0-9 +().-]{8,20}$", message=_l("Enter a phone number, e.g. 0912 345 678."))
# The languages people may prefer: the pages' two, and Chinese (partners in Yunnan), whose readers
# get pages and e-mails in English until there is a Chinese catalog (web/i18n.py, services/notifications.py)
LANGUAGE_CHOICES = [(code, LANGUAGE_ENDONYMS[code]) for code in ("vi", "en", "zh")]


class ProfileFields(BaseForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[clean_line])
    organisation = StringField(_l("Organisation, school or company"), validators=[Optional(), Length(max=200)],
                               filters=[clean_line])
    place = SelectField(_l("Commune or ward"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional(), PHONE])
    preferred_language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES, description=_l(
        "Pages and e-mails are written in Vietnamese and English; with 中文 they come in English."))
    innovator_type = SelectField(_l("I am a"), choices=choices(INNOVATOR_TYPES), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.place.choices = place_choices()


class RegisterForm(ProfileFields):
    role = RadioField(_l("I register as"), choices=[("innovator", _l("Innovator (student, startup, researcher)")),
                                                     ("business", _l("Business or cooperative"))],
                      default="innovator", validators=[DataRequired()])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=128)])
    password2 = PasswordField(_l("Repeat password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    submit = SubmitField(_l("Create account"))


class ProfileForm(ProfileFields):
    email_notifications = BooleanField(_l("E-mail me my notifications"))
    digest_emails = BooleanField(_l("E-mail me a daily digest: new matches for my submissions and what is new "
                                    "in the sectors and former districts I follow"))
    submit = SubmitField(_l("Save"))


class FollowForm(BaseForm):
    """Follow a sector or a former district: one list, its values "sector:<code>" or "district:<name>"."""

    topic = SelectField(_l("Follow a sector or a former district"), validators=[DataRequired()])
    submit = SubmitField(_l("Follow"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic.choices = {
            str(_l("Sectors")): [(f"sector:{code}", name) for code, name in sector_choices()],
            str(_l("Former districts")): [(f"district:{name}", name) for name in former_districts()],
        }


class NewPasswordFields(BaseForm):
    # The length here is for a quick field message; services/passwords.py decides what may be chosen.
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=128)])
    password2 = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class ChangePasswordForm(NewPasswordFields):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(NewPasswordFields):
    submit = SubmitField(_l("Save the new password"))


class LoginForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    submit = SubmitField(_l("Sign in"))
