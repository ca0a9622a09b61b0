"""A new innovator registers on a phone, submits an idea and finds it in the list."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_register_submit_and_find_an_idea(live_server, page, app):
    app.config["WTF_CSRF_ENABLED"] = True  # the real forms, with their CSRF tokens
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    page.goto(live_server + "/auth/register")
    page.get_by_label("Họ và tên").fill("Vàng Thị Mai")
    page.get_by_label("E-mail").fill("mai@example.vn")
    page.get_by_label("Mật khẩu", exact=True).fill("sương muối Bắc Hà")
    page.get_by_label("Nhập lại mật khẩu").fill("sương muối Bắc Hà")
    page.locator("input[type=submit], button[type=submit]").filter(has_text=re.compile("Tạo tài khoản")).click()
    expect(page.get_by_text("Vàng Thị Mai").first).to_be_attached()

    page.goto(live_server + "/ideas/new")
    page.get_by_label("Loại").select_option("stem_project")
    page.get_by_label("Tiêu đề").fill("Cảm biến cảnh báo sương muối cho vườn mận Bắc Hà")
    page.get_by_label("Tóm tắt", exact=False).fill("Cảm biến nhiệt độ giá rẻ gửi tin nhắn khi sắp có sương muối.")
    page.get_by_label("Mô tả", exact=True).fill("Nhóm học sinh lắp cảm biến nhiệt độ và độ ẩm ở vườn mận, "
                                                 "gửi cảnh báo qua Zalo cho nông dân trước đêm có sương muối.")
    page.get_by_label("Nông nghiệp đặc sản vùng cao").check()  # check boxes: one tap each, also on a phone
    page.get_by_label("Môi trường và phòng chống thiên tai").check()
    page.locator("#publish").click()

    expect(page.locator("h1")).to_have_text("Cảm biến cảnh báo sương muối cho vườn mận Bắc Hà")
    page.goto(live_server + "/ideas/")
    page.get_by_placeholder("Từ khóa tìm kiếm").fill("sương muối")
    page.get_by_placeholder("Từ khóa tìm kiếm").press("Enter")
    expect(page.get_by_role("link", name="Cảm biến cảnh báo sương muối cho vườn mận Bắc Hà")).to_be_visible()

    page.locator(".navbar-toggler").click()  # on a phone the menu is folded
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
