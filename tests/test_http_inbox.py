"""The inbox page's server side over HTTP (the browser tests are in test_inbox_browser):
the page and its assets, the login form and its cookie, CSRF on cookie-authenticated
changes, the brake on guessing, logout, same-origin requests, and the two inbox views."""

from __future__ import annotations

import re

import httpx
import pytest

from agentactors.http import Settings
from agentactors.http._auth import Policy, verdict
from agentactors.http._login import COOKIE, Attempts, Logins, cookie_token

from .http_helpers import PROJECT, Live, open_stream
from .test_http_auth import PASSWORD, basic


@pytest.fixture
def http_settings() -> Settings:
    return Settings(port=0, directory=PROJECT, password=PASSWORD)


async def _login(live: Live, password: str = PASSWORD) -> httpx.Response:
    return await live.client.post("/inbox/login", data={"password": password})


def _csrf(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)">', html)
    assert found is not None, html[:500]
    return found[1]


async def test_page_without_credentials_is_the_login_form(live: Live) -> None:
    """With a password set, / shows the login form (no Basic challenge: a browser would
    pop up its own dialog), and the API stays closed."""
    response = await live.client.get("/")
    assert response.status_code == 200
    assert "www-authenticate" not in response.headers
    assert 'action="/inbox/login"' in response.text
    assert "csrf-token" not in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    css = re.search(r'href="(/inbox/static/inbox\.css\?v=\w+)"', response.text)
    assert css is not None
    asset = await live.client.get(css[1])  # the form's stylesheet needs no password
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/css")
    assert (await live.client.get("/inbox/pending")).status_code == 401


async def test_login_sets_a_strict_http_only_cookie(live: Live) -> None:
    """The right password: 303 to the page, a cookie that is HttpOnly, SameSite=Strict,
    Path=/ and (without TLS) not Secure; with it the page, the views, the API and the
    event stream answer."""
    response = await _login(live)
    assert (response.status_code, response.headers["location"]) == (303, "/")
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().partition("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "secure" not in attributes
    assert "SameSite=Strict" in cookie
    assert cookie.startswith(f"{COOKIE}=")
    page = await live.client.get("/")
    assert 'id="pending"' in page.text
    assert len(_csrf(page.text)) > 20
    assert (await live.client.get("/inbox/pending")).json() == {"total": 0, "requests": []}
    assert (await live.client.get("/permission")).status_code == 200
    cookie = f"{COOKIE}={live.client.cookies[COOKIE]}"
    async with open_stream(live, "/global/event", headers={"Cookie": cookie}):
        pass  # open_stream checks the 200 and server.connected


@pytest.mark.parametrize("password", ["wrong", "", PASSWORD + " ", PASSWORD.upper()])
async def test_a_wrong_password_is_401_with_the_reason(live: Live, password: str) -> None:
    """A wrong password shows the form again with the reason; no cookie."""
    response = await _login(live, password)
    assert response.status_code == 401
    assert "Wrong password." in response.text
    assert "set-cookie" not in response.headers
    assert (await live.client.get("/inbox/pending")).status_code == 401


async def test_a_login_without_a_form_is_a_wrong_password(live: Live) -> None:
    """JSON or nothing instead of a form: the same 401 page, never a 400 or a 500."""
    for content in (b"", b'{"password": "x"}', b"\xff\xfe"):
        response = await live.client.post("/inbox/login", content=content)
        assert response.status_code == 401


async def test_guessing_is_slowed_per_address(live: Live) -> None:
    """After five wrong passwords the address is refused (429, Retry-After), even with
    the right one, until the window passes."""
    for _ in range(5):
        assert (await _login(live, "guess")).status_code == 401
    refused = await _login(live)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "try again in" in refused.text
    assert "set-cookie" not in refused.headers


async def test_cookie_changes_need_the_csrf_token(live: Live) -> None:
    """A cookie-authenticated POST without the page's token, or with another, is a 403
    and changes nothing; with it, it passes.  Basic needs no token."""
    await _login(live)
    token = _csrf((await live.client.get("/")).text)
    session = await live.client.post("/session", json={"title": "t"}, headers={})
    assert session.status_code == 403
    assert "x-csrf-token" in session.json()["message"]
    wrong = await live.client.post("/session", json={}, headers={"x-csrf-token": token[:-1]})
    assert wrong.status_code == 403
    assert (await live.client.get("/session")).json() == []
    made = await live.client.post("/session", json={"title": "t"}, headers={"x-csrf-token": token})
    assert made.status_code == 200
    live.client.cookies.clear()
    auth = {"Authorization": basic("agentactors", PASSWORD)}
    assert (await live.client.post("/session", json={}, headers=auth)).status_code == 200


async def test_logout_ends_the_login(live: Live) -> None:
    """Logout (with the token) clears the cookie and ends the login server-side: the
    old cookie no longer opens anything, and earns no Basic challenge."""
    await _login(live)
    token = _csrf((await live.client.get("/")).text)
    old = live.client.cookies[COOKIE]
    assert (await live.client.post("/inbox/logout")).status_code == 403  # no token
    response = await live.client.post("/inbox/logout", headers={"x-csrf-token": token})
    assert response.status_code == 200
    assert (
        f"{COOKIE}=;" in response.headers["set-cookie"]
        or "Max-Age=0" in (response.headers["set-cookie"])
    )
    live.client.cookies.set(COOKIE, old)
    refused = await live.client.get("/inbox/pending")
    assert refused.status_code == 401
    assert "www-authenticate" not in refused.headers
    assert 'action="/inbox/login"' in (await live.client.get("/")).text


async def test_same_origin_posts_pass_and_foreign_ones_do_not(live: Live) -> None:
    """A page served from the server's own address may post (its Origin names the Host);
    another origin may not, even with the cookie and token."""
    await _login(live)
    token = _csrf((await live.client.get("/")).text)
    host = f"127.0.0.1:{live.port}"
    own = {"Origin": f"http://{host}", "x-csrf-token": token}
    assert (await live.client.post("/session", json={}, headers=own)).status_code == 200
    foreign = {"Origin": "http://evil.example", "x-csrf-token": token}
    assert (await live.client.post("/session", json={}, headers=foreign)).status_code == 403


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (b"http://192.168.1.5:4096", None),
        (b"https://192.168.1.5:4096", None),
        (b"http://192.168.1.5:4097", 403),
        (b"http://192.168.1.6:4096", 403),
        (b"ftp://192.168.1.5:4096", 403),
        (b"http://[bad", 403),
    ],
)
def test_a_lan_page_is_its_own_origin(origin: bytes, status: int | None) -> None:
    """On a LAN bind the page's own origin (the Host it was sent to) passes the origin
    check; another host or port does not."""
    policy = Policy(password=None, check_host=False)
    headers = [(b"host", b"192.168.1.5:4096"), (b"origin", origin)]
    answer = verdict(policy, "POST", "/permission/x/reply", headers)
    assert (answer.status if answer else None) == status


async def test_inbox_views_show_display_text(live: Live) -> None:
    """/inbox/pending and /inbox/request/{id}: newest first, the command with invisible
    characters made visible, what always saves, the session's title."""
    auth = {"Authorization": basic("agentactors", PASSWORD)}
    live.client.headers.update(auth)
    session = await live.session(title="work")
    first = (await live.ask(session["id"], "git push\u202e --force", always=["git push *"])).json()
    second = (await live.ask(session["id"], "make test", patterns=["make test"])).json()
    pending = (await live.client.get("/inbox/pending")).json()
    assert pending["total"] == 2
    assert [v["request"]["id"] for v in pending["requests"]] == [second["id"], first["id"]]
    view = pending["requests"][1]
    assert view["display"]["text"] == "git push<U+202E> --force"
    assert view["display"]["saves"] == ["git push *"]
    assert view["sessionTitle"] == "work"
    one = (await live.client.get(f"/inbox/request/{second['id']}")).json()
    assert one["display"]["saves"] == one["display"]["patterns"] == ["make test"]
    limited = (await live.client.get("/inbox/pending?limit=1")).json()
    assert (limited["total"], len(limited["requests"])) == (2, 1)


def test_logins_expire_and_are_bounded() -> None:
    """A login ends after its ttl; past the limit the oldest goes; tokens are found only
    by themselves."""
    now = [0.0]
    logins = Logins(ttl=10, limit=2, clock=lambda: now[0])
    a, _ = logins.open()
    b, login_b = logins.open()
    assert logins.find(a) is not None
    assert logins.find(a + "x") is None
    assert logins.find(None) is None
    c, _ = logins.open()
    assert logins.find(a) is None  # the oldest went
    assert logins.find(b) == login_b
    now[0] = 10.0
    assert logins.find(b) is None
    assert logins.find(c) is None
    assert len(logins) == 0
    assert login_b.csrf_matches(login_b.csrf.encode())
    assert not login_b.csrf_matches(None)
    assert not login_b.csrf_matches(b"x")


def test_attempts_window() -> None:
    """Wrong passwords count per address within the window; a success forgets them."""
    now = [0.0]
    attempts = Attempts(burst=2, window=60, clock=lambda: now[0])
    attempts.failed("a")
    assert attempts.wait("a") == 0
    attempts.failed("a")
    assert attempts.wait("a") == 60
    assert attempts.wait("b") == 0
    now[0] = 30.0
    assert attempts.wait("a") == 30
    now[0] = 60.0
    assert attempts.wait("a") == 0
    attempts.failed("b")
    attempts.failed("b")
    attempts.succeeded("b")
    assert attempts.wait("b") == 0


def test_cookie_token_parsing() -> None:
    assert cookie_token(None) is None
    assert cookie_token(f"a=1; {COOKIE}=tok; b=2".encode()) == "tok"
    assert cookie_token(f'{COOKIE}="tok"'.encode()) == "tok"
    assert cookie_token(f"{COOKIE}=".encode()) is None
    assert cookie_token(b"other=1") is None


async def test_host_and_origin_checks_hold_for_the_page_and_login(live: Live) -> None:
    """The page, its assets and the login are open to no foreign Host, and the login
    takes no post from a foreign origin (login CSRF)."""
    for path in ("/", "/inbox/static/inbox.js"):
        response = await live.client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 403
    foreign = {"Origin": "http://evil.example"}
    response = await live.client.post("/inbox/login", data={"password": PASSWORD}, headers=foreign)
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


async def test_the_page_with_the_password_in_authorization(live: Live) -> None:
    """A browser that sends Basic itself gets the page, with no login to log out of."""
    response = await live.client.get("/", headers={"Authorization": basic("agentactors", PASSWORD)})
    assert 'id="pending"' in response.text
    assert _csrf(response.text) == ""
    assert 'id="logout"' not in response.text
