"""An admin edits the province glossary on a phone (390 px): every page fits the screen, and the
real forms (with CSRF) add a concept and delete it after a confirmation."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_adds_and_deletes_a_concept_on_a_phone(live_server, page, app, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    _, email = make_user("admin")
    page.goto(live_server + "/auth/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("password123")
    page.locator("button[type=submit], input[type=submit]").filter(has_text="Đăng nhập").click()

    page.goto(live_server + "/admin/glossary")
    expect(page.locator("h1")).to_have_text("Bảng thuật ngữ của tỉnh")
    assert _fits(page)
    page.get_by_role("link", name="Thêm khái niệm").click()
    expect(page.get_by_label("Mã khái niệm")).to_be_visible()  # the form has loaded (measuring mid-navigation fails)
    assert _fits(page)
    page.get_by_label("Mã khái niệm").fill("zz_plum")
    page.get_by_label("Loại").select_option("crop")
    page.get_by_label("Tên tiếng Việt").fill("mận thử | mận thử Bắc Hà")
    page.get_by_label("Tên tiếng Anh").fill("test plum | Bac Ha test plum")
    page.get_by_label("Tên tiếng Trung").fill("测试李")
    page.locator("input[type=submit]").click()

    page.get_by_placeholder("Tên hoặc mã khái niệm").fill("mận thử Bắc")
    page.get_by_placeholder("Tên hoặc mã khái niệm").press("Enter")
    item = page.locator(".glossary-term")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("mận thử Bắc Hà")
    assert _fits(page)

    item.get_by_role("link", name="Xóa").click()
    expect(page.locator("h1")).to_have_text("Xóa khái niệm zz_plum?")
    assert _fits(page)
    page.get_by_role("button", name="Xóa").click()
    expect(page.get_by_text("Đã xóa: zz_plum.")).to_be_visible()

    page.goto(live_server + "/admin/glossary/import")
    assert _fits(page)
