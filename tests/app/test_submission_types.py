"""The registry of submission types, the rows' own facts, and the one-way matching seam."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import Idea, MatchProposal, ResearchOrder, TechnologyNeed, User
from services import match_index, matchmaking, submission_types
from services.submission_types import BY_CODE, BY_SLUG, NEED, ORDER, TARGETS, TYPES
from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED, ROAD_NEED, UNRELATED_IDEAS


def test_each_type_is_found_by_slug_code_and_row(app, make_user, submit):
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator")
    staff, _ = make_user("staff")
    ids = {"ideas": submit("ideas", innovator), "needs": submit("needs", business),
           "orders": submit("orders", staff)}
    with app.app_context():
        for kind in TYPES:
            row = db.session.get(kind.model, ids[kind.slug])
            assert BY_SLUG[kind.slug] is kind and BY_CODE[kind.code] is kind
            assert submission_types.type_of(row) is kind
            assert submission_types.engine_id(row) == f"{kind.code}:{row.id}"
            assert submission_types.parse_engine_id(f"{kind.code}:{row.id}") == (kind, row.id)
        assert TARGETS == (NEED, ORDER)
        loaded = submission_types.load([f"need:{ids['needs']}", f"idea:{ids['ideas']}", "order:999999", "x:1",
                                        "need:abc"])
        assert set(loaded) == {f"need:{ids['needs']}", f"idea:{ids['ideas']}"}
        assert isinstance(loaded[f"need:{ids['needs']}"], TechnologyNeed)


def test_the_engine_item_of_each_type(app, make_user, submit):
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator")
    staff, _ = make_user("staff")
    deadline = date.today() + timedelta(days=30)
    idea_id = submit("ideas", innovator, **DRYER_IDEA)
    need_id = submit("needs", business, **DRYER_NEED, deadline=deadline, required_stage="pilot")
    order_id = submit("orders", staff, proposal_deadline=deadline)
    with app.app_context():
        idea = submission_types.to_item(db.session.get(Idea, idea_id))
        need = submission_types.to_item(db.session.get(TechnologyNeed, need_id))
        order = submission_types.to_item(db.session.get(ResearchOrder, order_id))
    assert (idea.side, idea.kind, idea.stage, idea.deadline) == ("idea", "research_proposal", "prototype", None)
    assert idea.title == DRYER_IDEA["title"] and DRYER_IDEA["summary"] in idea.text
    assert idea.keywords == ("cinnamon", "drying", "solar")
    assert (need.side, need.kind, need.stage, need.deadline) == ("need", "business_need", "pilot", deadline)
    assert (order.side, order.kind, order.stage, order.deadline) == ("need", "research_order", None, deadline)


def test_a_rows_own_facts_live_on_the_model(app, make_user, submit):
    business, _ = make_user("business", organisation="Công ty chè Bát Xát")
    staff, _ = make_user("staff", organisation="Sở KH&CN Lào Cai")
    named = submit("needs", business, organisation="HTX Quế Văn Yên")
    unnamed = submit("needs", business, organisation="", confidential=True,
                     deadline=date.today() - timedelta(days=1))
    order = submit("orders", staff, ordering_body="Sở Nông nghiệp và Môi trường")
    with app.app_context():
        named, unnamed = db.session.get(TechnologyNeed, named), db.session.get(TechnologyNeed, unnamed)
        order = db.session.get(ResearchOrder, order)
        assert named.organisation_name == "HTX Quế Văn Yên"
        assert unnamed.organisation_name == "Công ty chè Bát Xát"  # falls back to the author's company
        assert order.organisation_name == "Sở Nông nghiệp và Môi trường"
        assert order.organisations == ["Sở Nông nghiệp và Môi trường"]  # not the staff member's own office
        assert (named.confidential, unnamed.confidential, order.confidential) == (False, True, False)
        assert named.is_open(date.today()) and not unnamed.is_open(date.today())
        # open_until is a column expression too: the same rule in a query
        still_open = db.session.scalars(sa.select(TechnologyNeed.id).where(
            TechnologyNeed.open_until >= date.today())).all()
        assert unnamed.id not in still_open


def test_the_index_must_be_refreshed_before_it_ranks(app, make_user, submit):
    innovator, _ = make_user("innovator")
    idea_id = submit("ideas", innovator, **DRYER_IDEA)
    with app.app_context():
        index = match_index.MatchIndex(app.config["MATCHING_BACKEND"], app.config["MATCHING_MODEL"],
                                       app.config["MODEL_DIR"])
        query = submission_types.to_item(db.session.get(Idea, idea_id))
        with pytest.raises(RuntimeError, match="refresh"):
            index.rank(query)
        index.refresh()
        assert index.rank(query) == []  # no need or order yet


def test_the_index_follows_withdrawals_on_refresh(app, make_user, submit):
    from services import submissions
    business, _ = make_user("business")
    innovator, _ = make_user("innovator")
    need_id = submit("needs", business, **DRYER_NEED)
    idea_id = submit("ideas", innovator, **DRYER_IDEA)
    with app.app_context():
        index = match_index.match_index()
        query = submission_types.to_item(db.session.get(Idea, idea_id))
        index.refresh()
        assert [m.item_id for m in index.rank(query)] == [f"need:{need_id}"]
        submissions.withdraw(db.session.get(TechnologyNeed, need_id))
        index.refresh()
        assert index.rank(query) == []


def test_a_matches_page_asks_the_database_the_same_number_of_times_for_one_match_or_many(
        app, client, make_user, submit, login_as):
    """Templates get what they show: loading, visibility and wording happen before rendering, in a
    fixed number of queries, not one (or more) per match."""
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator")
    need_id = submit("needs", business, **DRYER_NEED)
    submit("ideas", innovator, **DRYER_IDEA)

    def statements_for_page():
        count = []
        with app.app_context():
            engine = db.engine

        def listener(*args):
            count.append(1)
        sa.event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/needs/{need_id}").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", listener)
        return len(count)

    login_as("staff")
    client.get(f"/needs/{need_id}")  # the index is built once
    few = statements_for_page()
    others, _ = make_user("innovator", organisation="Trường Cao đẳng Lào Cai")
    for title, text, sector in [*UNRELATED_IDEAS, ("Lò sấy quế tiết kiệm củi", "Lò sấy vỏ quế hai buồng đốt.",
                                                    "agriculture_highland"),
                                ("Máy sấy thảo quả năng lượng mặt trời", "Sấy thảo quả và quế bằng nắng.",
                                 "agriculture_highland")]:
        submit("ideas", others, title=title, summary=text, description=text, sector_codes=[sector])
    client.get(f"/needs/{need_id}")  # the refresh picks the new ideas up
    many = statements_for_page()
    page = client.get(f"/needs/{need_id}").get_data(as_text=True)
    assert page.count('class="card mb-3 match"') >= 3
    assert many <= few + 2, (few, many)


def test_a_confidential_need_shown_as_a_match_names_no_company_to_others(app, make_user, submit):
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator")
    submit("needs", business, **DRYER_NEED, confidential=True)
    open_need = submit("needs", business, **ROAD_NEED)
    idea_id = submit("ideas", innovator, **DRYER_IDEA)
    with app.test_request_context():
        idea = db.session.get(Idea, idea_id)
        owner = db.session.get(User, business)
        views = {v.submission.id: v for v in matchmaking.matches_for(idea, owner)}
        assert any(v.type is NEED and v.organisation == "HTX Quế Văn Yên" for v in views.values())
        author = db.session.get(User, innovator)
        seen = matchmaking.matches_for(idea, author)
        assert all(v.submission.id == open_need or v.organisation is None for v in seen)
        assert db.session.scalar(sa.select(sa.func.count(MatchProposal.id))) == 0
