"""Administration: accounts and roles, places and sectors."""
import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from extensions import db
from models import Place, Sector, User
from services import accounts, reference
from web.access import admin_required
from web.admin.forms import NewUserForm, PlaceForm, SectorForm, UserRoleForm
from web.messages import message_for

bp = Blueprint("admin", __name__)


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.password.data, form.full_name.data, form.role.data,
                                 organisation=form.organisation.data)
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
