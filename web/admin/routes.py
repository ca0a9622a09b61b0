"""Administration: accounts and roles, places, sectors and the province glossary."""
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from extensions import db
from models import Place, Sector, User
from services import accounts, glossary, reference
from services.labels import GLOSSARY_KINDS
from services.passwords import PasswordError
from web.access import admin_required
from web.admin.forms import (
    DeleteForm,
    GlossaryImportForm,
    GlossaryTermForm,
    NewUserForm,
    PlaceForm,
    SectorForm,
    UserRoleForm,
)
from web.downloads import table_response
from web.filters import paginate, query_args
from web.messages import message_for

bp = Blueprint("admin", __name__)


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            accounts.add_account(current_user, form.email.data, form.password.data, form.full_name.data,
                                 form.role.data, organisation=form.organisation.data)
        except PasswordError as error:
            form.password.errors.append(message_for(error))
        except accounts.AccountError as error:
            form.email.errors.append(message_for(error))
        else:
            flash(_("Account created."), "success")
            return redirect(url_for(".users"))
    role = request.args.get("role", "")
    stmt = sa.select(User).order_by(User.role, User.email)
    if role:
        stmt = stmt.where(User.role == role)
    return render_template("admin/users.html", form=form, users=db.session.scalars(stmt).all(), role=role), \
        422 if form.errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id):
    person = db.get_or_404(User, user_id)
    form = UserRoleForm(obj=person)
    if form.validate_on_submit():
        accounts.set_access(person, form.role.data, form.active.data, actor=current_user)
        flash(_("Saved."), "success")
        return redirect(url_for(".users"))
    return render_template("admin/user.html", person=person, form=form)


@bp.route("/places", methods=["GET", "POST"])
@bp.route("/places/<int:place_id>", methods=["GET", "POST"])
@admin_required
def places(place_id=None):
    place = db.get_or_404(Place, place_id) if place_id else None
    form = PlaceForm(obj=place)
    if form.validate_on_submit():
        if reference.code_taken(form.code.data, place.id if place else None):
            form.code.errors.append(_("This code is already used."))
        else:
            reference.save_place(place, actor=current_user, code=form.code.data, name=form.name.data,
                                 kind=form.kind.data, former_district=form.former_district.data)
            flash(_("Saved."), "success")
            return redirect(url_for(".places"))
    return render_template("admin/places.html", form=form, place=place, places=reference.places()), \
        422 if form.errors else 200


@bp.route("/sectors", methods=["GET"])
@bp.route("/sectors/<int:sector_id>", methods=["GET", "POST"])
@admin_required
def sectors(sector_id=None):
    sector = db.get_or_404(Sector, sector_id) if sector_id else None
    form = SectorForm(obj=sector)
    if sector and form.validate_on_submit():
        reference.save_sector(sector, form.name_vi.data, form.name_en.data, actor=current_user)
        flash(_("Saved."), "success")
        return redirect(url_for(".sectors"))
    return render_template("admin/sectors.html", form=form, sector=sector, sectors=reference.sectors())


# --- the province glossary -------------------------------------------------------------------

@bp.route("/glossary")
@admin_required
def glossary_list():
    search = request.args.get("q", "", type=str)[:200]
    kind = request.args.get("kind", "", type=str)
    kind = kind if kind in GLOSSARY_KINDS else ""
    page = paginate(glossary.terms(search, kind), request.args)
    return render_template("admin/glossary.html", page=page, search=search, kind=kind,
                           shared=glossary.shared_names(), query_args=query_args(request.args))


# Which field shows a refused concept's message.
_FIELD_OF = {"glossary_kind": "kind", "glossary_no_names": "vi"}


@bp.route("/glossary/new", methods=["GET", "POST"])
@bp.route("/glossary/<int:term_id>", methods=["GET", "POST"])
@admin_required
def glossary_edit(term_id=None):
    term = glossary.get(term_id) if term_id else None
    if term_id and term is None:
        abort(404)
    form = GlossaryTermForm(obj=term)
    if term is not None:
        form.concept.data = term.concept  # a concept's id never changes: the engine's features name it
        if request.method == "GET":
            for lang in ("vi", "en", "zh"):
                getattr(form, lang).data = " | ".join(term.names(lang))
    if form.validate_on_submit():
        try:
            glossary.save_entry(term, current_user, form.concept.data, form.kind.data,
                                form.vi.data, form.en.data, form.zh.data)
        except glossary.GlossaryInputError as refused:
            getattr(form, _FIELD_OF.get(refused.code, "concept")).errors.append(message_for(refused))
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".glossary_list"))
    return render_template("admin/glossary_term.html", form=form, term=term), 422 if form.errors else 200


@bp.route("/glossary/<int:term_id>/delete", methods=["GET", "POST"])
@admin_required
def glossary_delete(term_id):
    term = glossary.get(term_id) or abort(404)
    form = DeleteForm()
    if form.validate_on_submit():
        glossary.delete_entry(term, current_user)
        flash(_("Deleted: %(concept)s.", concept=term.concept), "success")
        return redirect(url_for(".glossary_list"))
    return render_template("admin/glossary_delete.html", form=form, term=term)


@bp.route("/glossary/import", methods=["GET", "POST"])
@admin_required
def glossary_import():
    form = GlossaryImportForm()
    error, row_errors = None, []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = glossary.import_rows(upload.filename or "", upload.read(), current_user)
        except glossary.GlossaryRowsError as refused:
            error = message_for(refused)
            row_errors = [(e.row, message_for(e)) for e in refused.errors]
        except glossary.GlossaryFileError as refused:
            error = message_for(refused)
        else:
            flash(_("Imported: %(added)s concepts added, %(changed)s changed, %(unchanged)s unchanged.",
                    added=len(result.added), changed=len(result.changed), unchanged=result.unchanged), "success")
            return redirect(url_for(".glossary_list"))
    return render_template("admin/glossary_import.html", form=form, error=error, row_errors=row_errors,
                           columns=glossary.COLUMNS), 422 if (error or form.errors) else 200


@bp.route("/glossary/export.<any(xlsx, csv):fmt>")
@admin_required
def glossary_export(fmt):
    headers, rows = glossary.export()
    return table_response(fmt, "glossary", headers, rows)
