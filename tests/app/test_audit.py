"""The audit log: an entry for each kind of change, append-only, and a filtered page for staff."""
import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import AuditEntry, Place, Sector, User
from services import proposals
from services.errors import ConflictError
from tests.app._proposal_world import make_proposal, world  # noqa: F401  (fixtures)


def entries(app, **where):
    with app.app_context():
        stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return [(e.action, e.actor_id, json.loads(e.before or "null"), json.loads(e.after or "null"))
                for e in db.session.scalars(stmt)]


def test_every_proposal_change_is_recorded_with_before_and_after(app, world, make_proposal):
    pid = make_proposal()
    with app.app_context():
        staff = db.session.get(User, world.staff[0])
        proposals.transition(proposals.get(pid), "under_review", staff)
        proposals.transition(proposals.get(pid), "rejected", staff, reason="duplicate", note="Trùng")
    log = entries(app, entity_type="proposal", entity_id=pid)
    assert [a for a, *_ in log] == ["proposal.create", "proposal.under_review", "proposal.rejected"]
    assert log[0][1] is None and log[0][3]["source"] == "engine"          # the engine: no person
    assert log[2][1] == world.staff[0]
    assert log[2][2]["state"] == "under_review"
    # the reviewer's note is the decision's, kept apart from the proposer's own note
    assert (log[2][3]["state"], log[2][3]["reject_reason"], log[2][3]["decision_note"]) == (
        "rejected", "duplicate", "Trùng")


def test_submission_status_changes_are_recorded(client, auth, app, make_user, submit):
    owner, email = make_user("innovator")
    idea = submit("ideas", owner, publish=False)
    auth.login(email)
    client.post(f"/ideas/{idea}/publish")
    client.post(f"/ideas/{idea}/withdraw")
    log = entries(app, entity_type="idea", entity_id=idea)
    assert [(a, actor, b, c) for a, actor, b, c in log] == [
        ("idea.create", owner, None, {"status": "draft"}),
        ("idea.publish", owner, {"status": "draft"}, {"status": "published"}),
        ("idea.withdraw", owner, {"status": "published"}, {"status": "withdrawn"}),
    ]
    need = submit("needs", make_user("business")[0])
    assert entries(app, entity_type="need", entity_id=need)[0][3] == {"status": "published"}


def test_role_and_active_changes_are_recorded(client, auth, app, make_user):
    admin, email = make_user("admin")
    person, _ = make_user("innovator")
    auth.login(email)
    client.post(f"/admin/users/{person}", data={"role": "staff", "active": "y"})
    client.post(f"/admin/users/{person}", data={"role": "staff", "active": "y"})  # no change: no entry
    client.post(f"/admin/users/{person}", data={"role": "staff"})                 # deactivated
    assert entries(app, entity_type="user") == [
        ("user.access", admin, {"role": "innovator", "active": True}, {"role": "staff", "active": True}),
        ("user.access", admin, {"role": "staff", "active": True}, {"role": "staff", "active": False}),
    ]


def test_setting_changes_are_recorded(client, auth, app, make_user):
    admin, email = make_user("admin")
    auth.login(email)
    with app.app_context():
        place = db.session.scalar(sa.select(Place).order_by(Place.id))
        sector = db.session.scalar(sa.select(Sector).order_by(Sector.id))
        place_id, old_name, sector_id = place.id, place.name, sector.id
        form = {"code": place.code, "name": "Xã Mới", "kind": place.kind, "former_district": place.former_district}
    client.post(f"/admin/places/{place_id}", data=form)
    client.post("/admin/places", data={**form, "code": "xa-thu-nghiem", "name": "Xã Thử Nghiệm"})
    client.post(f"/admin/sectors/{sector_id}", data={"name_vi": "Lĩnh vực mới", "name_en": "New sector"})
    places = entries(app, entity_type="place")
    assert [(a, actor) for a, actor, *_ in places] == [("place.update", admin), ("place.create", admin)]
    assert places[0][2]["name"] == old_name and places[0][3]["name"] == "Xã Mới"
    assert places[1][2] is None and places[1][3]["code"] == "xa-thu-nghiem"
    sectors = entries(app, entity_type="sector")
    assert sectors[0][0] == "sector.update" and sectors[0][3] == {"name_vi": "Lĩnh vực mới", "name_en": "New sector"}


def test_the_log_refuses_update_and_delete(app, world, make_proposal):
    make_proposal()
    with app.app_context():
        proposal_entry = sa.select(AuditEntry).where(AuditEntry.entity_type == "proposal")
        entry = db.session.scalar(proposal_entry)
        entry.action = "proposal.forged"
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalar(proposal_entry))
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(proposal_entry).action == "proposal.create"


def test_a_change_that_fails_leaves_no_entry(app, world, make_proposal):
    pid = make_proposal("closed")
    with app.app_context():
        with pytest.raises(ConflictError):  # no longer possible from "closed"
            proposals.transition(proposals.get(pid), "approved", db.session.get(User, world.staff[0]))
        db.session.rollback()
    assert len(entries(app, entity_type="proposal", entity_id=pid)) == 1


def test_the_audit_page_is_for_staff_and_filters(client, auth, app, world, make_proposal):
    pid = make_proposal()
    with app.app_context():
        proposals.transition(proposals.get(pid), "under_review", db.session.get(User, world.staff2[0]))
    assert client.get("/audit").status_code == 302
    for outsider in (world.innovator, world.business):
        auth.login(outsider[1])
        assert client.get("/audit").status_code == 403
        auth.logout()
    auth.login(world.staff[1])
    page = client.get("/audit").get_data(as_text=True)
    assert page.index("proposal.under_review") < page.index("proposal.create") < page.index("idea.create")
    assert "proposed → under_review" in page
    only = client.get("/audit?entity_type=proposal&actor=canbo2@so.vn").get_data(as_text=True)
    assert "proposal.under_review" in only and "proposal.create" not in only and "idea.create" not in only
    assert "idea.create" not in client.get("/audit?action=proposal").get_data(as_text=True)
    today = date.today()
    later = client.get(f"/audit?date_from={today + timedelta(days=2)}").get_data(as_text=True)
    assert "proposal.create" not in later
    around = client.get(f"/audit?date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}")
    assert "proposal.create" in around.get_data(as_text=True)
    assert client.get("/audit?date_from=not-a-date").status_code == 422
    assert client.get(f"/audit?date_from={today}&date_to={today - timedelta(days=3)}").status_code == 422


def _log_at(app, *moments):
    """One entry per (action, naive UTC time)."""
    from datetime import datetime
    with app.app_context():
        for action, (y, mo, d, h, mi) in moments:
            db.session.add(AuditEntry(action=action, entity_type="setting", created_at=datetime(y, mo, d, h, mi)))
        db.session.commit()


@pytest.mark.parametrize("page", ["/audit?date_from={a}&date_to={b}", "/reports/audit.csv?from={a}&to={b}"])
def test_from_and_to_are_days_in_the_provinces_time_zone(client, app, login_as, page):
    """23:30 on 29/11 in Lào Cai is 16:30 UTC the same day; 00:30 on 30/11 there is 17:30 UTC on 29/11.
    A staff member asking for 29/11 means the first, not the second; for 30/11, the second."""
    _log_at(app, ("x.before_midnight", (2026, 11, 29, 16, 30)), ("x.after_midnight", (2026, 11, 29, 17, 30)),
            ("x.first_minute", (2026, 11, 28, 17, 0)), ("x.last_evening", (2026, 11, 28, 16, 59)))
    login_as("staff")

    def actions(a, b):
        text = client.get(page.format(a=a, b=b)).get_data(as_text=True)
        return {name for name in ("x.before_midnight", "x.after_midnight", "x.first_minute", "x.last_evening")
                if name in text}
    assert actions("2026-11-29", "2026-11-29") == {"x.before_midnight", "x.first_minute"}
    assert actions("2026-11-30", "2026-11-30") == {"x.after_midnight"}
    assert actions("2026-11-28", "2026-11-28") == {"x.last_evening"}


def test_the_log_page_downloads_what_it_shows_and_a_bad_range_is_refused_with_its_message(client, app, login_as):
    """The download reads the page's own filters (and its first names, from/to): a range the form
    refuses answers the log page with the form's message (422), never a file of every entry."""
    _log_at(app, ("x.in_range", (2026, 11, 29, 3, 0)), ("x.outside", (2026, 11, 20, 3, 0)))
    login_as("staff")
    page = client.get("/audit?date_from=2026-11-29&date_to=2026-11-29").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="audit-download"', page).group(1).replace("&amp;", "&")
    assert "date_from=2026-11-29" in link and "date_to=2026-11-29" in link
    download = client.get(link)
    assert download.status_code == 200
    assert "audit-2026-11-29-to-2026-11-29" in download.headers["Content-Disposition"]
    text = client.get(link.replace(".xlsx", ".csv")).get_data(as_text=True)
    assert "x.in_range" in text and "x.outside" not in text
    refused = client.get("/reports/audit.csv?date_from=2026-12-31&date_to=2026-01-01")
    assert refused.status_code == 422 and "text/html" in refused.headers["Content-Type"]
    assert "Ngày kết thúc không được sớm hơn ngày bắt đầu." in refused.get_data(as_text=True)
