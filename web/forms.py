"""The base of every form: CSRF from Flask-WTF, messages in the visitor's language.

WTForms ships no Vietnamese catalog, so its built-in messages ("This field is required.", ...)
are merged into our own catalog (`make messages`) and looked up through Flask-Babel.
"""
from flask_babel import get_translations
from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return get_translations()
