"""Notifications: in-app rows and the bell, e-mails in the outbox in each recipient's language, opting out."""
from email import message_from_bytes, policy
from pathlib import Path

import sqlalchemy as sa

from extensions import db
from models import Notification, User
from services import notifications, proposals
from tests.app._proposal_world import make_proposal, world  # noqa: F401  (fixtures)


def outbox(app) -> list:
    folder = Path(app.config["OUTBOX_DIR"])
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))] \
        if folder.exists() else []


def mails_to(app, email) -> list:
    return [m for m in outbox(app) if m["To"] == email]


def test_interest_notifies_every_staff_member_in_app_and_by_mail_in_their_language(client, auth, app, world):
    auth.login(world.business[1])
    assert client.post(f"/ideas/{world.idea}/interest", data={"own": world.need}).status_code == 302
    with app.app_context():
        rows = db.session.scalars(sa.select(Notification).where(Notification.kind == "interest_new")).all()
        assert {r.user_id for r in rows} == {world.staff[0], world.staff2[0], world.admin[0]}
    vi = mails_to(app, world.staff[1])        # staff prefers Vietnamese (the default)
    en = mails_to(app, world.staff2[1])       # staff2 prefers English
    assert len(vi) == 1 and len(en) == 1
    assert vi[0]["Subject"].startswith("Kết nối Đổi mới sáng tạo Lào Cai")
    assert en[0]["Subject"].startswith("Lào Cai Innovation Match")
    body = en[0].get_content()
    assert "Máy sấy quế dùng năng lượng mặt trời" in body and "/review/" in body
    assert not mails_to(app, world.business[1])  # the one who acted is not e-mailed about it


def test_the_bell_counts_unread_and_the_list_marks_them_read(client, auth, app, world, make_proposal):
    pid = make_proposal("under_review")
    with app.app_context():
        proposals.transition(proposals.get(pid), "approved", db.session.get(User, world.staff[0]))
    auth.login(world.innovator[1])
    page = client.get("/").get_data(as_text=True)
    assert 'class="badge rounded-pill text-bg-warning unread-count">1<' in page
    listing = client.get("/notifications").get_data(as_text=True)
    assert "Máy sấy quế dùng năng lượng mặt trời" in listing and "/matches" in listing
    with app.app_context():
        note_id = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == world.innovator[0]))
        others = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == world.business[0]))
    assert client.post("/notifications/read", data={"id": others}).status_code == 302  # not theirs: ignored
    with app.app_context():
        assert db.session.get(Notification, others).read_at is None
    client.post("/notifications/read", data={"id": note_id})
    assert "unread-count" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert notifications.unread_count(db.session.get(User, world.innovator[0])) == 0


def test_approval_introduces_both_parties_and_tells_the_author(app, world, make_proposal):
    pid = make_proposal("under_review", source="interest", by=world.business[0])
    with app.app_context():
        proposals.transition(proposals.get(pid), "approved", db.session.get(User, world.staff[0]))
        kinds = {(n.user_id, n.kind) for n in db.session.scalars(sa.select(Notification))}
    assert kinds == {(world.innovator[0], "introduction"), (world.business[0], "introduction")}
    assert len(mails_to(app, world.innovator[1])) == 1 and len(mails_to(app, world.business[1])) == 1


def test_a_rejection_tells_the_author_of_the_interest(app, world, make_proposal):
    pid = make_proposal("under_review", source="interest", by=world.business[0])
    with app.app_context():
        proposals.transition(proposals.get(pid), "rejected", db.session.get(User, world.staff[0]),
                             reason="stage_mismatch")
        kinds = {(n.user_id, n.kind) for n in db.session.scalars(sa.select(Notification))}
    assert kinds == {(world.business[0], "proposal_rejected")}  # the innovator never saw it pending


def test_switching_email_off_keeps_the_bell_but_sends_nothing(client, auth, app, world, make_proposal):
    auth.login(world.innovator[1])
    profile = {"full_name": "Mai", "organisation": "Trường Cao đẳng Lào Cai", "place": "", "phone": "",
               "preferred_language": "vi", "innovator_type": "student"}  # the checkbox left unticked
    assert client.post("/auth/profile", data=profile).status_code == 302
    with app.app_context():
        assert db.session.get(User, world.innovator[0]).email_notifications is False
    pid = make_proposal("under_review")
    with app.app_context():
        proposals.transition(proposals.get(pid), "approved", db.session.get(User, world.staff[0]))
        assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == world.innovator[0])) == 1
    assert mails_to(app, world.innovator[1]) == []
    assert len(mails_to(app, world.business[1])) == 1
    client.post("/auth/profile", data={**profile, "email_notifications": "y"})
    with app.app_context():
        assert db.session.get(User, world.innovator[0]).email_notifications is True


def test_each_notification_opens_the_page_it_is_about(app, world):
    about = {"idea": "A", "target": "B", "proposal": 7}
    with app.app_context():
        staff, innovator = db.session.get(User, world.staff[0]), db.session.get(User, world.innovator[0])
        assert notifications.link_for("proposal_new", about, staff) == "/review/7"
        assert notifications.link_for("proposal_approved", about, staff) == "/review/7"
        assert notifications.link_for("proposal_approved", about, innovator) == "/matches"
        assert notifications.link_for("introduction", about, staff) == "/matches"  # the contacts are there
        assert notifications.link_for("proposals_new_batch", {"count": 3}, staff) == "/review/"


def test_a_rolled_back_change_sends_no_mail(app, world):
    with app.app_context():
        notifications.notify(db.session.get(User, world.innovator[0]), "proposal_approved",
                             {"idea": "A", "target": "B"})
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
        db.session.commit()
    assert outbox(app) == []


def test_smtp_is_used_when_configured_and_a_failure_is_only_logged(app, world, monkeypatch, caplog):
    from services import mail
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, msg):
            sent.append(("send", msg["To"], msg["Subject"]))

    with app.app_context():
        app.config.update(MAIL_SERVER="smtp.example.vn", MAIL_PORT=2525, MAIL_USERNAME="u", MAIL_USE_TLS=True)
        monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
        mail.queue("a@example.vn", "Chủ đề", "Nội dung")
        db.session.commit()  # sent by the job after the commit (JOBS_SYNC: right away)
        assert sent == [("connect", "smtp.example.vn", 2525), ("starttls",), ("login", "u"),
                        ("send", "a@example.vn", "Chủ đề")]

        def broken(*args, **kwargs):
            raise OSError("connection refused")
        monkeypatch.setattr(mail.smtplib, "SMTP", broken)
        kept = mail.queue("a@example.vn", "Chủ đề", "Nội dung")
        db.session.commit()
        assert "not sent" in caplog.text
        db.session.refresh(kept)
        assert (kept.status, kept.attempts, kept.last_error) == ("queued", 1, "OSError: connection refused")
    assert outbox(app) == []


def test_a_mail_failure_does_not_break_the_request(client, auth, app, world, monkeypatch):
    from services import mail
    monkeypatch.setattr(mail.smtplib, "SMTP", lambda *a, **k: (_ for _ in ()).throw(OSError("down")))
    app.config.update(MAIL_SERVER="smtp.example.vn")
    auth.login(world.business[1])
    assert client.post(f"/ideas/{world.idea}/interest", data={"own": world.need}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 3


def test_the_notification_pages_need_an_account(client):
    assert client.get("/notifications").status_code == 302
    assert client.post("/notifications/read").status_code == 302


# --- e-mails that cannot be sent: retried with backoff, shown to staff; headers on one line ----------

def _mails(app):
    from models import OutgoingMail
    with app.app_context():
        return [(m.recipient, m.status, m.attempts) for m in db.session.scalars(sa.select(OutgoingMail))]


def test_a_line_break_in_a_name_or_a_title_never_reaches_a_header(client, auth, app, world):
    with app.app_context():
        business = db.session.get(User, world.business[0])
        business.full_name = "Công ty Chè\r\nBcc: everyone@example.vn"  # stored before names were cleaned
        db.session.commit()
    auth.login(world.business[1])
    assert client.post(f"/ideas/{world.idea}/interest", data={"own": world.need}).status_code == 302
    messages = mails_to(app, world.staff[1])
    assert len(messages) == 1 and messages[0]["Bcc"] is None
    assert "Công ty Chè Bcc: everyone@example.vn" in messages[0]["Subject"]  # folded onto the subject's one line
    assert {status for _, status, _ in _mails(app)} == {"sent"}


def test_a_name_typed_with_a_line_break_is_stored_on_one_line(client, app, login_as):
    user_id, _ = login_as("innovator")
    response = client.post("/auth/profile", data={"full_name": "Nguyễn\r\nVăn A", "preferred_language": "vi",
                                                  "innovator_type": "student"})
    assert response.status_code in (200, 302)
    with app.app_context():
        assert db.session.get(User, user_id).full_name == "Nguyễn Văn A"


def test_a_refused_mail_is_retried_with_backoff_then_shown_to_staff_who_send_it_again(
        client, app, world, monkeypatch, login_as):
    from models import OutgoingMail
    from services import mail
    monkeypatch.setattr(mail, "_transport", lambda msg: (_ for _ in ()).throw(OSError("server down")))
    with app.app_context():
        kept = mail.queue("ban@example.vn", "Giới thiệu", "Nội dung")
        db.session.commit()
        mail_id = kept.id
        for attempt in range(2, mail.MAX_ATTEMPTS + 1):  # what the scheduled retries do
            row = db.session.get(OutgoingMail, mail_id)
            assert row.status == "queued" and row.next_attempt_at is not None and row.attempts == attempt - 1
            db.session.expire_all()
            assert mail.deliver(mail_id) is False
        db.session.expire_all()
        row = db.session.get(OutgoingMail, mail_id)
        assert (row.status, row.attempts, row.last_error) == ("failed", mail.MAX_ATTEMPTS, "OSError: server down")

    login_as("staff")
    client.get("/lang/en")
    page = client.get("/mail/").get_data(as_text=True)
    assert "ban@example.vn" in page and "OSError: server down" in page and "Failed" in page
    assert client.get("/healthz").get_json()["mail_failed"] == 1

    monkeypatch.setattr(mail, "_transport", lambda msg: None)
    assert client.post(f"/mail/{mail_id}/send").status_code == 302
    assert ("ban@example.vn", "sent", 1) in _mails(app)
    assert "ban@example.vn" not in client.get("/mail/").get_data(as_text=True)


def test_an_email_whose_job_was_lost_is_sent_by_the_workers_maintenance(app):
    """Redis restarted without its data: an e-mail kept as "queued" has no job any more. The
    worker's maintenance queues it again once; one whose retry is still ahead is left alone."""
    from datetime import timedelta

    from models import OutgoingMail
    from models.people import utcnow
    from services import jobs, mail
    with app.app_context():
        lost = mail.queue("mat@example.vn", "Giới thiệu", "Nội dung")
        waiting = mail.queue("cho@example.vn", "Giới thiệu", "Nội dung")
        db.session.info.pop(mail.QUEUE_KEY)  # as if the jobs of the commit were lost with Redis
        db.session.commit()
        lost.next_attempt_at = utcnow() - timedelta(hours=1)
        waiting.next_attempt_at = utcnow() + timedelta(minutes=5)  # a scheduled retry
        db.session.commit()
        lost_id, waiting_id = lost.id, waiting.id
        assert jobs.recover(app) == [f"mail-{lost_id}"]
    with app.app_context():
        assert db.session.get(OutgoingMail, lost_id).status == "sent"
        assert db.session.get(OutgoingMail, waiting_id).status == "queued"
        assert jobs.recover(app) == []  # nothing queued twice
    assert [m["To"] for m in outbox(app)] == ["mat@example.vn"]


def test_the_mail_page_is_for_staff(client, login_as):
    login_as("innovator")
    assert client.get("/mail/").status_code == 403
