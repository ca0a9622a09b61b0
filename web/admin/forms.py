from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Regexp

from services.labels import GLOSSARY_KINDS, PLACE_KINDS, ROLES, choices
from web.forms import BaseForm, clean_line


class NewUserForm(BaseForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)], filters=[clean_line])
    role = SelectField(_l("Role"), choices=choices(ROLES), default="staff")
    organisation = StringField(_l("Organisation"), validators=[Length(max=200)], filters=[clean_line])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8, max=128)])
    submit = SubmitField(_l("Create account"))


class UserRoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=choices(ROLES))
    active = BooleanField(_l("Active"))
    submit = SubmitField(_l("Save"))


class PlaceForm(BaseForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Length(max=60),
        Regexp(r"^[a-z0-9-]+$", message=_l("Lower-case letters, digits and dashes only."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[clean_line])
    kind = SelectField(_l("Type"), choices=choices(PLACE_KINDS))
    former_district = StringField(_l("Former district"), validators=[DataRequired(), Length(max=60)])
    submit = SubmitField(_l("Save"))


class SectorForm(BaseForm):
    name_vi = StringField(_l("Name in Vietnamese"), validators=[DataRequired(), Length(max=120)],
                          filters=[clean_line])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=120)],
                          filters=[clean_line])
    submit = SubmitField(_l("Save"))


_NAMES_HELP = _l("Several names: separate them with |, e.g. quế | cây quế.")


class GlossaryTermForm(BaseForm):
    concept = StringField(_l("Concept id"), validators=[DataRequired(), Length(max=80)],
                          description=_l("Lower-case letters without accents, digits, _ and -, e.g. black_cardamom. "
                                         "It cannot be changed later."))
    kind = SelectField(_l("Kind"), choices=choices(GLOSSARY_KINDS))
    vi = StringField(_l("Names in Vietnamese"), validators=[Length(max=2000)], description=_NAMES_HELP)
    en = StringField(_l("Names in English"), validators=[Length(max=2000)])
    zh = StringField(_l("Names in Chinese"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Save"))


class GlossaryImportForm(BaseForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired()])
    submit = SubmitField(_l("Import"))


class DeleteForm(BaseForm):
    submit = SubmitField(_l("Delete"))
