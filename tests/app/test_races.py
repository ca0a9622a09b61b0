"""Two people acting on one thing, made deterministic: someone else's change lands between this
request reading the row and writing it. The request is refused whole (409 for the API, a message
and a redirect on pages), nothing of it is kept, and the other person's change stands. The real
parallel races run against gunicorn on PostgreSQL in tests/faults/test_concurrency.py."""
import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from extensions import db
from models import AuditEntry, MatchProposal, Notification, User
from services import proposals, submissions, tokens
from services.submission_types import IDEA
from tests.app._proposal_world import make_proposal, world  # noqa: F401  (fixtures)


def someone_else_rejects(proposal_id: int) -> None:
    """Another reviewer's request, committed on its own connection."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(MatchProposal).where(MatchProposal.id == proposal_id).values(
            state="rejected", reject_reason="duplicate", version=MatchProposal.version + 1))


@pytest.fixture
def read_then_overtaken(monkeypatch):
    """proposals.get() returns the proposal as read, after which another reviewer rejects it."""
    read = proposals.get

    def get(proposal_id):
        found = read(proposal_id)
        if found is not None:
            someone_else_rejects(proposal_id)
        return found
    monkeypatch.setattr(proposals, "get", get)


def side_effects(proposal_id: int) -> dict:
    return {"decisions": db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.entity_id == proposal_id, AuditEntry.action.in_(["proposal.approved", "proposal.rejected"]))),
        "introductions": db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
            Notification.kind == "introduction"))}


def test_a_decision_on_a_proposal_someone_else_just_decided_is_refused_whole(app, world, make_proposal):
    pid = make_proposal("under_review")
    with app.app_context():
        seen = make_proposal.get(pid)  # this reviewer has read it
        someone_else_rejects(pid)
        with pytest.raises(StaleDataError):
            proposals.transition(seen, "approved", db.session.get(User, world.staff[0]))
        db.session.rollback()
        proposal = make_proposal.get(pid)
        assert (proposal.state, proposal.reject_reason, proposal.introduced_at) == ("rejected", "duplicate", None)
        assert side_effects(pid) == {"decisions": 0, "introductions": 0}  # no audit entry, nobody introduced


def test_the_api_answers_409_in_the_callers_language(app, client, world, make_proposal, read_then_overtaken):
    pid = make_proposal("under_review")
    with app.app_context():  # staff2 reads English
        _, secret = tokens.create(db.session.get(User, world.staff2[0]), "race")
    response = client.post(f"/api/v1/proposals/{pid}/transitions", json={"to": "approved"},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "/api/problems/changed-meanwhile"
    assert body["detail"].startswith("Someone else changed this at the same moment")
    with app.app_context():
        assert make_proposal.get(pid).state == "rejected" and side_effects(pid)["introductions"] == 0


def test_a_page_says_so_and_goes_back(app, client, auth, world, make_proposal, read_then_overtaken):
    pid = make_proposal("under_review")
    auth.login(world.staff[1])
    response = client.post(f"/review/{pid}/transition", data={"to": "approved"},
                           headers={"Referer": f"http://localhost/review/{pid}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/review/{pid}"
    page = client.get(f"/review/{pid}").get_data(as_text=True)
    assert "Ai đó vừa thay đổi mục này" in page  # Vietnamese first
    with app.app_context():
        assert make_proposal.get(pid).state == "rejected" and side_effects(pid)["decisions"] == 0


def test_a_move_from_a_state_that_changed_is_a_conflict(app, client, world, make_proposal):
    pid = make_proposal("approved")
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, world.staff2[0]), "race")
    response = client.post(f"/api/v1/proposals/{pid}/transitions", json={"to": "rejected", "reason": "off_topic"},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 409 and response.get_json()["type"] == "/api/problems/wrong-state"
    assert response.get_json()["detail"].startswith("Someone else has just moved this proposal: it is now “")


def test_publishing_twice_or_withdrawing_a_draft_is_a_conflict(app, client, make_user, submit):
    owner, _ = make_user("innovator", preferred_language="en")
    idea = submit("ideas", owner)
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, owner), "tabs")
    headers = {"Authorization": f"Bearer {secret}"}
    again = client.post(f"/api/v1/ideas/{idea}/publish", headers=headers)
    assert again.status_code == 409 and again.get_json()["detail"] == "This is already published."
    assert client.post(f"/api/v1/ideas/{idea}/withdraw", headers=headers).status_code == 200
    assert client.post(f"/api/v1/ideas/{idea}/withdraw", headers=headers).status_code == 409
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.entity_type == "idea", AuditEntry.entity_id == idea).order_by(AuditEntry.id)).all()
        assert entries == ["idea.create", "idea.withdraw"]  # one entry per change that happened
        item = submissions.get(IDEA, idea)
        assert item.status == "withdrawn"
