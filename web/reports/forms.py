"""The upload form, and the idea form's rules applied to each row of an imported file."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import SubmitField

from services.reference import place_choices, sector_choices
from web.forms import BaseForm
from web.forms.submissions import IdeaForm


class ImportForm(BaseForm):
    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired()])
    submit = SubmitField(_l("Check the file"))


class ConfirmForm(BaseForm):
    submit = SubmitField(_l("Import all rows"))


class IdeaRowForm(IdeaForm):
    """IdeaForm itself, fed from a row instead of a request; the choices are read once per file."""

    class Meta:
        csrf = False

    def __init__(self, formdata: MultiDict, sectors: list, places: list):
        BaseForm.__init__(self, formdata=formdata)  # not SubmissionForm's: it would query the choices per row
        self.sectors.choices, self.place.choices = sectors, places


def idea_row_validator():
    """validate(values) -> (data, errors) with exactly the idea form's rules (services.imports.Validator)."""
    sectors, places = sector_choices(), place_choices()

    def validate(values: dict[str, Any]):
        pairs = [(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs])]
        form = IdeaRowForm(MultiDict(pairs), sectors, places)
        if form.validate():
            return form.to_data(), {}
        return None, {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    return validate
