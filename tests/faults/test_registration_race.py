"""Six people register one e-mail address at the same moment against gunicorn on PostgreSQL: one
account is made, the others are told the address is taken (422), nobody gets a 500."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from extensions import db
from models import User
from tests.faults.conftest import csrf_of, gunicorn

CLIENTS = 6
TAKEN = "E-mail này đã được dùng cho một tài khoản khác."  # "An account with this e-mail already exists."


def test_simultaneous_registrations_of_one_address(app, database_url, spawn):
    if not database_url.startswith("postgresql"):
        pytest.skip("runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL)")
    base, server = gunicorn(spawn, {"RATELIMIT_ENABLED": "0"})

    together = threading.Barrier(CLIENTS)

    def register(n: int):
        s = requests.Session()
        token = csrf_of(s, f"{base}/auth/register")
        # the same address, spelled differently by each: canonical spelling makes them one
        email = ["zzcafé@zzcorp.vn", "ZZCAFÉ@zzcorp.vn", "zzcafe\u0301@zzcorp.vn"][n % 3]
        together.wait(timeout=60)
        response = s.post(f"{base}/auth/register", timeout=60, allow_redirects=False, data={
            "csrf_token": token, "role": "innovator", "innovator_type": "student", "full_name": f"Người {n}",
            "email": email, "password": "mây núi Fansipan", "password2": "mây núi Fansipan",
            "preferred_language": "vi", "place": ""})
        return response.status_code, response.text

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(register, range(CLIENTS)))
    codes = sorted(code for code, _ in answers)
    assert codes == [302] + [422] * (CLIENTS - 1), (codes, open(server.log_path).read()[-3000:])
    assert all(TAKEN in html for code, html in answers if code == 422)
    with app.app_context():
        assert list(db.session.scalars(sa.select(User.email))) == ["zzcafé@zzcorp.vn"]

