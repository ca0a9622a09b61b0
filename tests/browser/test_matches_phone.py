"""An idea's page with its matches on a phone (390 px): the reasons' badges ("Cùng lĩnh vực: …",
"Còn nhận đến …") wrap inside the screen instead of widening the page."""
import pytest

pytestmark = pytest.mark.browser


def test_an_idea_and_its_matches_fit_a_phone(live_server, page, app, make_user, submit):
    owner, _ = make_user("innovator")
    business, _ = make_user("business")
    long_sector = "Nông nghiệp đặc sản vùng cao, dược liệu và chế biến nông lâm sản sau thu hoạch"
    idea = submit("ideas", owner, title="Máy sấy quế dùng năng lượng mặt trời cho hợp tác xã",
                  summary="Sấy quế bằng năng lượng mặt trời.", description="Buồng sấy quế có cảm biến độ ẩm.")
    submit("needs", business, title="Cần máy sấy quế năng lượng mặt trời cho hợp tác xã Văn Yên",
           problem="Quế phơi ngoài đường bị mốc khi trời mưa.", desired_outcome="Buồng sấy có cảm biến độ ẩm.",
           organisation="Hợp tác xã Quế hữu cơ Đông Cuông – Châu Quế – Văn Yên (tỉnh Lào Cai)")
    with app.app_context():
        from extensions import db
        from models import Sector
        for sector in db.session.scalars(db.select(Sector)):
            sector.name_vi = long_sector  # the longest words a badge may carry
        db.session.commit()
    page.goto(f"{live_server}/ideas/{idea}")
    assert page.locator(".match").count() >= 1  # the need is shown with its reasons
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
