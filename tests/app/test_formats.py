"""Dates, times, numbers and the order of names as people here write and read them: 29/11/2026,
22:42 in Lào Cai's time in both languages, 36,74 in Vietnamese and 36.74 in English; "Xã Đông Cuông"
between "Xã Dền Sáng" and "Xã Xuân Ái"."""
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from extensions import db
from models import Idea, MatchProposal, TechnologyNeed
from services import collation, formats, proposals
from tests.app.test_matching_pages import DRYER_IDEA, DRYER_NEED


@pytest.mark.parametrize("language, expected", [
    ("vi", ("29/11/2026", "22:42 29/11/2026", "36,74", "1.234,5", "+4,2%", "51,6%", "50%")),
    ("en", ("29/11/2026", "29/11/2026, 22:42", "36.74", "1,234.5", "+4.2%", "51.6%", "50%")),
])
def test_each_language_writes_dates_and_numbers_its_own_way(app, language, expected):
    with app.test_request_context(), app.app_context():
        from flask_babel import force_locale
        with force_locale(language):
            written = (formats.day(date(2026, 11, 29)), formats.moment(datetime(2026, 11, 29, 15, 42)),
                       formats.decimal(36.7412), formats.number(1234.5), formats.percent(0.042, signed=True),
                       formats.percent(0.516), formats.percent(0.5))
    assert written == expected


def test_a_late_utc_time_is_the_next_day_in_lao_cai(app):
    with app.test_request_context():
        assert formats.day(datetime(2026, 11, 29, 18, 30)) == "30/11/2026"  # 01:30 on the 30th, local


def test_local_days_are_bounded_in_utc_and_today_is_lao_cais(app, monkeypatch):
    with app.app_context():
        assert formats.utc_bounds(date(2026, 11, 29), date(2026, 11, 30)) == \
            (datetime(2026, 11, 28, 17, 0), datetime(2026, 11, 30, 17, 0))
        assert formats.utc_bounds(None, date(2026, 11, 29)) == (None, datetime(2026, 11, 29, 17, 0))
        assert formats.utc_bounds(None, None) == (None, None)
        # 17:30 UTC on 29/11 is already 30/11 in Lào Cai, whatever the server's own date says
        monkeypatch.setattr(formats, "utcnow", lambda: datetime(2026, 11, 29, 17, 30))
        assert formats.local_today() == date(2026, 11, 30)


def test_templates_cannot_use_flask_babels_own_date_filters(app):
    assert "dateformat" not in app.jinja_env.filters and "datetimeformat" not in app.jinja_env.filters
    assert {"date", "datetime", "decimal", "percent", "number"} <= set(app.jinja_env.filters)


def test_a_need_page_shows_its_deadline_as_dd_mm_yyyy_in_vietnamese_and_in_english(client, make_user, submit):
    business, _ = make_user("business")
    need = submit("needs", business, title="Máy sấy quế cho hợp tác xã", deadline=date(2026, 11, 29))
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert "29/11/2026" in page and "thg" not in page
    client.get("/lang/en")
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert "29/11/2026" in page and "Nov" not in page


def test_the_review_queue_shows_local_time_and_says_so(app, client, login_as, make_user, submit):
    business, _ = make_user("business")
    innovator, _ = make_user("innovator")
    need = submit("needs", business, title="Máy sấy quế cho hợp tác xã")
    idea = submit("ideas", innovator, title="Lò sấy quế năng lượng mặt trời")
    with app.app_context():
        proposal = proposals.propose(db.session.get(Idea, idea), db.session.get(TechnologyNeed, need),
                                     "staff", notify_staff=False)
        proposal.created_at = datetime(2026, 11, 29, 15, 42)
        db.session.commit()
    login_as("staff")
    page = client.get("/review/").get_data(as_text=True)
    assert "22:42 29/11/2026" in page and "15:42" not in page
    assert "giờ Việt Nam (GMT+07:00)" in page


# --- the order of names ------------------------------------------------------------------------

NAMES = ["Xã Xuân Ái", "Xã Đông Cuông", "Xã Dền Sáng", "Xã Âm", "Xã Ăn", "Xã An", "Xã Bảo"]


def test_vietnamese_order_puts_each_letter_in_its_place_of_the_alphabet():
    assert collation.by_name(NAMES, language="vi") == [
        "Xã An", "Xã Ăn", "Xã Âm", "Xã Bảo", "Xã Dền Sáng", "Xã Đông Cuông", "Xã Xuân Ái"]


def test_english_order_of_the_same_names_is_sensible_too():
    ordered = collation.by_name(NAMES, language="en")
    assert ordered.index("Xã Dền Sáng") < ordered.index("Xã Đông Cuông") < ordered.index("Xã Xuân Ái")
    assert ordered.index("Xã Bảo") < ordered.index("Xã Dền Sáng")  # accents never send a name to the end


def _options(page: str, select_name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{select_name}".*?</select>', page, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_place_list_of_a_form_is_in_vietnamese_order(client):
    places = _options(client.get("/auth/register").get_data(as_text=True), "place")
    van_yen = [p for p in places if p.endswith("(Văn Yên)")]
    assert van_yen.index("Xã Châu Quế (Văn Yên)") < van_yen.index("Xã Đông Cuông (Văn Yên)") \
        < van_yen.index("Xã Lâm Giang (Văn Yên)") < van_yen.index("Xã Xuân Ái (Văn Yên)")
    districts = [p.rsplit("(", 1)[1] for p in places if "(" in p]
    assert districts.index("Bát Xát)") < districts.index("Văn Yên)")


def test_the_sector_and_district_filters_are_in_the_readers_alphabetical_order(client):
    page = client.get("/ideas/").get_data(as_text=True)
    sectors = _options(page, "sector")[1:]
    assert sectors == collation.by_name(sectors, language="vi") and len(sectors) > 5
    districts = _options(page, "district")[1:]
    assert districts == collation.by_name(districts, language="vi")
    client.get("/lang/en")
    sectors_en = _options(client.get("/ideas/").get_data(as_text=True), "sector")[1:]
    assert sectors_en == collation.by_name(sectors_en, language="en") and sectors_en != sectors


# --- express interest ----------------------------------------------------------------------------

def test_express_interest_offers_the_innovators_idea_that_fits_the_need_best(app, client, make_user, submit, auth):
    business, _ = make_user("business")
    innovator, email = make_user("innovator")
    need = submit("needs", business, **DRYER_NEED)
    # alphabetically first, and nothing to do with drying cinnamon
    submit("ideas", innovator, title="An toàn giao thông: ứng dụng báo ổ gà trên quốc lộ 4E",
           summary="Người đi đường chụp ảnh ổ gà, ứng dụng gửi vị trí cho đơn vị quản lý đường bộ.",
           description="Ứng dụng điện thoại thu thập ảnh và vị trí ổ gà, xếp hạng mức nguy hiểm.",
           sector_codes=["digital_transformation"])
    fitting = submit("ideas", innovator, **DRYER_IDEA)
    auth.login(email)
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    form = page.split('class="interest-form"')[1].split("</select>")[0]
    first = re.search(r'<option value="(\d+)"', form).group(1)
    assert int(first) == fitting
    assert "An toàn giao thông" in form  # still offered, after the one that fits
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MatchProposal.id))) == 0  # offering proposes nothing


def test_the_indicators_name_months_the_readers_way(client, login_as):
    login_as("staff")
    page = client.get("/reports/?from=2025-01-01&to=2025-12-31").get_data(as_text=True)
    assert "03/2025" in page and "2025-03" not in page
    client.get("/lang/en")
    assert "Mar 2025" in client.get("/reports/?from=2025-01-01&to=2025-12-31").get_data(as_text=True)
