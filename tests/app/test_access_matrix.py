"""Every rule of app.url_map, every role and anonymous, against a table of expected answers.

A new route without an entry in RULES fails test_every_rule_has_an_entry: add its access rule here.
Pages are tried with a signed-in session; the API (/api/v1) with personal tokens, since it ignores cookies.

Answers: 200; LOGIN = 302 to the sign-in page; MOVED = 302 elsewhere; 401, 403, 404;
PASS = the access check let the request through (the form or body was then judged: 2xx, 3xx or 4xx
other than 401, 403, 404, never a 5xx).
"""
import pytest

LOGIN, MOVED, PASS = "login", "moved", "pass"
WHO = ("anonymous", "innovator", "business", "staff", "admin")

PUBLIC = (200, 200, 200, 200, 200)
SIGNED_IN = (LOGIN, 200, 200, 200, 200)
SIGNED_IN_POST = (LOGIN, PASS, PASS, PASS, PASS)
STAFF = (LOGIN, 403, 403, 200, 200)
STAFF_POST = (LOGIN, 403, 403, PASS, PASS)
STAFF_MISSING = (LOGIN, 403, 403, 404, 404)  # staff pages of an object that does not exist
ADMIN = (LOGIN, 403, 403, 403, 200)
ADMIN_POST = (LOGIN, 403, 403, 403, PASS)
GUEST_ONLY = (200, MOVED, MOVED, MOVED, MOVED)
GUEST_ONLY_POST = (PASS, MOVED, MOVED, MOVED, MOVED)
NOT_THE_AUTHOR = (LOGIN, 403, 403, 403, 403)
API_PUBLIC = (200, 200, 200, 200, 200)
API_SIGNED_IN = (401, 200, 200, 200, 200)
API_NOT_THE_AUTHOR = (401, 403, 403, 403, 403)

# (rule, method) -> expected answer for (anonymous, innovator, business, staff, admin)
RULES = {
    ("/", "GET"): PUBLIC,
    ("/healthz", "GET"): PUBLIC,
    ("/lang/<code>", "GET"): (MOVED,) * 5,
    ("/static/<path:filename>", "GET"): PUBLIC,
    ("/bootstrap/static/<path:filename>", "GET"): PUBLIC,
    # submissions (ids: a published idea of another innovator)
    ("/<any(ideas, needs, orders):slug>/", "GET"): PUBLIC,
    ("/<any(ideas, needs, orders):slug>/<int:item_id>", "GET"): PUBLIC,
    ("/<any(ideas, needs, orders):slug>/new", "GET"): (LOGIN, 200, 403, 403, 403),
    ("/<any(ideas, needs, orders):slug>/new", "POST"): (LOGIN, PASS, 403, 403, 403),
    ("/ideas/similar", "POST"): (LOGIN, PASS, 403, 403, 403),  # the idea form's check while typing
    ("/<any(ideas, needs, orders):slug>/<int:item_id>/edit", "GET"): NOT_THE_AUTHOR,
    ("/<any(ideas, needs, orders):slug>/<int:item_id>/edit", "POST"): NOT_THE_AUTHOR,
    ("/<any(ideas, needs, orders):slug>/<int:item_id>/withdraw", "POST"): NOT_THE_AUTHOR,
    ("/<any(ideas, needs, orders):slug>/<int:item_id>/publish", "POST"): NOT_THE_AUTHOR,
    ("/<any(ideas, needs, orders):slug>/<int:item_id>/interest", "POST"): (LOGIN, 403, PASS, 403, 403),
    ("/<any(ideas, needs, orders):slug>/export.<any(xlsx, csv):fmt>", "GET"): PUBLIC,
    ("/mine", "GET"): SIGNED_IN,
    # accounts
    ("/auth/login", "GET"): GUEST_ONLY,
    ("/auth/login", "POST"): GUEST_ONLY_POST,
    ("/auth/register", "GET"): GUEST_ONLY,
    ("/auth/register", "POST"): GUEST_ONLY_POST,
    ("/auth/logout", "POST"): (MOVED,) * 5,
    ("/auth/password", "GET"): SIGNED_IN,
    ("/auth/password", "POST"): SIGNED_IN_POST,
    ("/auth/forgot", "GET"): PUBLIC,
    ("/auth/forgot", "POST"): (PASS,) * 5,
    ("/auth/reset/<token>", "GET"): (400,) * 5,   # a link that was never sent
    ("/auth/reset/<token>", "POST"): (400,) * 5,
    ("/auth/profile", "GET"): SIGNED_IN,
    ("/auth/profile", "POST"): SIGNED_IN_POST,
    ("/auth/profile/follows", "POST"): SIGNED_IN_POST,
    ("/auth/profile/follows/<int:follow_id>/delete", "POST"): (LOGIN, 404, 404, 404, 404),  # another person's
    ("/auth/tokens", "GET"): SIGNED_IN,
    ("/auth/tokens", "POST"): SIGNED_IN_POST,
    ("/auth/tokens/<int:token_id>/revoke", "POST"): (LOGIN, 404, 404, 404, 404),  # another person's token
    ("/notifications", "GET"): SIGNED_IN,
    ("/notifications/read", "POST"): SIGNED_IN_POST,
    # review (ids: a proposal made by staff, not yet introduced)
    ("/matches", "GET"): (LOGIN, 200, 200, MOVED, MOVED),
    ("/review/", "GET"): STAFF,
    ("/review/new", "GET"): STAFF,
    ("/review/new", "POST"): STAFF_POST,
    ("/review/<int:proposal_id>", "GET"): (LOGIN, 404, 404, 200, 200),
    ("/review/<int:proposal_id>/transition", "POST"): (LOGIN, 404, 404, PASS, PASS),
    ("/rounds/", "GET"): STAFF,
    ("/rounds/new", "GET"): STAFF,
    ("/rounds/new", "POST"): STAFF_POST,
    ("/rounds/<int:round_id>", "GET"): STAFF_MISSING,
    ("/rounds/<int:round_id>/publish", "GET"): STAFF_MISSING,
    ("/rounds/<int:round_id>/publish", "POST"): STAFF_MISSING,
    ("/rounds/<int:round_id>/discard", "POST"): STAFF_MISSING,
    ("/audit", "GET"): STAFF,
    ("/mail/", "GET"): STAFF,
    ("/mail/<int:mail_id>/send", "POST"): STAFF_MISSING,
    ("/reports/", "GET"): STAFF,
    ("/reports/<any(ideas_by_kind, ideas_by_sector, ideas_by_district, ideas_by_month, needs_and_orders, "
     "proposals_by_state, approval_rate, days_to_introduction, introductions_to_agreements, student_share, "
     "district_share):figure>.<any(xlsx, csv):fmt>", "GET"): STAFF,
    ("/reports/audit.<any(xlsx, csv):fmt>", "GET"): STAFF,
    ("/reports/decisions.json", "GET"): STAFF,
    ("/reports/indicators.xlsx", "GET"): STAFF,
    ("/reports/proposals.<any(xlsx, csv):fmt>", "GET"): STAFF,
    ("/reports/import", "GET"): STAFF,
    ("/reports/import", "POST"): STAFF_POST,
    ("/reports/import/template.<any(xlsx, csv):fmt>", "GET"): STAFF,
    ("/reports/import/<int:job_id>", "GET"): STAFF_MISSING,
    ("/reports/import/<int:job_id>/confirm", "POST"): STAFF_MISSING,
    # administration (ids: the innovator's account, the first place, sector and glossary concept)
    ("/admin/users", "GET"): ADMIN,
    ("/admin/users", "POST"): ADMIN_POST,
    ("/admin/users/<int:user_id>", "GET"): ADMIN,
    ("/admin/users/<int:user_id>", "POST"): ADMIN_POST,
    ("/admin/places", "GET"): ADMIN,
    ("/admin/places", "POST"): ADMIN_POST,
    ("/admin/places/<int:place_id>", "GET"): ADMIN,
    ("/admin/places/<int:place_id>", "POST"): ADMIN_POST,
    ("/admin/sectors", "GET"): ADMIN,
    ("/admin/sectors/<int:sector_id>", "GET"): ADMIN,
    ("/admin/sectors/<int:sector_id>", "POST"): ADMIN_POST,
    ("/admin/glossary", "GET"): ADMIN,
    ("/admin/glossary/new", "GET"): ADMIN,
    ("/admin/glossary/new", "POST"): ADMIN_POST,
    ("/admin/glossary/<int:term_id>", "GET"): ADMIN,
    ("/admin/glossary/<int:term_id>", "POST"): ADMIN_POST,
    ("/admin/glossary/<int:term_id>/delete", "GET"): ADMIN,
    ("/admin/glossary/<int:term_id>/delete", "POST"): ADMIN_POST,
    ("/admin/glossary/import", "GET"): ADMIN,
    ("/admin/glossary/import", "POST"): ADMIN_POST,
    ("/admin/glossary/export.<any(xlsx, csv):fmt>", "GET"): ADMIN,
    # the API and its documents
    ("/api/openapi.json", "GET"): PUBLIC,
    ("/api/docs", "GET"): PUBLIC,
    ("/api/docs/assets/<path:filename>", "GET"): PUBLIC,
    ("/api/v1/me", "GET"): API_PUBLIC,
    ("/api/v1/indicators", "GET"): (401, 403, 403, 200, 200),
    ("/api/v1/proposals", "GET"): API_SIGNED_IN,
    ("/api/v1/proposals", "POST"): (401, PASS, PASS, PASS, PASS),
    ("/api/v1/proposals/<int:proposal_id>", "GET"): (401, 404, 404, 200, 200),
    ("/api/v1/proposals/<int:proposal_id>/transitions", "POST"): (401, 404, 404, PASS, PASS),
}
for _slug, _creators in (("ideas", (PASS, 403, 403, 403)), ("needs", (403, PASS, 403, 403)),
                         ("orders", (403, 403, PASS, PASS))):
    RULES.update({
        (f"/api/v1/{_slug}", "GET"): API_PUBLIC,
        (f"/api/v1/{_slug}", "POST"): (401, *_creators),
        (f"/api/v1/{_slug}/<int:item_id>", "GET"): API_PUBLIC,
        (f"/api/v1/{_slug}/<int:item_id>", "PATCH"): API_NOT_THE_AUTHOR,
        (f"/api/v1/{_slug}/<int:item_id>/withdraw", "POST"): API_NOT_THE_AUTHOR,
        (f"/api/v1/{_slug}/<int:item_id>/publish", "POST"): API_NOT_THE_AUTHOR,
        (f"/api/v1/{_slug}/<int:item_id>/matches", "GET"): API_PUBLIC,
    })

MISSING_ID = 999_999
# Form data that reaches past the access check without changing anything (it fails validation).
FORM_DATA = {("/review/<int:proposal_id>/transition", "POST"): {"to": "rejected"}}
FILES = {"static": "css/app.css", "bootstrap.static": "css/bootstrap.min.css",
         "api_docs.asset": "swagger-ui.css"}


def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_rule_has_an_entry(app):
    found = {(rule.rule, method) for rule, method in _rules(app)}
    assert not found - set(RULES), "routes without an access rule in RULES: add them"
    assert not set(RULES) - found, "entries for routes that no longer exist: remove them"


@pytest.fixture
def world(app, make_user, submit):
    """Objects for the ids in the URLs, owned by people other than the ones who try them."""
    from extensions import db
    from models import GlossaryTerm, Idea, Place, Sector, TechnologyNeed, User
    from services import alerts, proposals, tokens
    owner, _ = make_user("innovator")
    business, _ = make_user("business")
    staff, _ = make_user("staff")
    ids = {"ideas": submit("ideas", owner), "needs": submit("needs", business), "orders": submit("orders", staff)}
    with app.app_context():
        idea, need = db.session.get(Idea, ids["ideas"]), db.session.get(TechnologyNeed, ids["needs"])
        proposal = proposals.propose_by_hand(db.session.get(User, staff), idea, need)
        token, _ = tokens.create(db.session.get(User, owner), "someone else's")
        follow = alerts.follow(db.session.get(User, owner), "sector", "agriculture_highland")
        values = {"follow_id": follow.id, "proposal_id": proposal.id, "token_id": token.id, "user_id": owner,
                  "place_id": db.session.scalars(db.select(Place.id)).first(),
                  "sector_id": db.session.scalars(db.select(Sector.id)).first(),
                  "term_id": db.session.scalars(db.select(GlossaryTerm.id)).first(),
                  "round_id": MISSING_ID, "job_id": MISSING_ID, "mail_id": MISSING_ID, "code": "en", "fmt": "csv",
                  "token": "not-a-link",
                  "figure": "ideas_by_kind"}
    return ids, values


def _url(app, rule, ids, values) -> str:
    args = {}
    for name in rule.arguments:
        if name in ("kind", "slug"):
            args[name] = "ideas"
        elif name == "item_id":
            slug = next((s for s in ids if f"/{s}/" in rule.rule), "ideas")
            args[name] = ids[slug]
        elif name == "filename":
            args[name] = FILES[rule.endpoint]
        else:
            args[name] = values[name]
    with app.test_request_context():
        from flask import url_for
        return url_for(rule.endpoint, **args)


def _answer(response) -> object:
    if response.status_code == 302:
        return LOGIN if "/auth/login" in response.headers["Location"] else MOVED
    return response.status_code


def _matches(expected, response) -> bool:
    if expected == PASS:
        return response.status_code < 500 and _answer(response) not in (401, 403, 404, LOGIN)
    return _answer(response) == expected


def test_every_role_gets_the_expected_answer(app, make_user, world):
    from extensions import db
    from models import User
    from services import tokens
    from tests.conftest import AuthActions
    ids, values = world
    clients, api_headers = {"anonymous": app.test_client()}, {"anonymous": {}}
    for role in WHO[1:]:
        user_id, email = make_user(role)
        clients[role] = app.test_client()
        with app.app_context():
            api_headers[role] = {"Authorization": f"Bearer {tokens.create(db.session.get(User, user_id), 'm')[1]}"}

    wrong = []
    rules = sorted(_rules(app), key=lambda rm: rm[0].rule == "/auth/logout")  # signing out last
    for rule, method in rules:
        url = _url(app, rule, ids, values)
        api = url.startswith("/api/v1/")
        for who, expected in zip(WHO, RULES[(rule.rule, method)]):
            client = clients[who]
            if who != "anonymous" and not api:
                with client.session_transaction() as session:
                    signed_in = "_user_id" in session
                if not signed_in:
                    AuthActions(client).login(f"{who}{_email_number(app, who)}")
            kwargs = {"headers": api_headers[who]} if api else {"data": FORM_DATA.get((rule.rule, method))}
            if api and method in ("POST", "PATCH"):
                kwargs["json"] = {}
            response = client.open(url, method=method, **kwargs)
            if not _matches(expected, response):
                wrong.append(f"{method} {url} as {who}: expected {expected}, got {response.status_code}")
    assert not wrong, "\n".join(wrong)


def _email_number(app, role) -> str:
    """The e-mail of the last account of a role (make_user numbers them), found in the database."""
    from extensions import db
    from models import User
    with app.app_context():
        email = db.session.scalars(db.select(User.email).where(User.role == role).order_by(User.id.desc())).first()
    return email[len(role):]
