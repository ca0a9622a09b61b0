"""Alerts: a new need that fits an idea tells its author in app and in the next daily digest, in their
language; following sectors and former districts; the digest's opt-out, its once-a-day rule, and
confidential needs kept out of other people's digests."""
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import Notification, OutgoingMail, Place, User
from models.people import utcnow
from services import alerts
from services import match_index as match_index_module
from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, ROAD_NEED
from tests.app.test_notifications import mails_to, outbox


@pytest.fixture(autouse=True)
def public_url(app):
    app.config["PUBLIC_URL"] = "https://ketnoi.example.vn"


def _alerts_of(app, user_id) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user_id, Notification.kind == alerts.ALERT_KIND)))


def _send(app, now=None) -> int:
    with app.app_context():
        return alerts.send_digests(now)


@pytest.fixture
def innovator(make_user, submit):
    """An innovator who reads English, with the dryer idea published: (user id, e-mail, idea id)."""
    user_id, email = make_user("innovator", preferred_language="en")
    return user_id, email, submit("ideas", user_id, **DRYER_IDEA)


def test_a_fitting_need_alerts_the_idea_author_in_app_and_in_the_digest_in_their_language(
        app, client, auth, make_user, submit, innovator):
    user_id, email, idea = innovator
    with app.app_context():  # the need's sector too: it comes once, as the alert
        alerts.follow(db.session.get(User, user_id), "sector", "agriculture_highland")
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    need = submit("needs", business, **DRYER_NEED)
    submit("needs", business, **ROAD_NEED)  # fits nothing: no alert
    notes = _alerts_of(app, user_id)
    assert [n.link for n in notes] == [f"/ideas/{idea}#match-needs-{need}"]
    assert not _alerts_of(app, business)  # the one who published is not alerted
    # the link opens the idea at the match and its reasons
    auth.login(email)
    page = client.get(f"/ideas/{idea}").get_data(as_text=True)
    assert f'id="match-needs-{need}"' in page
    assert "Newly published and a good fit for your" in client.get("/notifications").get_data(as_text=True)

    assert _send(app) == 1
    [digest] = mails_to(app, email)
    assert digest["Subject"].startswith("Lào Cai Innovation Match: what is new for you")
    body = digest.get_content()
    assert f"/ideas/{idea}#match-needs-{need}" in body
    assert body.count(DRYER_NEED["title"]) == 1 and ("Strong fit ·" in body or "Good fit ·" in body)
    assert "https://ketnoi.example.vn/auth/profile#digest" in body
    assert ROAD_NEED["title"] not in body


def test_a_possible_fit_alerts_nobody(app, make_user, submit, innovator, monkeypatch):
    real = match_index_module.rerank
    monkeypatch.setattr(match_index_module, "rerank",
                        lambda *args, **kwargs: [replace(m, band="possible") for m in real(*args, **kwargs)])
    business, _ = make_user("business")
    submit("needs", business, **DRYER_NEED)
    assert not _alerts_of(app, innovator[0])
    assert _send(app) == 0


def test_the_digest_opt_out_in_the_profile_stops_the_emails_not_the_alerts(
        app, client, auth, make_user, submit, innovator):
    user_id, email, _ = innovator
    auth.login(email)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert 'name="digest_emails"' in page and 'id="digest"' in page
    response = client.post("/auth/profile", data={"full_name": "Mai", "preferred_language": "en",
                                                  "email_notifications": "y"})  # digest box left unticked
    assert response.status_code == 302
    business, _ = make_user("business")
    submit("needs", business, **DRYER_NEED)
    assert _alerts_of(app, user_id)
    assert _send(app) == 0 and not outbox(app)
    with app.app_context():
        assert db.session.get(User, user_id).digest_emails is False


def test_following_a_sector_and_a_district_brings_what_is_new_there(app, client, auth, make_user, submit):
    follower, email = make_user("innovator")
    business, _ = make_user("business")
    submit("needs", business, title="Nhu cầu đăng trước khi theo dõi", sector_codes=["digital_transformation"])
    auth.login(email)
    with app.app_context():
        place = db.session.scalars(sa.select(Place).order_by(Place.id)).first()
        place_code, district = place.code, place.former_district
    assert client.post("/auth/profile/follows", data={"topic": "sector:digital_transformation"}).status_code == 302
    assert client.post("/auth/profile/follows", data={"topic": f"district:{district}"}).status_code == 302
    assert client.post("/auth/profile/follows", data={"topic": "district:Nowhere"}).status_code == 422
    page = client.get("/auth/profile").get_data(as_text=True)
    assert district in page and page.count('class="d-flex justify-content-between align-items-center gap-2 '
                                           'border-bottom py-1 follow"') == 2
    staff, _ = make_user("staff")
    submit("needs", business, **ROAD_NEED, organisation="Nhà xe Sao Việt")     # the followed sector
    submit("orders", staff, title="Đặt hàng về nước sạch", sector_codes=["energy"], place_code=place_code)
    submit("needs", business, title="Cần máy sấy", sector_codes=["energy"])     # neither: not in the digest
    submit("ideas", follower, title="Ý tưởng của tôi", sector_codes=["digital_transformation"])  # their own

    _send(app)
    [digest] = mails_to(app, email)
    body = digest.get_content()
    assert "Lĩnh vực: " in body and f"Huyện cũ: {district}" in body
    assert ROAD_NEED["title"] in body and "Nhà xe Sao Việt" in body and "Đặt hàng về nước sạch" in body
    assert "Cần máy sấy" not in body and "Ý tưởng của tôi" not in body and "trước khi theo dõi" not in body

    # unfollowed: a need in the sector no longer comes the next day (an alert may: the idea fits it)
    with app.app_context():
        ids = [item.id for item in alerts.follows_of(db.session.get(User, follower))]
    for follow_id in ids:
        assert client.post(f"/auth/profile/follows/{follow_id}/delete").status_code == 302
    assert "Stop following" not in client.get("/auth/profile").get_data(as_text=True)
    submit("needs", business, title="Một nhu cầu mới", sector_codes=["digital_transformation"])
    _send(app, utcnow() + timedelta(days=1))
    # only the first digest (above) has the section: the outbox's file names do not order mails sent in one second
    assert sum("Bài mới đăng trong mục bạn theo dõi" in m.get_content() for m in mails_to(app, email)) == 1


def test_nothing_new_sends_nothing_and_one_digest_a_day_at_most(app, make_user, submit):
    follower, email = make_user("innovator")
    with app.app_context():
        alerts.follow(db.session.get(User, follower), "sector", "energy")
    assert _send(app) == 0 and not outbox(app)
    business, _ = make_user("business")
    submit("needs", business, title="Lò đốt trấu", sector_codes=["energy"])
    assert _send(app) == 1
    submit("needs", business, title="Điện mặt trời áp mái", sector_codes=["energy"])
    assert _send(app) == 0                       # the same day: waits for tomorrow
    assert _send(app, utcnow() + timedelta(days=1)) == 1
    with app.app_context():  # in the order they were made (the outbox's files may share a second)
        first, second = db.session.scalars(sa.select(OutgoingMail.body).where(OutgoingMail.recipient == email)
                                           .order_by(OutgoingMail.id))
    assert "Lò đốt trấu" in first and "Điện mặt trời áp mái" not in first
    assert "Điện mặt trời áp mái" in second and "Lò đốt trấu" not in second


def test_a_confidential_need_keeps_its_details_out_of_other_peoples_digests(app, make_user, submit, innovator):
    follower, email = make_user("innovator")
    with app.app_context():
        alerts.follow(db.session.get(User, follower), "sector", "agriculture_highland")
    business, _ = make_user("business", organisation="Công ty Quế Bí Mật")
    secret = dict(DRYER_NEED, organisation="Công ty Quế Bí Mật", confidential=True)
    submit("needs", business, **secret)
    assert not _alerts_of(app, innovator[0])   # its band against an idea would tell of its text
    _send(app)
    for mail in outbox(app):
        body = mail.get_content()
        assert "Công ty Quế Bí Mật" not in body and DRYER_NEED["problem"] not in body
    body = mails_to(app, email)[0].get_content()
    assert DRYER_NEED["title"] in body and "Doanh nghiệp (bảo mật)" in body
