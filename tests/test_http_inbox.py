"""The inbox page's server side over HTTP (the browser tests are in test_inbox_browser):
the page and its assets, the login form and its cookie, CSRF on cookie-authenticated
changes, the brake on guessing, logout, same-origin requests, and the two inbox views."""

from __future__ import annotations

import re

import httpx
import pytest
import trio

from agentactors.http import Settings
from agentactors.http._auth import GateAnswer, Policy, Viewer, verdict
from agentactors.http._login import COOKIE, Attempts, Logins, cookie_token

from .http_helpers import HOST, PROJECT, Live, open_stream
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
    assert (answer.status if isinstance(answer, GateAnswer) else None) == status


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


def test_attempts_reserve_and_are_bounded() -> None:
    """A reserved try counts at once (a success forgets it); past the cap on addresses
    the least recently failed is forgotten."""
    attempts = Attempts(burst=2, window=60, addresses=2, clock=lambda: 0.0)
    assert attempts.reserve("a") == 0
    assert attempts.reserve("a") == 0
    assert attempts.reserve("a") == 60  # two tries in flight already: the third waits
    attempts.succeeded("a")
    assert attempts.reserve("a") == 0
    attempts.failed("b")
    attempts.failed("c")
    assert len(attempts._failed) == 2  # "a" went
    assert attempts.wait("a") == 0


SERVER = "127.0.0.1:4096"
OTHER_PORT = "http://127.0.0.1:38111"  # another page on the same host: same site


@pytest.mark.parametrize(
    ("extra", "first_party"),
    [
        ([], True),  # curl, an old browser: the cookie is SameSite=Strict anyway
        ([(b"origin", b"http://" + SERVER.encode())], True),
        ([(b"sec-fetch-site", b"same-origin")], True),
        ([(b"sec-fetch-site", b"none")], True),  # typed in, a bookmark
        ([(b"origin", OTHER_PORT.encode())], False),
        ([(b"origin", b"https://" + SERVER.encode())], False),  # another scheme
        ([(b"origin", b"http://localhost:4096")], False),  # another host name
        ([(b"sec-fetch-site", b"same-site")], False),  # another port
        ([(b"sec-fetch-site", b"cross-site")], False),
    ],
)
def test_the_login_cookie_counts_only_first_party(
    extra: list[tuple[bytes, bytes]], first_party: bool
) -> None:
    """The gate takes the login cookie only from the page's own origin: an Origin of
    exactly scheme://Host, else a Sec-Fetch-Site of same-origin or none.  Otherwise the
    API is a 401 even with the CSRF token, and the page is the login form."""
    logins = Logins()
    token, login = logins.open()
    policy = Policy(password="pw", open_paths=frozenset({"/"}))
    headers = [(b"host", SERVER.encode()), (b"cookie", f"{COOKIE}={token}".encode()), *extra]
    ours = Viewer(allowed=True, login=login)
    for method, path in (("GET", "/inbox/pending"), ("POST", "/permission/x/reply")):
        with_token = [*headers, (b"x-csrf-token", login.csrf.encode())]
        answer = verdict(policy, method, path, with_token, logins=logins)
        if first_party:
            assert answer == ours
        else:
            assert isinstance(answer, GateAnswer)
            assert (answer.status, answer.headers) == (401, ())  # no Basic dialog
            assert "own origin" in answer.message
    page = verdict(policy, "GET", "/", headers, logins=logins)
    assert page == (ours if first_party else Viewer(allowed=False))


async def test_another_port_cannot_use_the_login(live: Live) -> None:
    """A page on another port of the same host is same-site, so the browser sends it the
    Strict cookie: the server takes it for nothing.  The page is the login form (no CSRF
    token in it), the views and a reply are 401 even with the token, and no answer
    allows credentials to another origin."""
    await _login(live)
    token = _csrf((await live.client.get("/")).text)
    foreign = {"Origin": OTHER_PORT}
    page = await live.client.get("/", headers=foreign)
    assert 'action="/inbox/login"' in page.text
    assert token not in page.text
    navigated = await live.client.get("/inbox/pending", headers={"Sec-Fetch-Site": "same-site"})
    assert navigated.status_code == 401
    pending = await live.client.get("/inbox/pending", headers=foreign)
    assert pending.status_code == 401
    reply = {"reply": "always", "scope": "project"}
    posted = await live.client.post(
        "/permission/per_x/reply", json=reply, headers={**foreign, "x-csrf-token": token}
    )
    assert posted.status_code == 401
    preflight = await live.client.options(
        "/inbox/pending", headers={**foreign, "Access-Control-Request-Method": "GET"}
    )
    for answer in (page, pending, posted, preflight):
        assert answer.headers["access-control-allow-origin"] == OTHER_PORT  # Basic clients
        assert "access-control-allow-credentials" not in answer.headers
    refused = await live.client.post("/inbox/login", data={"password": "x"}, headers=foreign)
    assert refused.status_code == 403  # nor may it post the login form (guessing)
    assert (await live.client.get("/inbox/pending")).status_code == 200  # still logged in


async def test_wrong_passwords_in_headers_are_braked(live: Live) -> None:
    """Wrong passwords in Authorization count with the login form's: past five, every
    try from the address is a 429 with Retry-After, the right password included, and
    an open route is no way around it."""
    for i in range(5):
        path = "/" if i % 2 else "/permission"
        wrong = "Bearer guess" if i % 2 else basic("agentactors", "guess")
        response = await live.client.get(path, headers={"Authorization": wrong})
        assert response.status_code == (200 if path == "/" else 401)
        assert 'id="pending"' not in response.text
    for authorization in ("Bearer guess", basic("agentactors", PASSWORD)):
        refused = await live.client.get("/permission", headers={"Authorization": authorization})
        assert refused.status_code == 429
        assert refused.json()["_tag"] == "TooManyAttemptsError"
        assert int(refused.headers["retry-after"]) > 0
    assert (await _login(live)).status_code == 429
    assert (await live.client.get("/global/health")).status_code == 200  # no credentials


async def test_concurrent_logins_cannot_outrun_the_brake(live: Live) -> None:
    """A hundred logins whose heads arrive before their bodies: five hold a try each,
    the other 95 are refused at once (429) without their bodies; the five then answer
    401."""
    body = b"password=guess"
    head = (
        f"POST /inbox/login HTTP/1.1\r\nHost: {HOST}:{live.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    streams = [await trio.open_tcp_stream(HOST, live.port) for _ in range(100)]
    statuses: dict[int, int] = {}
    refused = trio.Event()

    async def status(i: int) -> None:
        await streams[i].send_all(head)
        first = await streams[i].receive_some(65536)
        statuses[i] = int(first.split(b" ", 2)[1])
        if sum(s == 429 for s in statuses.values()) == 95:
            refused.set()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            for i in range(len(streams)):
                nursery.start_soon(status, i)
            await refused.wait()  # before any body was sent
            held = [i for i in range(len(streams)) if i not in statuses]
            assert len(held) == 5
            for i in held:
                await streams[i].send_all(body)
    assert sorted(statuses.values()) == [401] * 5 + [429] * 95
    for stream in streams:
        await stream.aclose()


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
