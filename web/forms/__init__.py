"""The base of every form: CSRF from Flask-WTF, messages in the visitor's language.

Forms used by more than one blueprint live in this package too (`web.forms.submissions`); a
blueprint's own forms stay in its `forms.py`.

WTForms ships no Vietnamese catalog, so its built-in messages ("This field is required.", ...)
are merged into our own catalog (`make messages`) and looked up through Flask-Babel.
"""
from flask_babel import get_translations
from flask_wtf import FlaskForm


def _without_nul(value):
    # No database stores NUL in text (PostgreSQL refuses it); it is never meaningful in a form.
    return value.replace("\x00", "") if isinstance(value, str) else value


class BaseForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return get_translations()

        def bind_field(self, form, unbound_field, options):
            filters = [*unbound_field.kwargs.get("filters", ()), _without_nul]
            return unbound_field.bind(form=form, filters=filters, **options)
