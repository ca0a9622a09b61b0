"""A staff member approves a proposal; both parties then see the introduction with each other's contacts."""
import pytest
from playwright.sync_api import expect

from tests.app._proposal_world import make_proposal, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def sign_in(page, live_server, email):
    page.goto(live_server + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("password123")
    page.locator("main form [type=submit]").click()
    expect(page.locator(".alert-success").first).to_be_visible()


def test_staff_approve_and_both_parties_see_the_introduction(live_server, page, browser, app, world, make_proposal):
    app.config["WTF_CSRF_ENABLED"] = True  # the real forms, with their CSRF tokens
    pid = make_proposal("proposed")

    sign_in(page, live_server, world.staff[1])
    page.goto(f"{live_server}/review/")
    page.locator(f'tr[data-id="{pid}"] a').first.click()
    expect(page.locator("h1")).to_contain_text(str(pid))
    page.locator('button[data-to="under_review"]').click()
    expect(page.locator(".proposal-state-under_review")).to_be_visible()
    page.locator('button[data-to="approved"]').click()
    expect(page.locator(".proposal-state-approved")).to_be_visible()

    for me, other_email, other_phone in ((world.innovator, "htx@que.vn", "0987 654 321"),
                                         (world.business, "mai@truong.vn", "0912 111 222")):
        context = browser.new_context(viewport={"width": 390, "height": 844})
        party = context.new_page()
        party.set_default_timeout(10_000)
        sign_in(party, live_server, me[1])
        expect(party.locator(".notification-bell .unread-count")).to_contain_text("1")  # the introduction
        party.goto(f"{live_server}/matches")
        card = party.locator(f"#proposal-{pid}")
        expect(card.locator(".introduction")).to_contain_text(other_email)
        expect(card.locator(".introduction")).to_contain_text(other_phone)
        context.close()
