"""The base of every form: CSRF from Flask-WTF, messages in the visitor's language; and the fields
that read numbers and dates within the app's bounds (services.bounds), with one message each.

Forms used by more than one blueprint live in this package too (`web.forms.submissions`); a
blueprint's own forms stay in its `forms.py`.

WTForms ships no Vietnamese catalog, so its built-in messages ("This field is required.", ...)
are merged into our own catalog (`make messages`) and looked up through Flask-Babel.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from matching.text import clean_text
from services.bounds import FIRST_DAY, LAST_DAY, MAX_ID, MAX_VND
from services.formats import day, number


def clean_lines(value):
    """Filter: the text as it will be stored (markup, invisible and control characters removed,
    NFC, spaces collapsed), so "required" and lengths apply to what is kept: a title of
    zero-width spaces or ``<p>&nbsp;</p>`` is empty."""
    return clean_text(value) if isinstance(value, str) else value


def clean_line(value):
    """Filter for one-line fields (titles, names): as :func:`clean_lines`, and no line breaks,
    which would otherwise reach e-mail headers."""
    return " ".join(clean_text(value).split()) if isinstance(value, str) else value


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


class _OneMessage:
    """A value that could not be read already carries its message: the validators (a range, say)
    do not add a second one about the same value."""

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


class WholeNumberField(_OneMessage, IntegerField):
    """A whole number from `min` to `max` (by default any id the database can hold). Text that is
    not a number, or a number out of range however many digits it has, gets one message that
    states the range; the value is never handed on (no overflow in a comparison or a query)."""

    message = _l("Enter a whole number from %(min)s to %(max)s.")

    def __init__(self, label=None, validators=None, min: int = 0, max: int = MAX_ID, **kwargs):  # noqa: A002
        super().__init__(label, validators, **kwargs)
        self.min, self.max = min, max

    def parse(self, text: str) -> int | None:
        return int(text) if re.fullmatch(r"[+-]?[0-9]{1,30}", text) else None

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            self.data = None
            return
        value = self.parse(text)
        if value is None or not self.min <= value <= self.max:
            self.data = None
            raise ValueError(str(self.message) % {"min": number(self.min), "max": number(self.max)})
        self.data = value


# A Vietnamese amount may end with a unit: "1,5 tỷ", "300 triệu", "50 nghìn"; the currency is dropped.
_UNITS = {"tỷ": 10**9, "tỉ": 10**9, "billion": 10**9, "triệu": 10**6, "million": 10**6,
          "nghìn": 10**3, "ngàn": 10**3, "thousand": 10**3}
_CURRENCY = re.compile(r"\s*(?:đồng|đ|vnđ|vnd|₫|dong)\.?$")
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_DECIMAL = re.compile(r"(?P<whole>[0-9]{1,20})(?:[.,](?P<fraction>[0-9]{1,9}))?")


def parse_amount(text: str) -> int | None:
    """Đồng as people write them: "1500000000", "1.500.000.000", "1,500,000,000", "1 500 000 000",
    "1,5 tỷ", "1.500 triệu", "300 triệu đồng", "2.000.000đ". A dot or comma before exactly three
    digits groups thousands; otherwise, and only before a unit, it is the decimal mark ("1,5 tỷ").
    None when the text is not an amount (or is a fraction of a đồng)."""
    text = " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").casefold().split())
    text = _CURRENCY.sub("", text).strip()
    factor = 1
    for word, value in _UNITS.items():
        if text.endswith(word):
            text, factor = text[: -len(word)].strip(), value
            break
    if _GROUPED.fullmatch(text):
        number = Decimal(re.sub(r"[., ]", "", text))
    else:
        match = _DECIMAL.fullmatch(text)
        if match is None:
            return None
        fraction = match["fraction"] or ""
        try:
            number = Decimal(f"{match['whole']}.{fraction or 0}")
        except InvalidOperation:
            return None
    amount = number * factor
    return int(amount) if amount == amount.to_integral_value() else None


class AmountField(WholeNumberField):
    """An amount in đồng, from 0 to :data:`MAX_VND`, written any way :func:`parse_amount` reads;
    a text box (a number box would refuse "1.500.000.000")."""

    widget = TextInput()
    message = _l("Enter an amount in đồng from %(min)s to %(max)s, e.g. 1.500.000.000 or 1,5 tỷ.")

    def __init__(self, label=None, validators=None, min: int = 0, max: int = MAX_VND, **kwargs):  # noqa: A002
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, min=min, max=max, **kwargs)

    def parse(self, text: str) -> int | None:
        return parse_amount(text)


class BoundedDateField(_OneMessage, DateField):
    """A date from :data:`FIRST_DAY` to :data:`LAST_DAY`: year 1 or 9999 is a typing mistake, and
    would overflow the arithmetic that follows (the day after, local midnight in UTC)."""

    def process_formdata(self, valuelist):
        if valuelist and not " ".join(valuelist).strip():
            self.data = None  # left empty: "required" or Optional() decide, not a parse error
            return
        super().process_formdata(valuelist)
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(str(_l("Choose a date from %(first)s to %(last)s."))
                             % {"first": day(FIRST_DAY), "last": day(LAST_DAY)})
