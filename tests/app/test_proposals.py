"""Match proposals: every move per role, privacy before and after the introduction, the conflict rule,
the engine never proposing a pair twice, and expressing interest."""
import json
import unicodedata
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import AuditEntry, Idea, MatchProposal, Notification, TechnologyNeed, User
from services import proposals
from services.errors import ServiceError
from services.proposals import ProposalError
from tests.app._proposal_world import STATES, make_proposal, world  # noqa: F401  (fixtures)

STAFF_ONLY = {"staff", "admin"}
STAFF_AND_PARTIES = {"staff", "admin", "idea_owner", "need_owner"}
# The only moves there are, and who may make them (written out here, not read from the code).
ALLOWED = {
    ("proposed", "under_review"): STAFF_ONLY,
    ("proposed", "rejected"): STAFF_ONLY,
    ("under_review", "approved"): STAFF_ONLY,
    ("under_review", "rejected"): STAFF_ONLY,
    ("approved", "in_discussion"): STAFF_AND_PARTIES,
    ("in_discussion", "agreement_signed"): STAFF_AND_PARTIES,
    ("in_discussion", "no_agreement"): STAFF_AND_PARTIES,
    ("agreement_signed", "closed"): STAFF_ONLY,
    ("no_agreement", "closed"): STAFF_ONLY,
}
ROLES = ["staff", "admin", "idea_owner", "need_owner", "outsider_innovator", "outsider_business"]
INTRODUCED = {"approved", "in_discussion", "agreement_signed", "no_agreement", "closed"}


def _user_of(world, role):
    return {"staff": world.staff, "admin": world.admin, "idea_owner": world.innovator,
            "need_owner": world.business, "outsider_innovator": world.outsider_innovator,
            "outsider_business": world.outsider_business}[role]


def _refused_for(role, to):
    """Why a move outside ALLOWED is refused: "wrong_state" when the role makes that move from some
    other state (a conflict: someone moved the proposal meanwhile), else "not_allowed"."""
    return "wrong_state" if any(t == to and role in who for (_, t), who in ALLOWED.items()) else "not_allowed"


def _audit_count(proposal_id):
    return db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.entity_type == "proposal", AuditEntry.entity_id == proposal_id))


@pytest.mark.parametrize("role", ROLES)
def test_every_move_of_every_state_for_each_role_in_the_service(app, world, make_proposal, role):
    pid = make_proposal()
    with app.app_context():
        user = db.session.get(User, _user_of(world, role)[0])
        for source in STATES:
            for to in STATES:
                proposal = make_proposal.get(pid)
                proposal.state = source
                db.session.commit()
                expected = role in ALLOWED.get((source, to), set())
                assert (to in proposals.allowed_transitions(proposal, user)) == expected, (source, to)
                entries = _audit_count(pid)
                if expected:
                    proposals.transition(proposal, to, user, reason="duplicate")
                    assert make_proposal.get(pid).state == to
                    assert _audit_count(pid) == entries + 1
                else:
                    with pytest.raises(ServiceError) as refused:
                        proposals.transition(proposal, to, user, reason="duplicate")
                    assert refused.value.code == _refused_for(role, to)
                    db.session.rollback()
                    assert make_proposal.get(pid).state == source  # nothing half-saved
                    assert _audit_count(pid) == entries


@pytest.mark.parametrize("role", ROLES)
def test_every_move_over_http_is_refused_unless_allowed(client, auth, app, world, make_proposal, role):
    """Allowed: a redirect and the new state. Not from this state: a redirect back with the reason.
    Forbidden: 403, or 404 when the viewer may not even see it."""
    pid = make_proposal()
    auth.login(_user_of(world, role)[1])
    for source in STATES:
        for to in STATES:
            with app.app_context():
                make_proposal.get(pid).state = source
                db.session.commit()
            response = client.post(f"/review/{pid}/transition", data={"to": to, "reason": "not_feasible"})
            allowed = role in ALLOWED.get((source, to), set())
            visible = role in STAFF_ONLY or (role in ("idea_owner", "need_owner") and source in INTRODUCED)
            expected = 302 if allowed else 404 if not visible else 302 if _refused_for(role, to) == "wrong_state" \
                else 403
            assert response.status_code == expected, (source, to)
            with app.app_context():
                assert make_proposal.get(pid).state == (to if allowed else source)


def test_a_refusal_says_why(client, auth, world, make_proposal):
    pid = make_proposal("approved")
    auth.login(world.innovator[1])
    response = client.post(f"/review/{pid}/transition", data={"to": "closed"})
    assert response.status_code == 403
    assert "not possible for this proposal" in response.get_data(as_text=True) \
        or "không" in response.get_data(as_text=True).lower()


def test_rejecting_needs_a_reason_and_other_needs_a_note(client, auth, app, world, make_proposal):
    pid = make_proposal("under_review")
    auth.login(world.staff[1])
    assert client.post(f"/review/{pid}/transition", data={"to": "rejected"}).status_code == 422
    assert client.post(f"/review/{pid}/transition", data={"to": "rejected", "reason": "bogus"}).status_code == 422
    page = client.post(f"/review/{pid}/transition", data={"to": "rejected", "reason": "other"})
    assert page.status_code == 422 and "invalid-feedback" in page.get_data(as_text=True)
    with app.app_context():
        assert make_proposal.get(pid).state == "under_review" and _audit_count(pid) == 1  # only its creation
        with pytest.raises(ProposalError) as refused:
            proposals.transition(make_proposal.get(pid), "rejected", db.session.get(User, world.staff[0]))
        assert refused.value.code == "reason_required"
    response = client.post(f"/review/{pid}/transition",
                           data={"to": "rejected", "reason": "other", "note": "Đã có hợp đồng với đơn vị khác."})
    assert response.status_code == 302
    with app.app_context():
        proposal = make_proposal.get(pid)
        assert (proposal.state, proposal.reject_reason) == ("rejected", "other")
        assert proposal.decision_note == "Đã có hợp đồng với đơn vị khác." and proposal.decided_at is not None


def test_timestamps_follow_the_life_of_a_proposal(app, world, make_proposal):
    pid = make_proposal()
    with app.app_context():
        staff = db.session.get(User, world.staff2[0])
        proposal = make_proposal.get(pid)
        proposals.transition(proposal, "under_review", staff)
        assert proposal.reviewer_id == staff.id and proposal.decided_at is None
        proposals.transition(proposal, "approved", staff)
        assert proposal.decided_at and proposal.introduced_at and proposal.closed_at is None
        for step in ("in_discussion", "agreement_signed", "closed"):
            proposals.transition(proposal, step, staff)
        assert proposal.closed_at is not None


# --- conflict of interest -----------------------------------------------------------

def test_a_conflicted_reviewer_cannot_decide_and_the_proposal_goes_to_another(client, auth, app, world,
                                                                               make_user, make_proposal):
    # Same organisation as the innovator's school, written differently: casefold and spaces do not matter.
    conflicted, email = make_user("staff", organisation="  trường cao đẳng  LÀO CAI ")
    busy = make_proposal("under_review", target="order")
    with app.app_context():  # staff2 already reviews one; the least loaded colleague is chosen
        make_proposal.get(busy).reviewer_id = world.staff2[0]
        db.session.commit()
    pid = make_proposal()
    auth.login(email)
    assert 'conflict-flag' in client.get("/review/").get_data(as_text=True)
    assert client.post(f"/review/{pid}/transition", data={"to": "under_review"}).status_code == 302
    with app.app_context():
        proposal = make_proposal.get(pid)
        assert proposal.reviewer_id not in (conflicted, None, world.staff2[0])
        reviewer = proposal.reviewer_id
        assert db.session.scalar(sa.select(Notification.id).where(
            Notification.user_id == reviewer, Notification.kind == "proposal_assigned")) is not None
        me = db.session.get(User, conflicted)
        assert proposals.has_conflict(proposal, me)
        assert "approved" not in proposals.allowed_transitions(proposal, me)
        with pytest.raises(ProposalError) as refused:
            proposals.transition(proposal, "approved", me)
        assert refused.value.code == "conflict_of_interest"
    page = client.get(f"/review/{pid}").get_data(as_text=True)
    assert 'data-to="approved"' not in page
    for to, extra in (("approved", {}), ("rejected", {"reason": "duplicate"})):
        response = client.post(f"/review/{pid}/transition", data={"to": to, **extra})
        assert response.status_code == 403
        assert "another reviewer" in response.get_data(as_text=True) or "khác" in response.get_data(as_text=True)
    with app.app_context():
        assert make_proposal.get(pid).state == "under_review"
        other = db.session.get(User, reviewer)
        proposals.transition(make_proposal.get(pid), "approved", other)
        assert make_proposal.get(pid).state == "approved"


@pytest.mark.parametrize("field, value", [("need_org", "HTX Quế Văn Yên"), ("need_owner_org", "htx quế văn yên"),
                                          ("ordering_body", "Sở Nông nghiệp và Môi trường"),
                                          # punctuation typed another way is the same organisation
                                          ("need_org", "HTX Quế – Văn Yên."), ("ordering_body", "Sở Nông-nghiệp, và Môi trường")])
def test_the_conflict_covers_every_organisation_of_the_pair(app, world, make_proposal, make_user, field, value):
    pid = make_proposal(target="order" if field == "ordering_body" else "need")
    staff_id, _ = make_user("staff", organisation=value)
    with app.app_context():
        assert proposals.has_conflict(make_proposal.get(pid), db.session.get(User, staff_id))
        assert not proposals.has_conflict(make_proposal.get(pid), db.session.get(User, world.staff2[0]))


def test_the_same_organisation_written_in_nfd_or_with_invisible_characters_is_a_conflict(client, auth, app, world,
                                                                                          make_user, make_proposal):
    pid = make_proposal("under_review")
    # the innovator's school as macOS types it (NFD), with a zero-width space and a no-break space
    written = unicodedata.normalize("NFD", "Trường\u200b Cao\u00a0đẳng Lào Cai")
    assert written != "Trường Cao đẳng Lào Cai"
    staff_id, email = make_user("staff", organisation=written)
    auth.login(email)
    assert client.post(f"/review/{pid}/transition", data={"to": "approved"}).status_code == 403
    with app.app_context():
        assert proposals.has_conflict(make_proposal.get(pid), db.session.get(User, staff_id))
        assert make_proposal.get(pid).state == "under_review" and _audit_count(pid) == 1


def test_clearing_ones_own_organisation_is_audited_and_does_not_clear_the_conflict(client, auth, app, world,
                                                                                   make_user, make_proposal):
    staff_id, email = make_user("staff", organisation="Trường Cao đẳng Lào Cai")
    pid = make_proposal("under_review")
    auth.login(email)
    profile = {"full_name": "Cán bộ Thử", "organisation": "", "place": "", "phone": "", "preferred_language": "vi",
               "email_notifications": "y", "digest_emails": "y"}
    assert client.post("/auth/profile", data=profile).status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.profile",
                                                              AuditEntry.entity_id == staff_id))
        assert entry.actor_id == staff_id
        assert (json.loads(entry.before), json.loads(entry.after)) == (
            {"organisation": "Trường Cao đẳng Lào Cai", "full_name": "Staff Test"},
            {"organisation": None, "full_name": "Cán bộ Thử"})
        assert db.session.get(User, staff_id).organisation is None
    # the proposal was made while they belonged to the school: still theirs to stay out of
    assert client.post(f"/review/{pid}/transition", data={"to": "approved"}).status_code == 403
    assert client.post(f"/review/{pid}/transition", data={"to": "rejected", "reason": "off_topic"}).status_code == 403
    with app.app_context():
        assert make_proposal.get(pid).state == "under_review"
    # a proposal made after they left is not
    later = make_proposal("under_review", target="order")
    assert client.post(f"/review/{later}/transition", data={"to": "approved"}).status_code == 302


def test_a_party_dropping_its_organisation_does_not_clear_the_conflict(app, world, make_user, make_proposal):
    pid = make_proposal("under_review")
    staff_id, _ = make_user("staff", organisation="trường cao đẳng lào cai")
    with app.app_context():
        db.session.get(Idea, world.idea).organisation = None
        db.session.get(User, world.innovator[0]).organisation = None
        db.session.commit()
        proposal = make_proposal.get(pid)
        assert "trường cao đẳng lào cai" in json.loads(proposal.party_organisations)  # as it was when made
        assert proposals.has_conflict(proposal, db.session.get(User, staff_id))


# --- privacy --------------------------------------------------------------------------

def test_parties_see_nothing_of_a_pending_engine_proposal(client, auth, world, make_proposal):
    pid = make_proposal("under_review")
    for who in (world.innovator, world.business):
        auth.login(who[1])
        assert client.get(f"/review/{pid}").status_code == 404
        assert "Cần lò sấy quế chủ động" not in client.get("/matches").get_data(as_text=True)
        assert client.get("/review/").status_code == 403


def test_contacts_only_after_approval_and_a_confidential_need_stays_anonymous(client, auth, app, world):
    auth.login(world.innovator[1])
    response = client.post(f"/needs/{world.secret_need}/interest", data={"own": world.idea, "note": "Chúng em quan tâm."})
    assert response.status_code == 302
    page = client.get("/matches").get_data(as_text=True)
    assert "Bài toán bảo quản quế bí mật" in page          # the title is public
    assert "HTX Quế Văn Yên" not in page and "htx@que.vn" not in page and "0987 654 321" not in page
    assert "introduction" not in page
    auth.logout()
    auth.login(world.business[1])
    assert "Bài toán bảo quản quế bí mật" not in client.get("/matches").get_data(as_text=True)
    with app.app_context():
        pid = db.session.scalar(sa.select(MatchProposal.id))
        staff = db.session.get(User, world.staff[0])
        proposals.transition(proposals.get(pid), "under_review", staff)
        proposals.transition(proposals.get(pid), "approved", staff)
    page = client.get("/matches").get_data(as_text=True)     # the business now sees the innovator
    assert "mai@truong.vn" in page and "0912 111 222" in page and "Trường Cao đẳng Lào Cai" in page
    auth.logout()
    auth.login(world.innovator[1])
    page = client.get("/matches").get_data(as_text=True)     # and the innovator the business
    assert "htx@que.vn" in page and "0987 654 321" in page and "HTX Quế Văn Yên" in page
    auth.logout()
    auth.login(world.outsider_innovator[1])
    assert "htx@que.vn" not in client.get("/matches").get_data(as_text=True)
    assert client.get(f"/review/{pid}").status_code == 404


def test_visible_proposals_per_role(app, world, make_proposal):
    pending = make_proposal("proposed")
    approved = make_proposal("approved", target="order")
    with app.app_context():
        def seen(user_id):
            return set(db.session.scalars(proposals.visible_proposals(db.session.get(User, user_id))))

        assert {p.id for p in seen(world.staff2[0])} == {pending, approved}
        assert {p.id for p in seen(world.innovator[0])} == {approved}
        assert {p.id for p in seen(world.business[0])} == set()        # the order is not theirs
        assert {p.id for p in seen(world.outsider_innovator[0])} == set()


# --- the engine ----------------------------------------------------------------------

def test_the_engine_never_proposes_a_pair_again_even_after_rejection(app, world, monkeypatch):
    from services import matchmaking

    def best(item, top_k=3, min_band="good"):
        if isinstance(item, Idea):
            return [(db.session.get(TechnologyNeed, world.need), "good", 2.0)]
        return [(db.session.get(Idea, world.idea), "good", 1.0)] if isinstance(item, TechnologyNeed) and item.id == world.need else []

    monkeypatch.setattr(matchmaking, "ranked_pairs", best)
    with app.app_context():
        assert proposals.propose_from_engine() == 1
        proposal = db.session.scalar(sa.select(MatchProposal))
        assert (proposal.source, proposal.state, proposal.band) == ("engine", "proposed", "good")
        staff = db.session.get(User, world.staff[0])
        proposals.transition(proposal, "rejected", staff, reason="off_topic")
        assert proposals.propose_from_engine() == 0
        assert db.session.scalar(sa.select(sa.func.count(MatchProposal.id))) == 1
        assert db.session.scalar(sa.select(MatchProposal.state)) == "rejected"
        idea, need = db.session.get(Idea, world.idea), db.session.get(TechnologyNeed, world.need)
        assert proposals.propose(idea, need, "staff", actor=staff) is None


def test_the_engine_skips_closed_needs(app, world, monkeypatch):
    from services import matchmaking
    with app.app_context():
        db.session.get(TechnologyNeed, world.need).deadline = date.today() - timedelta(days=1)
        db.session.commit()
    monkeypatch.setattr(matchmaking, "ranked_pairs", lambda item, top_k=3, min_band="good": [
        (db.session.get(TechnologyNeed, world.need), "good", 1.0)] if isinstance(item, Idea) else [])
    with app.app_context():
        assert proposals.propose_from_engine() == 0


def test_propose_matches_command_with_the_real_engine(runner, app, make_user, submit):
    from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, ROAD_NEED, UNRELATED_IDEAS
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator")
    make_user("staff")
    need = submit("needs", business, **DRYER_NEED)
    submit("needs", business, **ROAD_NEED)
    idea = submit("ideas", innovator, **DRYER_IDEA)
    for title, summary, sector in UNRELATED_IDEAS:
        submit("ideas", innovator, title=title, summary=summary, description=summary, sector_codes=[sector])
    result = runner.invoke(args=["propose-matches"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        pairs = {(p.idea_id, p.need_id) for p in db.session.scalars(sa.select(MatchProposal))}
        assert (idea, need) in pairs
        assert all(p.band in ("good", "strong") for p in db.session.scalars(sa.select(MatchProposal)))
        # staff are told of the batch (the authors were told of each fitting publish: alerts)
        staff_kinds = db.session.scalars(sa.select(Notification.kind).join(User, User.id == Notification.user_id)
                                         .where(User.role == "staff")).all()
        assert staff_kinds == ["proposals_new_batch"]
    again = runner.invoke(args=["propose-matches"])
    assert "0 new proposals" in again.output


# --- by hand and by interest -----------------------------------------------------------

def test_staff_propose_by_hand_and_a_pair_is_not_proposed_twice(client, auth, app, world):
    auth.login(world.staff[1])
    assert client.get("/review/new").status_code == 200
    data = {"idea": world.idea, "target": f"order:{world.order}", "note": "Phù hợp đặt hàng."}
    response = client.post("/review/new", data=data)
    assert response.status_code == 302
    again = client.post("/review/new", data=data)
    assert again.status_code == 422 and "already been proposed" in again.get_data(as_text=True) \
        or again.status_code == 422
    assert client.post("/review/new", data={"idea": world.idea, "target": "need:999999"}).status_code == 422
    with app.app_context():
        proposal = db.session.scalar(sa.select(MatchProposal))
        assert (proposal.source, proposal.created_by_id, proposal.order_id) == ("staff", world.staff[0], world.order)
    auth.logout()
    auth.login(world.innovator[1])
    assert client.get("/review/new").status_code == 403
    assert client.post("/review/new", data=data).status_code == 403


def test_a_business_expresses_interest_in_an_idea(client, auth, app, world):
    auth.login(world.business[1])
    page = client.get(f"/ideas/{world.idea}").get_data(as_text=True)
    assert f'action="/ideas/{world.idea}/interest"' in page
    response = client.post(f"/ideas/{world.idea}/interest", data={"own": world.need, "note": "Rất quan tâm"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/matches")
    with app.app_context():
        proposal = db.session.scalar(sa.select(MatchProposal))
        assert (proposal.source, proposal.state, proposal.need_id, proposal.created_by_id) == \
            ("interest", "proposed", world.need, world.business[0])
        kinds = set(db.session.scalars(sa.select(Notification.kind)))
        assert kinds == {"interest_new"}
    assert "Máy sấy quế dùng năng lượng mặt trời" in client.get("/matches").get_data(as_text=True)
    again = client.post(f"/ideas/{world.idea}/interest", data={"own": world.need})
    assert again.status_code == 422


def test_interest_is_refused_for_the_wrong_role_item_or_own_item(client, auth, app, world, submit):
    auth.login(world.business[1])
    # not one of theirs
    assert client.post(f"/ideas/{world.idea}/interest", data={"own": 999999}).status_code == 422
    assert f'/needs/{world.need}/interest' not in client.get(f"/needs/{world.need}").get_data(as_text=True)
    assert client.post(f"/needs/{world.need}/interest", data={"own": world.need}).status_code == 403
    auth.logout()
    auth.login(world.staff[1])
    assert client.post(f"/needs/{world.need}/interest", data={"own": world.order}).status_code == 403
    auth.logout()
    auth.login(world.outsider_business[1])  # no published need of their own
    assert client.post(f"/ideas/{world.idea}/interest", data={"own": world.need}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MatchProposal.id))) == 0
        user = db.session.get(User, world.business[0])
        draft = db.session.get(TechnologyNeed, submit("needs", world.business[0], publish=False))
        idea = db.session.get(Idea, world.idea)
        for own in (draft, db.session.get(TechnologyNeed, world.need)):
            if own.status != "published":
                with pytest.raises(ProposalError) as refused:
                    proposals.express_interest(user, idea, own=own)
                assert refused.value.code == "own_item_invalid"
        with pytest.raises(ProposalError) as refused:
            proposals.express_interest(db.session.get(User, world.innovator[0]), idea)
        assert refused.value.code == "not_allowed"


def test_an_innovator_expresses_interest_in_an_order_with_their_only_idea(app, world):
    with app.app_context():
        from models import ResearchOrder
        user = db.session.get(User, world.innovator[0])
        proposal = proposals.express_interest(user, db.session.get(ResearchOrder, world.order), "Em muốn tham gia")
        assert (proposal.idea_id, proposal.order_id, proposal.note) == (world.idea, world.order, "Em muốn tham gia")
        with pytest.raises(ProposalError) as refused:
            proposals.express_interest(user, db.session.get(ResearchOrder, world.order))
        assert refused.value.code == "exists"


def test_the_queue_filters_by_state_and_reviewer(client, auth, app, world, make_proposal):
    pending = make_proposal()
    done = make_proposal("approved", target="order")
    with app.app_context():
        make_proposal.get(done).reviewer_id = world.staff[0]
        db.session.commit()
    auth.login(world.staff[1])
    default = client.get("/review/").get_data(as_text=True)
    assert f'data-id="{pending}"' in default and f'data-id="{done}"' not in default
    approved = client.get("/review/?state=approved").get_data(as_text=True)
    assert f'data-id="{done}"' in approved and f'data-id="{pending}"' not in approved
    mine = client.get("/review/?state=all&mine=1").get_data(as_text=True)
    assert f'data-id="{done}"' in mine and f'data-id="{pending}"' not in mine
    detail = client.get(f"/review/{pending}").get_data(as_text=True)
    assert "Máy sấy quế dùng năng lượng mặt trời" in detail and "htx@que.vn" in detail
    assert 'data-to="under_review"' in detail and 'data-to="rejected"' in detail
    assert client.get("/review/999999").status_code == 404


def test_a_rejection_note_does_not_overwrite_the_innovators_own_note(client, auth, app, world):
    auth.login(world.innovator[1])
    assert client.post(f"/needs/{world.need}/interest",
                       data={"own": world.idea, "note": "Nhóm em đã thử nghiệm ở Bắc Hà."}).status_code == 302
    auth.logout()
    auth.login(world.staff[1])
    with app.app_context():
        pid = db.session.scalar(sa.select(MatchProposal.id))
        proposals.transition(proposals.get(pid), "under_review", db.session.get(User, world.staff[0]))
    assert client.post(f"/review/{pid}/transition", data={"to": "rejected", "reason": "other",
                                                          "note": "Chưa đủ số liệu."}).status_code == 302
    page = client.get(f"/review/{pid}").get_data(as_text=True)
    assert "Nhóm em đã thử nghiệm ở Bắc Hà." in page and "Chưa đủ số liệu." in page
    with app.app_context():
        proposal = proposals.get(pid)
        assert (proposal.note, proposal.decision_note) == ("Nhóm em đã thử nghiệm ở Bắc Hà.", "Chưa đủ số liệu.")


# --- an idea imported for an author without an account (held by the staff member who imported it) ---

def test_an_introduction_of_an_idea_held_for_its_author_goes_through_its_holder(client, auth, app, world,
                                                                                submit):
    holder_id, holder_email = world.staff2
    held = submit("ideas", holder_id, title="Bếp sấy quế của nhóm học sinh", organisation="Trường THCS Bắc Hà")
    with app.app_context():
        idea = db.session.get(Idea, held)
        idea.author_name = "Lò Thị Sua"
        need = db.session.get(TechnologyNeed, world.need)
        assert idea.held_for_author and idea.organisations == ["Trường THCS Bắc Hà"]
        proposal = proposals.propose(idea, need, "engine", band="good", score=0.5, notify_staff=False)
        # the Department holding the idea is no conflict: its own staff may decide
        holder = db.session.get(User, holder_id)
        assert not proposals.has_conflict(proposal, holder)
        proposals.transition(proposal, "under_review", holder)
        proposals.transition(proposal, "approved", holder)
        told = {(n.user_id, n.kind) for n in db.session.scalars(
            sa.select(Notification).where(Notification.kind.like("introduction%")))}
        assert told == {(holder_id, "introduction_held"), (world.business[0], "introduction")}
        pid = proposal.id
    auth.login(world.business[1])
    page = client.get("/matches").get_data(as_text=True)
    assert "Lò Thị Sua, liên hệ qua Staff Test (Sở KH&amp;CN)" in page and holder_email in page
    with app.test_request_context():
        contact = proposals.contact(db.session.get(MatchProposal, pid), "idea")
        assert (contact.name, contact.email) == ("Lò Thị Sua, liên hệ qua Staff Test (Sở KH&CN)", holder_email)
        assert contact.organisation == "Trường THCS Bắc Hà"  # the students' school, not the Department
