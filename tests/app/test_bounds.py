"""Bounded input: every id, page number, whole number, amount and date a URL, a query string, a form
or a JSON body can carry is range-checked (404 or 422), never a 500.

test_every_route_survives_extreme_values walks app.url_map, so a new route is covered without an
entry here; the other tests state what a person sees for the cases the walk only proves harmless.
"""
from __future__ import annotations

import json
import re

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from web.forms import BaseForm, parse_amount

HUGE = "9" * 20
EXTREMES = [
    # (what replaces an <int:...> in the path, the query string)
    (HUGE, {"page": HUGE, "date_from": "0001-01-01", "date_to": "9999-12-31", "from": "0001-01-01",
            "to": "9999-12-31", "id": HUGE, "idea": HUGE, "per_page": HUGE}),
    ("0", {"page": "-5", "date_from": "9999-12-31", "from": "9999-12-31", "to": "0001-01-01", "per_page": "-1"}),
    ("2147483648", {"page": "1000000001", "date_to": "0001-01-01", "idea": "-1"}),
]


def _form_classes():
    seen, todo = [], [BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _body() -> dict[str, str]:
    """Every field name of every form, each with the most hostile value for its kind."""
    from wtforms import DateField, Field
    body = {}
    for form in _form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if isinstance(field_class, type) and issubclass(field_class, Field):
                body[name] = "0001-01-01" if issubclass(field_class, DateField) else "9" * 400
    body.pop("csrf_token", None)
    return body


def _requests(app):
    """(method, path, query) for every rule and method, with extreme values in every variable part."""
    body_names = _body()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("auth.logout", "static", "bootstrap.static", "api_docs.asset"):
            continue
        for path_id, query in EXTREMES:
            values = {}
            for name, converter in rule._converters.items():
                if isinstance(converter, IntegerConverter):
                    values[name] = path_id
                elif isinstance(converter, AnyConverter):
                    values[name] = converter.regex[3:-1].split("|")[0].replace("\\", "")
                else:
                    values[name] = "vi"
            # the rule's parts, each variable one replaced; the first part starts with "|" (no host)
            path = "".join(values[part] if dynamic else part for dynamic, part in rule._trace).split("|", 1)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path, query, body_names


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_every_route_survives_extreme_values(app, client, make_user, auth, who):
    headers = {}
    if who == "staff":
        from extensions import db
        from models import User
        from services import tokens
        _, email = make_user("admin")  # an administrator reaches every staff and admin page
        auth.login(email)
        with app.app_context():
            _, secret = tokens.create(db.session.scalar(db.select(User).filter_by(email=email)), "walk")
        headers["Authorization"] = f"Bearer {secret}"
    failures = []
    for method, path, query, body in _requests(app):
        if path.startswith("/api/"):
            response = client.open(path, method=method, query_string=query, headers=headers,
                                   data=json.dumps({name: int(value) if value.isdigit() else value
                                                    for name, value in body.items()}),
                                   content_type="application/json")
        else:
            response = client.open(path, method=method, query_string=query, headers=headers,
                                   data=body if method != "GET" else None)
        if response.status_code >= 500:
            failures.append(f"{method} {path}?{query} -> {response.status_code}")
    assert not failures, "\n".join(failures)


def test_a_page_number_beyond_any_list_is_not_found(client):
    assert client.get(f"/ideas/?page={HUGE}").status_code == 404
    assert client.get("/ideas/?page=abc").status_code == 200  # a mistyped link still shows the list
    problem = client.get(f"/api/v1/ideas?page={HUGE}").get_json()
    assert problem["status"] == 422 and "page" in problem["errors"]


def test_twenty_digit_ids_are_not_found(client, login_as):
    login_as("staff")
    for path in (f"/review/{HUGE}", f"/rounds/{HUGE}", f"/reports/import/{HUGE}", f"/admin/users/{HUGE}",
                 f"/ideas/{HUGE}", f"/api/v1/needs/{HUGE}"):
        assert client.get(path).status_code in (403, 404), path
    assert client.post(f"/auth/tokens/{HUGE}/revoke").status_code == 404


def test_marking_a_notification_with_an_impossible_id_marks_nothing(app, client, login_as):
    from extensions import db
    from models import User
    from services import notifications
    user_id, _ = login_as("innovator")
    with app.app_context():
        notifications.notify(db.session.get(User, user_id), "proposal_approved",
                             {"idea": "Ý tưởng", "target": "Nhu cầu", "proposal": 1})
        db.session.commit()
    assert client.post("/notifications/read", data={"id": HUGE}).status_code == 302
    with app.app_context():
        assert notifications.unread_count(db.session.get(User, user_id)) == 1


def test_dates_outside_the_years_people_mean_are_refused_with_a_message(client, login_as):
    login_as("staff")
    client.get("/lang/en")
    response = client.get("/audit?date_from=0001-01-01")
    assert response.status_code == 422
    assert "Choose a date from 01/01/2000 to 31/12/2100." in response.get_data(as_text=True)
    response = client.get("/reports/?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 422 and "Choose a date from 01/01/2000" in response.get_data(as_text=True)
    client.get("/lang/vi")  # the days in the reader's convention
    assert "01/01/2000" in client.get("/audit?date_from=0001-01-01").get_data(as_text=True)
    assert client.get("/reports/audit.csv?from=0001-01-01").status_code == 422


@pytest.mark.parametrize("text, amount", [
    ("1500000000", 1_500_000_000), ("1.500.000.000", 1_500_000_000), ("1,500,000,000", 1_500_000_000),
    ("1 500 000 000", 1_500_000_000), ("1\u00a0500\u00a0000\u00a0000", 1_500_000_000),
    ("1,5 tỷ", 1_500_000_000), ("1.5 tỷ", 1_500_000_000), ("1.500 triệu", 1_500_000_000),
    ("300 triệu đồng", 300_000_000), ("2.000.000đ", 2_000_000), ("50 nghìn", 50_000), ("0", 0),
])
def test_amounts_written_the_vietnamese_way_are_read(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize("text", ["1,5", "1.50.000", "12.34.56", "tỷ", "1e9", "abc", "1,5 ",
                                  "1.000,5", "0,0001 đ"])
def test_what_is_not_an_amount_is_not_read_as_one(text):
    assert parse_amount(text) is None


def test_a_need_takes_a_budget_written_the_vietnamese_way(client, login_as):
    login_as("business")
    response = client.post("/needs/new", data={
        "title": "Máy sấy quế năng lượng mặt trời", "sectors": ["agriculture_highland"], "language": "vi",
        "problem": "Cần sấy quế nhanh hơn trong mùa mưa.", "desired_outcome": "Một máy sấy dùng được.",
        "budget_min": "500 triệu", "budget_max": "1.500.000.000", "publish": "y"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1.500.000.000" in page or "1,500,000,000" in page


def test_an_amount_out_of_range_gets_one_message(client, login_as):
    login_as("business")
    client.get("/lang/en")
    message = "Enter an amount in đồng from 0 to 10,000,000,000,000, e.g. 1.500.000.000 or 1,5 tỷ."
    for value in ("9" * 400, "1.500.000.000.000.000", "-5", "1,5"):
        response = client.post("/needs/new", data={
            "title": "Máy sấy quế năng lượng mặt trời", "sectors": ["agriculture_highland"],
            "problem": "Cần sấy quế.", "desired_outcome": "Máy sấy.", "budget_max": value})
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        assert page.count(message) == 1 and "Not a valid integer" not in page and "Number must be" not in page


def test_an_out_of_range_number_over_the_api_is_a_422_naming_the_field(app, client, make_user):
    from extensions import db
    from models import User
    from services import tokens
    user_id, _ = make_user("innovator")
    with app.app_context():
        _, secret = tokens.create(db.session.get(User, user_id), "t")
    body = ('{"title": "Cảm biến độ ẩm đất", "sectors": ["agriculture_highland"], "kind": "startup_idea", '
            '"summary": "Tóm tắt.", "description": "Mô tả.", "trl": ' + "9" * 400 + "}")
    response = client.post("/api/v1/ideas", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"trl": ["Nhập một số nguyên từ 1 đến 9."]}  # one message, no overflow


def test_the_budget_is_typed_in_a_text_box(client, login_as):
    login_as("business")
    page = client.get("/needs/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="budget_max"[^>]*type="text"', page)  # a number box refuses "1.500.000.000"


def test_an_impossible_id_is_not_found_whatever_the_method(client, make_user):
    # werkzeug would answer 405 for PATCH: the GET rule of the same path matches before the PATCH one
    for method in ("GET", "PATCH", "POST"):
        path = "/api/v1/ideas/16046729081" + ("/publish" if method == "POST" else "")
        assert client.open(path, method=method, json={}).status_code == 404, method
