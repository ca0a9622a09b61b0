"""Batch matching rounds: staff choose, see a draft beside the greedy baseline, then publish or discard."""
import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from extensions import db
from matching.ranking import DEFAULT_BANDS
from models import AuditEntry, Idea, MatchingRound, MatchProposal, Notification, OutgoingMail, TechnologyNeed, User
from services import matchmaking, notifications

# The engine's calibrated z of each (need, idea) pair; below 1.31 is band "weak" (never chosen).
# With one idea per need and one need per idea, greedy takes (A, X) = 3.0 and stops: need B may only
# have X. The exact round gives Y to A and X to B: 2.9 + 2.8 = 5.7.
Z = {("Need A cinnamon dryer", "Idea X solar dryer"): 3.0, ("Need A cinnamon dryer", "Idea Y heat pump"): 2.9,
     ("Need B tea sorting", "Idea X solar dryer"): 2.8, ("Need B tea sorting", "Idea Y heat pump"): 1.0}


@pytest.fixture
def fake_scores(monkeypatch):
    """pair_scores from the table Z (pairs not in it are weak), so rounds have known answers."""
    import numpy as np

    def pair_scores(targets, ideas):
        z = np.array([[Z.get((t.title, i.title), 0.0) for i in ideas] for t in targets]).reshape(len(targets), len(ideas))
        bands = np.vectorize(DEFAULT_BANDS.band, otypes=[object])(z) if z.size else np.full(z.shape, "weak", object)
        return z, bands
    monkeypatch.setattr(matchmaking, "pair_scores", pair_scores)


@pytest.fixture
def items(make_user, submit):
    business, _ = make_user("business", organisation="HTX Quế")
    innovator, _ = make_user("innovator")
    return {
        "a": submit("needs", business, title="Need A cinnamon dryer"),
        "b": submit("needs", business, title="Need B tea sorting"),
        "x": submit("ideas", innovator, title="Idea X solar dryer", event="Hackathon Lào Cai 2025"),
        "y": submit("ideas", innovator, title="Idea Y heat pump", event="Hackathon Lào Cai 2025"),
        "z": submit("ideas", innovator, title="Idea Z from elsewhere"),
    }


@pytest.fixture
def staff(client, login_as):
    """Signed in as department staff, pages in English."""
    user_id, _ = login_as("staff")
    client.get("/lang/en")
    return user_id


def form(items, **over):
    data = {"name": "Hackathon 2025 round", "needs": [items["a"], items["b"]], "ideas": [items["x"], items["y"]],
            "max_per_need": "1", "max_per_idea": "1", "min_per_need": "0"}
    data.update(over)
    return data


def proposals(app):
    with app.app_context():
        return [(p.need_id, p.idea_id, p.source, p.round_id, p.band)
                for p in db.session.scalars(sa.select(MatchProposal).order_by(MatchProposal.id))]


def only_round(app) -> MatchingRound:
    with app.app_context():
        rounds = db.session.scalars(sa.select(MatchingRound)).all()
        assert len(rounds) == 1
        db.session.expunge(rounds[0])
        return rounds[0]


@pytest.mark.parametrize("role", ["innovator", "business"])
def test_rounds_are_for_staff_only(client, login_as, role, app, make_user):
    staff, _ = make_user("staff")
    with app.app_context():
        rnd = MatchingRound(name="r", created_by_id=staff)
        db.session.add(rnd)
        db.session.commit()
        round_id = rnd.id
    login_as(role)
    for url in ["/rounds/", "/rounds/new", f"/rounds/{round_id}"]:
        assert client.get(url).status_code == 403
    for url in ["/rounds/new", f"/rounds/{round_id}/publish", f"/rounds/{round_id}/discard"]:
        assert client.post(url, data={"name": "x"}).status_code == 403
    with app.app_context():
        assert db.session.get(MatchingRound, round_id).state == "draft"
    assert "/rounds/" not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/rounds/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_see_rounds_and_the_nav_link(client, login_as, role, items):
    login_as(role)
    assert client.get("/rounds/").status_code == 200
    page = client.get("/rounds/new").get_data(as_text=True)
    assert "Need A cinnamon dryer" in page and "Idea X solar dryer" in page
    assert 'href="/rounds/"' in page


def test_the_new_round_lists_filter_ideas_by_event(client, login_as, items):
    login_as("staff")
    page = client.get("/rounds/new", query_string={"event": "Hackathon Lào Cai 2025"}).get_data(as_text=True)
    assert "Idea X solar dryer" in page and "Idea Z from elsewhere" not in page
    assert "Need B tea sorting" in page  # the event narrows ideas only


def test_a_draft_is_exact_beats_greedy_and_proposes_nothing(app, client, staff, items, fake_scores):
    response = client.post("/rounds/new", data=form(items))
    assert response.status_code == 302
    rnd = only_round(app)
    assert rnd.state == "draft"
    assert proposals(app) == []
    pairs = {(p["target_id"], p["idea_id"]) for p in json.loads(rnd.pairs_json)}
    assert pairs == {(items["a"], items["y"]), (items["b"], items["x"])}
    assert rnd.total_score == pytest.approx(5.7) and rnd.greedy_score == pytest.approx(3.0)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="round-total">5.70' in page and 'id="round-greedy">3.00' in page
    assert 'id="round-improvement">+90%' in page
    assert "Strong fit" in page and "Publish as proposals" in page


def test_round_figures_and_times_are_written_the_vietnamese_way(app, client, staff, items, fake_scores):
    client.post("/rounds/new", data=form(items))
    rnd = only_round(app)
    with app.app_context():  # 15:42 UTC on 29 November is 22:42 in Lào Cai
        db.session.get(MatchingRound, rnd.id).created_at = datetime(2026, 11, 29, 15, 42)
        db.session.commit()
    client.get("/lang/vi")
    page = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)
    assert 'id="round-total">5,70' in page and 'id="round-greedy">3,00' in page
    assert 'id="round-improvement">+90%' in page
    listing = client.get("/rounds/").get_data(as_text=True)
    assert "<td>5,70</td><td>3,00</td>" in listing and "22:42 29/11/2026" in listing
    assert "15:42" not in listing and "2026-11-29" not in listing
    assert "giờ Việt Nam (GMT+07:00)" in listing  # the footer says which clock the times are on
    client.get("/lang/en")
    listing = client.get("/rounds/").get_data(as_text=True)
    assert "<td>5.70</td><td>3.00</td>" in listing and "29/11/2026, 22:42" in listing and "PM" not in listing


def test_publishing_asks_first_and_says_how_many_proposals_it_makes(app, client, staff, items, fake_scores):
    client.post("/rounds/new", data=form(items))
    rnd = only_round(app)
    detail = client.get(f"/rounds/{rnd.id}").get_data(as_text=True)
    assert f'href="/rounds/{rnd.id}/publish"' in detail  # a link to the question, not a button that publishes
    client.get("/lang/vi")
    page = client.get(f"/rounds/{rnd.id}/publish").get_data(as_text=True)
    assert "Công bố sẽ tạo 2 đề xuất kết nối" in page
    assert only_round(app).state == "draft" and proposals(app) == []
    client.post(f"/rounds/{rnd.id}/publish")
    assert len(proposals(app)) == 2
    assert client.get(f"/rounds/{rnd.id}/publish").status_code == 302  # nothing left to confirm


def test_the_round_notification_names_the_staff_member_who_published_it(app, client, staff, items, fake_scores,
                                                                        make_user):
    colleague, _ = make_user("staff")
    client.post("/rounds/new", data=form(items))
    rnd = only_round(app)
    client.post(f"/rounds/{rnd.id}/publish")
    with app.app_context():
        note = db.session.scalars(sa.select(Notification).where(Notification.user_id == colleague)).one()
        bodies = db.session.scalars(sa.select(OutgoingMail.body)).all()
        with force_locale("vi"):
            said = notifications.text(note.kind, note.params)
    assert "Staff Test đã công bố đợt kết nối “Hackathon 2025 round”: 2 đề xuất kết nối mới" in said
    assert "tự động" not in said
    assert any("Staff Test" in body for body in bodies)


def test_publishing_makes_exactly_the_solved_pairs_into_round_proposals(app, client, staff, items, fake_scores):
    client.post("/rounds/new", data=form(items))
    rnd = only_round(app)
    response = client.post(f"/rounds/{rnd.id}/publish", follow_redirects=True)
    assert response.status_code == 200
    made = proposals(app)
    assert sorted((n, i) for n, i, *_ in made) == sorted([(items["a"], items["y"]), (items["b"], items["x"])])
    assert {(source, round_id) for _, _, source, round_id, _ in made} == {("round", rnd.id)}
    assert {band for *_, band in made} == {"strong"}
    page = response.get_data(as_text=True)
    assert "Proposed" in page and "Publish as proposals" not in page
    with app.app_context():
        assert db.session.get(MatchingRound, rnd.id).state == "published"
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.entity_type == "round")).all()
        assert sorted(actions) == ["round.create", "round.publish"]
    client.post(f"/rounds/{rnd.id}/publish")  # a second publish changes nothing
    assert len(proposals(app)) == 2


def test_quotas_are_respected(app, client, staff, items, fake_scores):
    client.post("/rounds/new", data=form(items, max_per_need="2", max_per_idea="1",
                                          ideas=[items["x"], items["y"], items["z"]]))
    pairs = json.loads(only_round(app).pairs_json)
    per_need, per_idea = {}, {}
    for p in pairs:
        per_need[p["target_id"]] = per_need.get(p["target_id"], 0) + 1
        per_idea[p["idea_id"]] = per_idea.get(p["idea_id"], 0) + 1
    assert max(per_need.values()) <= 2 and max(per_idea.values()) <= 1
    assert len(pairs) == 2  # Z is weak with everything, Y with need B: only X and Y can be placed


def test_pairs_proposed_before_are_left_out_even_rejected_ones(app, client, staff, items, fake_scores):
    with app.app_context():
        from services import proposals as proposal_service
        rejected = proposal_service.propose(db.session.get(Idea, items["y"]), db.session.get(TechnologyNeed, items["a"]),
                                            "staff", actor=db.session.get(User, staff))
        rejected.state = "rejected"
        db.session.commit()
    client.post("/rounds/new", data=form(items))
    pairs = {(p["target_id"], p["idea_id"]) for p in json.loads(only_round(app).pairs_json)}
    assert (items["a"], items["y"]) not in pairs
    assert pairs == {(items["a"], items["x"])}  # B could only take X, and A is worth more with it


@pytest.mark.parametrize("over", [
    {"max_per_need": "0"}, {"max_per_idea": "-1"}, {"max_per_need": "abc"}, {"min_per_need": "2"},
    {"needs": []}, {"ideas": []}, {"name": ""}, {"ideas": ["999999"]},
])
def test_bad_choices_and_quotas_are_refused_and_nothing_is_saved(app, client, staff, items, fake_scores, over):
    response = client.post("/rounds/new", data=form(items, **over))
    assert response.status_code == 422
    assert "Nothing was saved yet" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MatchingRound.id))) == 0
    assert proposals(app) == []


def test_a_minimum_that_cannot_be_met_names_the_need(app, client, staff, items, fake_scores):
    response = client.post("/rounds/new", data=form(items, max_per_need="2", max_per_idea="2", min_per_need="2"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Need B tea sorting" in page.split("cannot get the minimum")[1].split("</p>")[0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MatchingRound.id))) == 0


def test_a_discarded_round_proposes_nothing_and_cannot_be_published(app, client, staff, items, fake_scores):
    client.post("/rounds/new", data=form(items))
    rnd = only_round(app)
    client.post(f"/rounds/{rnd.id}/discard")
    page = client.post(f"/rounds/{rnd.id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "already published or discarded" in page
    assert proposals(app) == []
    with app.app_context():
        assert db.session.get(MatchingRound, rnd.id).state == "discarded"
    assert "Discarded" in client.get("/rounds/").get_data(as_text=True)


def test_a_round_with_the_real_engine_pairs_the_dryer_with_the_cinnamon_need(app, client, login_as, make_user, submit):
    from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, UNRELATED_IDEAS
    business, _ = make_user("business")
    innovator, _ = make_user("innovator")
    need = submit("needs", business, **DRYER_NEED)
    dryer = submit("ideas", innovator, **DRYER_IDEA)
    others = [submit("ideas", innovator, title=title, summary=summary, description=summary, sector_codes=[sector])
              for title, summary, sector in UNRELATED_IDEAS]
    login_as("staff")
    response = client.post("/rounds/new", data={"name": "Quế", "needs": [need], "ideas": [dryer, *others],
                                                  "max_per_need": "1", "max_per_idea": "1", "min_per_need": "0"})
    assert response.status_code == 302
    rnd = only_round(app)
    assert [(p["target_id"], p["idea_id"]) for p in json.loads(rnd.pairs_json)] == [(need, dryer)]
    with app.app_context():
        from services.ranker import current_ranker

        assert current_ranker().bands["possible"] <= rnd.total_score <= 1  # one pair: its probability
