"""Every page fits a phone, and the staff navigation fits a laptop.

The pages are those of the access matrix (tests/app/test_access_matrix.py, RULES) that a role opens with
200, each kind of submission (ideas, needs, orders), over data with the long words people really write:
sector names that fill a reason's badge, a URL and a hashtag without a break, a long e-mail address and
company name. Each page is loaded once at 390 px (a common phone) and measured again at 360 px (a small
one); a page wider than the screen fails with its address and the element that sticks out furthest.
"""
import pytest
from flask import url_for
from playwright.sync_api import expect

from tests.app.test_access_matrix import RULES, WHO, _rules, world  # noqa: F401 (world: a fixture)

pytestmark = pytest.mark.browser

PHONES = (390, 360)
LAPTOPS = (1280, 1440)
SLUGS = ("ideas", "needs", "orders")
OWN = {"innovator": "ideas", "business": "needs", "staff": "orders"}  # what the world's accounts wrote
# GET rules that answer with something other than a page: files, JSON, redirects
NOT_PAGES = {"static", "bootstrap.static", "main.healthz", "main.set_language", "api_docs.spec", "api_docs.asset"}
LONG_SECTOR = "Nông nghiệp đặc sản vùng cao, dược liệu và chế biến nông lâm sản sau thu hoạch"
LONG_URL = "https://www.example.vn/du-an/may-say-que-nang-luong-mat-troi-hop-tac-xa-van-yen/tai-lieu-ky-thuat.pdf"
LONG_EMAIL = "nguyen.thi.phuong.thao.hoptacxa.que.huu.co.van.yen@truongdaihocnonglam.example.vn"
LONG_COMPANY = "Hợp tác xã Nông nghiệp Quế hữu cơ Đông Cuông – Châu Quế Hạ – Văn Yên (tỉnh Lào Cai)"

# The innermost element whose box or text sticks out furthest to the right, as far as its scrolling boxes
# let it (a .table-responsive scrolls by design): what to fix when a page is too wide.
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  let worst = null;
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();  // scrollWidth: also the text that overflows the element's box
    let right = getComputedStyle(el).overflowX === "visible" ? Math.max(box.right, box.left + el.scrollWidth) : box.right;
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") right = Math.min(right, box.getBoundingClientRect().right);
    }
    if (right > width + 0.5 && (!worst || right >= worst.right)) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + [...el.classList].map(c => "." + c).join("");
      worst = {right: Math.round(right), name: name, text: (el.textContent || "").trim().slice(0, 60)};
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, worst: worst};
}"""


@pytest.fixture
def long_words(app, world):  # noqa: F811 (the fixture imported above)
    """The matrix's objects with long words; returns {role: e-mail} of the accounts that own them."""
    from extensions import db
    from models import Idea, ResearchOrder, Sector, TechnologyNeed
    ids, _ = world
    with app.app_context():
        for sector in db.session.scalars(db.select(Sector)):
            sector.name_vi = sector.name_en = LONG_SECTOR
        idea = db.session.get(Idea, ids["ideas"])
        idea.title = "Máy sấy quế #MaySayQueNangLuongMatTroiChoHopTacXaVanYen"
        idea.description = f"Tài liệu kỹ thuật: {LONG_URL}"
        idea.owner.email = LONG_EMAIL
        need = db.session.get(TechnologyNeed, ids["needs"])
        need.organisation = LONG_COMPANY
        order = db.session.get(ResearchOrder, ids["orders"])
        owners = {"innovator": idea.owner, "business": need.owner, "staff": order.owner}
        emails = {role: user.email for role, user in owners.items()}
        db.session.commit()
    return emails


def _pages(app, who, ids, values):
    """(address, must answer 200) of every page `who` may open: RULES' GET rules answered 200 for the
    ideas, the same rule for needs and orders (opened when they answer 200: who may create what differs),
    and the form that edits what `who` wrote (RULES try another person's)."""
    own = OWN.get(who)
    if own:
        with app.test_request_context():
            yield url_for("submissions.edit", slug=own, item_id=ids[own]), True
    for rule, method in _rules(app):
        if method != "GET" or rule.endpoint in NOT_PAGES or rule.rule.startswith("/api/v1/") or "." in rule.rule:
            continue
        if RULES[(rule.rule, method)][WHO.index(who)] != 200:
            continue
        for slug in SLUGS if "slug" in rule.arguments else ("ideas",):
            args = {name: values.get(name) for name in rule.arguments}
            if "slug" in rule.arguments:
                args["slug"] = slug
            if "item_id" in rule.arguments:
                args["item_id"] = ids[slug]
            with app.test_request_context():
                yield url_for(rule.endpoint, **args), slug == "ideas"


def _sign_in(page, live_server, email):
    """Signs the page's browser context in (the form's POST; the tests' app checks no CSRF token)."""
    answer = page.context.request.post(f"{live_server}/auth/login", form={"email": email, "password": "password123"})
    assert answer.ok and "/auth/login" not in answer.url, f"{email} could not sign in"


def test_no_page_is_wider_than_a_phone(live_server, new_page, app, make_user, world, long_words):  # noqa: F811
    ids, values = world
    too_wide, measured = [], 0
    for who in WHO:
        page = new_page(viewport={"width": PHONES[0], "height": 844})
        if who != "anonymous":
            _sign_in(page, live_server, long_words.get(who) or make_user(who)[1])
        for path, must_open in _pages(app, who, ids, values):
            answer = page.goto(live_server + path)
            assert answer.status < 500, f"{path} as {who}: {answer.status}"
            if answer.status != 200:
                assert not must_open, f"{path} as {who}: {answer.status}, RULES say 200"
                continue
            for width in PHONES:
                page.set_viewport_size({"width": width, "height": 844})
                found = page.evaluate(WIDEST)
                measured += 1
                if found["scroll"] > found["width"]:
                    too_wide.append(f"{path} as {who} at {width} px: {found['scroll']} px wide; "
                                    f"furthest out: {found['worst']}")
            page.set_viewport_size({"width": PHONES[0], "height": 844})
    assert measured > 100  # every role's pages were seen, not an empty loop
    assert not too_wide, "pages wider than a phone:\n" + "\n".join(too_wide)


# Each item of the bar, in its row: not hidden behind the menu button, not cut, not past the bar's end.
NAV_FITS = """() => {
  const bar = document.querySelector(".navbar > .container");
  const style = getComputedStyle(bar);
  const left = bar.getBoundingClientRect().left + parseFloat(style.paddingLeft);
  const right = bar.getBoundingClientRect().right - parseFloat(style.paddingRight);
  const row = document.querySelector(".navbar-brand").getBoundingClientRect();
  const wrong = [];
  for (const item of document.querySelectorAll(".navbar-brand, .navbar-nav > .nav-item")) {
    const box = item.getBoundingClientRect();
    const link = item.matches(".navbar-brand") ? item : item.querySelector(".nav-link");
    const name = item.textContent.trim().replace(/\\s+/g, " ").slice(0, 30);
    if (!box.width || !box.height) wrong.push(name + ": hidden");
    if (box.left < left - 0.5 || box.right > right + 0.5) wrong.push(name + ": outside the bar");
    if (box.bottom < row.top || box.top > row.bottom) wrong.push(name + ": on another row");
    if (link.scrollWidth > link.clientWidth + 1) wrong.push(name + ": cut");
  }
  return {wrong: wrong, page: document.documentElement.scrollWidth, width: window.innerWidth};
}"""


@pytest.mark.parametrize("width", LAPTOPS)
def test_the_staff_navigation_fits_a_laptop(live_server, new_page, app, make_user, width):
    """An administrator (the most menu items) with a long name, in Vietnamese and in English."""
    from extensions import db
    from models import User
    admin_id, email = make_user("admin")
    with app.app_context():
        db.session.get(User, admin_id).full_name = "Nguyễn Hoàng Phương Thảo Nguyên"
        db.session.commit()
    page = new_page(viewport={"width": width, "height": 800})
    _sign_in(page, live_server, email)
    for lang, staff_menu, language_link in (("vi", "Công việc của Sở", "English"), ("en", "Department work", "Tiếng Việt")):
        page.goto(f"{live_server}/lang/{lang}?next=/reports/")
        expect(page.locator(".navbar-toggler")).to_be_hidden()
        fits = page.evaluate(NAV_FITS)
        assert not fits["wrong"] and fits["page"] <= fits["width"], f"{width} px, {lang}: {fits}"
        page.get_by_role("button", name=staff_menu).click()
        menu = page.locator(".navbar .dropdown-menu.show")
        expect(menu.get_by_role("link").last).to_be_in_viewport()
        page.keyboard.press("Escape")
        expect(page.get_by_role("link", name=language_link, exact=True)).to_be_in_viewport(ratio=1)
