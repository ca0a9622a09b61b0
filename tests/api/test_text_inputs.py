"""Every text field is cleaned before it is validated (forms, the API and imports share the forms):
"required" and lengths apply to what will be stored."""
import pytest

IDEA = {"kind": "startup_idea", "summary": "Cảm biến độ ẩm cho vườn chè Shan tuyết.",
        "description": "Hệ thống cảm biến đo độ ẩm đất và gửi cảnh báo cho hộ trồng chè.",
        "sectors": ["agriculture_highland"], "stage": "idea", "language": "vi", "visibility": "public"}
ZW = "\u200b\u200c\u200d\ufeff"


@pytest.mark.parametrize("field, value", [
    ("title", ZW * 3),                         # only invisible characters
    ("title", "\u200b\u200bKho"),              # three letters once the invisible ones are gone
    ("summary", "<p>&nbsp;</p>"),              # markup around nothing
    ("description", " \u200b \u200b \n\t "),   # spaces and zero-width spaces
])
def test_text_that_is_empty_once_cleaned_is_refused_and_nothing_is_saved(client, token_for, field, value):
    _, headers = token_for("innovator")
    before = client.get("/api/v1/ideas?mine=1", headers=headers).get_json()
    response = client.post("/api/v1/ideas", headers={**headers, "Accept-Language": "vi"},
                           json={**IDEA, "title": "Cảm biến độ ẩm đất", field: value, "publish": True})
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) == {field}
    assert client.get("/api/v1/ideas?mine=1", headers=headers).get_json() == before


def test_a_short_chinese_title_is_long_enough_and_line_breaks_leave_titles(client, token_for):
    _, headers = token_for("innovator")
    created = client.post("/api/v1/ideas", headers=headers,
                          json={**IDEA, "title": "智慧茶园", "language": "zh", "publish": True})
    assert created.status_code == 201, created.get_json()
    broken = client.post("/api/v1/ideas", headers=headers,
                         json={**IDEA, "title": "Cảm biến\r\nđộ ẩm\u200b đất", "publish": True})
    assert broken.status_code == 201 and broken.get_json()["title"] == "Cảm biến độ ẩm đất"


def test_the_web_form_refuses_a_title_of_zero_width_spaces(client, login_as):
    login_as("innovator")
    response = client.post("/ideas/new", data={**IDEA, "title": ZW * 3, "sectors": ["agriculture_highland"],
                                               "publish": "1"})
    assert response.status_code == 422
