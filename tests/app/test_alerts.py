"""Alerts: a new need that fits an idea tells its author in app and in the next daily digest, in their
language; following sectors and former districts; the digest's opt-out, its once-a-day rule, and
confidential needs kept out of other people's digests."""
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

import config
from extensions import db
from models import Notification, OutgoingMail, Place, User
from models.people import utcnow
from services import alerts, jobs
from services import match_index as match_index_module
from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, ROAD_NEED
from tests.app.test_notifications import mails_to, outbox


@pytest.fixture(autouse=True)
def public_url(app):
    app.config["PUBLIC_URL"] = "https://ketnoi.example.vn"


def _alerts_of(app, user_id) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user_id, Notification.kind.in_(alerts.ALERT_KINDS))))


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


DRYER_ORDER = dict(title="Đặt hàng công nghệ sấy vỏ quế chủ động, không phụ thuộc thời tiết",
                   objectives="Nghiên cứu lò sấy vỏ quế cho hợp tác xã, chống mốc trong mùa mưa, giữ tinh dầu quế.",
                   main_content="Thiết kế, chế tạo và thử nghiệm lò sấy quế chi phí thấp dùng năng lượng mặt trời.",
                   expected_products="Một mẫu lò sấy vỏ quế hoạt động ổn định tại hợp tác xã.",
                   sector_codes=["agriculture_highland"])


def test_a_fitting_idea_alerts_the_authors_of_the_open_order_and_need_it_fits(
        app, client, auth, make_user, submit):
    staff, staff_email = make_user("staff", preferred_language="en")
    order = submit("orders", staff, **DRYER_ORDER)
    closed = submit("orders", staff, **{**DRYER_ORDER, "title": "Đặt hàng lò sấy quế (hết hạn)"})
    with app.app_context():
        from models import ResearchOrder
        db.session.get(ResearchOrder, closed).proposal_deadline = utcnow().date() - timedelta(days=2)
        db.session.commit()
    business, _ = make_user("business")
    need = submit("needs", business, **DRYER_NEED)
    innovator, _ = make_user("innovator")
    idea = submit("ideas", innovator, **DRYER_IDEA)

    [note] = _alerts_of(app, staff)  # the open order only: one past its deadline takes no proposals
    assert (note.kind, note.link) == (alerts.ORDER_ALERT_KIND, f"/orders/{order}#match-ideas-{idea}")
    assert [n.link for n in _alerts_of(app, business)] == [f"/needs/{need}#match-ideas-{idea}"]
    # the link opens the order at the match and its reasons; the words name the order, in each language
    auth.login(staff_email)
    page = client.get(f"/orders/{order}").get_data(as_text=True)
    assert f'id="match-ideas-{idea}"' in page
    assert (f"A newly published idea is a good fit for the research order “{DRYER_ORDER['title']}”: "
            f"“{DRYER_IDEA['title']}”.") in client.get("/notifications").get_data(as_text=True)
    client.get("/lang/vi")
    assert (f"Ý tưởng mới đăng phù hợp với đặt hàng nghiên cứu “{DRYER_ORDER['title']}”: "
            f"“{DRYER_IDEA['title']}”.") in client.get("/notifications").get_data(as_text=True)

    _send(app)
    [digest] = mails_to(app, staff_email)   # in the staff member's language (English)
    body = digest.get_content()
    assert f"https://ketnoi.example.vn/orders/{order}#match-ideas-{idea}" in body
    assert "A newly published idea is a good fit for the research order" in body
    assert "hết hạn" not in body


def test_next_digest_time_is_the_next_seven_oclock_on_the_provinces_clock():
    hanoi, seven = ZoneInfo("Asia/Ho_Chi_Minh"), time(7)   # UTC+7: 07:00 there is 00:00 UTC
    cases = [
        (datetime(2026, 11, 29, 16, 59), datetime(2026, 11, 30, 0, 0)),   # 23:59 on the 29th there
        (datetime(2026, 11, 29, 17, 0), datetime(2026, 11, 30, 0, 0)),    # midnight there: the same 07:00
        (datetime(2026, 11, 29, 23, 59), datetime(2026, 11, 30, 0, 0)),   # 06:59 on the 30th
        (datetime(2026, 11, 30, 0, 0), datetime(2026, 12, 1, 0, 0)),      # 07:00 itself: the next day's
        (datetime(2026, 11, 30, 0, 1), datetime(2026, 12, 1, 0, 0)),
        (datetime(2026, 12, 31, 12, 0), datetime(2027, 1, 1, 0, 0)),      # the year's last evening
    ]
    assert [alerts.next_digest_at(now, seven, hanoi) for now, _ in cases] == [due for _, due in cases]
    assert alerts.next_digest_at(datetime(2026, 11, 29, 20, 0), time(22, 30), hanoi) == datetime(2026, 11, 30, 15, 30)
    # a zone that changes its clock keeps the wall-clock time: 07:00 in Berlin before and after 29/3/2026
    berlin = ZoneInfo("Europe/Berlin")
    assert alerts.next_digest_at(datetime(2026, 3, 28, 12, 0), seven, berlin) == datetime(2026, 3, 29, 5, 0)
    assert alerts.next_digest_at(datetime(2026, 3, 27, 12, 0), seven, berlin) == datetime(2026, 3, 28, 6, 0)


def test_digest_time_is_read_from_the_environment_and_checked():
    assert config.from_env({})["DIGEST_TIME"] == time(7)
    assert config.from_env({"DIGEST_TIME": "6:30"})["DIGEST_TIME"] == time(6, 30)
    for wrong in ("7", "25:00", "07:00 sáng"):
        with pytest.raises(ValueError, match="DIGEST_TIME"):
            config.from_env({"DIGEST_TIME": wrong})


def _energy_follower_with_news(app, make_user, submit) -> str:
    follower, email = make_user("innovator")
    with app.app_context():
        alerts.follow(db.session.get(User, follower), "sector", "energy")
    business, _ = make_user("business")
    submit("needs", business, title="Lò đốt trấu", sector_codes=["energy"])
    return email


def test_the_daily_job_run_twice_on_one_day_sends_once(app, make_user, submit):
    email = _energy_follower_with_news(app, make_user, submit)
    with app.app_context():   # as the worker runs it: the task its schedule names, twice (a retry, a second worker)
        assert jobs.run("send_digests") == 1
        assert jobs.run("send_digests") == 0
    assert len(mails_to(app, email)) == 1


def test_two_runs_at_once_send_one_digest(app, make_user, submit, monkeypatch):
    """The command by hand while the worker's run is under way: the other run commits this person's
    digest after this one has read them and made theirs; this one then sends nothing."""
    email = _energy_follower_with_news(app, make_user, submit)
    made = alerts.digest_for

    def overtaken(user, since, until):
        digest = made(user, since, until)
        with db.engine.begin() as conn:   # the other run, on its own connection
            conn.execute(sa.update(User).where(User.id == user.id).values(digest_sent_at=utcnow()))
        return digest
    monkeypatch.setattr(alerts, "digest_for", overtaken)
    assert _send(app) == 0
    with app.app_context():
        assert not db.session.scalars(sa.select(OutgoingMail).where(OutgoingMail.recipient == email)).all()
    monkeypatch.setattr(alerts, "digest_for", made)
    assert _send(app, utcnow() + timedelta(days=1)) == 0   # the other run's covered it; nothing new since
