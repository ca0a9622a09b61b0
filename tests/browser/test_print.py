"""An idea's page printed or saved as PDF: the "Print / save as PDF" button (static JavaScript, hidden
without it), and on paper no navigation and no buttons, the matches with their reasons and the folded
passages open; Chromium's PDF of the page has its pages and its title."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TITLE = "Máy sấy quế dùng năng lượng mặt trời cho hợp tác xã"
# a description long enough for more than one sheet of A4 (one sentence: the model embeds it once)
DESCRIPTION = "\n".join(["Buồng sấy quế có cảm biến độ ẩm, quạt hút và tấm pin mặt trời; "
                          "quế khô đều sau hai ngày, không mốc khi trời mưa."] * 60)


def _pdf_title(pdf: bytes) -> str:
    """The document title Chromium writes into the PDF's information (UTF-16BE, in hex)."""
    found = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]*)>", pdf)
    return bytes.fromhex(found.group(1).decode()).decode("utf-16-be") if found else ""


@pytest.fixture
def idea_with_a_match(submit, make_user):
    owner, _ = make_user("innovator")
    business, _ = make_user("business")
    idea = submit("ideas", owner, title=TITLE, summary="Sấy quế bằng năng lượng mặt trời.", description=DESCRIPTION)
    submit("needs", business, title="Cần máy sấy quế năng lượng mặt trời cho hợp tác xã Văn Yên",
           problem="Quế phơi ngoài đường bị mốc khi trời mưa.", desired_outcome="Buồng sấy quế có cảm biến độ ẩm.")
    return idea


def test_an_idea_prints_with_its_matches_and_reasons(live_server, new_page, idea_with_a_match):
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/ideas/{idea_with_a_match}")
    button = page.get_by_role("button", name="In / Lưu PDF")
    passage = page.locator(".match details li").first  # "Passages that match best", folded on screen
    expect(button).to_be_visible()
    expect(passage).to_be_hidden()
    page.evaluate("window.print = () => { window.printed = true; }")  # headless Chromium has no dialog
    button.click()
    assert page.evaluate("window.printed === true")

    page.emulate_media(media="print")
    expect(page.locator(".navbar")).to_be_hidden()
    expect(button).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".match").first).to_be_visible()
    expect(page.locator(".match .badge").first).to_be_visible()  # the reasons
    expect(passage).to_be_visible()

    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) > 1
    assert _pdf_title(pdf).startswith(TITLE)


def test_without_javascript_there_is_no_print_button(live_server, new_page, idea_with_a_match):
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/ideas/{idea_with_a_match}")
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator("[data-print]")).to_be_hidden()
