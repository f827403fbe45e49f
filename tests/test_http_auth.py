"""The gate: password (Basic and Bearer), Host check, origin check and CORS."""

from __future__ import annotations

import base64

import pytest

import agentactors
from agentactors.http import Settings, StartRefused
from agentactors.http._auth import OPEN, Policy, allowed_origin, authorized, verdict

from .http_helpers import PROJECT, Live

PASSWORD = "s3cret-pässword"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def http_settings() -> Settings:
    return Settings(port=0, directory=PROJECT, password=PASSWORD, cors=("https://app.example",))


@pytest.mark.parametrize(
    "authorization",
    [None, basic("agentactors", "wrong"), basic("admin", PASSWORD), "Bearer wrong", "Digest x",
     "Basic !!!", basic("agentactors", PASSWORD)[:-2]],
)  # fmt: skip
async def test_wrong_or_missing_credentials_are_401(live: Live, authorization: str | None) -> None:
    """Without the password every route but health is a 401 asking for Basic auth."""
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/permission", "/doc", "/event", "/nope"):
        response = await live.client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="agentactors"'
        assert response.json()["_tag"] == "UnauthorizedError"


@pytest.mark.parametrize(
    "authorization", [basic("agentactors", PASSWORD), f"Bearer {PASSWORD}", f"bearer {PASSWORD}"]
)
async def test_basic_and_bearer_pass(live: Live, authorization: str) -> None:
    """Basic with user agentactors, or Bearer (UTF-8), lets a request through."""
    headers = {b"Authorization": authorization.encode()}
    response = await live.client.get("/permission", headers=headers)
    assert (response.status_code, response.json()) == (200, [])


async def test_health_needs_no_password(live: Live) -> None:
    """GET /global/health answers without credentials."""
    response = await live.client.get("/global/health")
    assert response.json() == {"healthy": True, "version": agentactors.__version__}


async def test_doc_declares_security_when_a_password_is_set(live: Live) -> None:
    """/doc names the Basic and Bearer schemes, and 401 on protected routes."""
    doc = (
        await live.client.get("/doc", headers={"Authorization": basic("agentactors", PASSWORD)})
    ).json()
    assert set(doc["components"]["securitySchemes"]) == {"basic", "bearer"}
    assert "401" in doc["paths"]["/permission"]["get"]["responses"]
    assert doc["paths"]["/global/health"]["get"]["security"] == []


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4096", "127.0.0.2", "[::2]:80"])
async def test_foreign_host_header_is_403(live: Live, host: str) -> None:
    """On a loopback bind a Host naming another machine is refused (DNS rebinding)."""
    response = await live.client.get("/global/health", headers={"Host": host})
    assert response.status_code == 403
    assert response.json()["_tag"] == "ForbiddenError"


@pytest.mark.parametrize("host", ["localhost", "localhost:4096", "127.0.0.1:1", "[::1]:4096"])
async def test_loopback_host_headers_pass(live: Live, host: str) -> None:
    """localhost, 127.0.0.1 and [::1] pass the Host check with any port."""
    response = await live.client.get("/global/health", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1", "https://[::1]:8443",
               "https://app.example", "https://app.example/"],
)  # fmt: skip
async def test_allowed_origins_get_cors_headers_and_preflight(live: Live, origin: str) -> None:
    """Loopback origins and --cors values get CORS headers (for a password in a header:
    never Allow-Credentials); their preflight is a 204."""
    preflight = await live.client.options(
        "/permission/per_x/reply",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "authorization, content-type"
    assert "access-control-allow-credentials" not in preflight.headers  # never the cookie
    response = await live.client.get("/global/health", headers={"Origin": origin})
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers
    exposed = response.headers["access-control-expose-headers"]  # a list's next page
    assert {h.strip().lower() for h in exposed.split(",")} == {"link", "x-next-cursor"}


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://localhost.evil.example", "file://",
               "http://127.0.0.1:notaport"],
)  # fmt: skip
async def test_foreign_origins_are_403(live: Live, origin: str) -> None:
    """Any other origin is refused, preflight or not (no cross-site form posts)."""
    for method in ("OPTIONS", "POST"):
        response = await live.client.request(
            method,
            "/permission/per_x/reply",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers


def test_verdict_without_password_lets_loopback_through() -> None:
    """No password: a loopback Host with no Origin passes; no Host at all passes too."""
    policy = Policy()
    assert verdict(policy, "GET", "/permission", [(b"host", b"127.0.0.1:4096")]) == OPEN
    assert verdict(policy, "GET", "/permission", []) == OPEN


def test_non_loopback_bind_skips_the_host_check() -> None:
    """A public bind has no name list to check Host against (the password guards it)."""
    policy = Policy(password="pw", check_host=False)
    headers = [(b"host", b"server.lan:4096"), (b"authorization", b"Bearer pw")]
    assert verdict(policy, "GET", "/permission", headers) == OPEN


def test_authorized_needs_the_exact_user_and_password() -> None:
    """Basic needs user agentactors and the password; Bearer the password; nothing else."""
    assert authorized(basic("agentactors", "pw").encode(), "pw")
    assert not authorized(basic("agentactors", "pw2").encode(), "pw")
    assert not authorized(b"Basic " + base64.b64encode(b"agentactors"), "pw")
    assert not authorized(b"Bearer ", "pw")
    assert not authorized(None, "pw")


def test_allowed_origin_compares_exactly() -> None:
    """--cors values match exactly (a trailing slash aside); loopback by host only."""
    policy = Policy(cors=frozenset({"https://app.example"}))
    assert allowed_origin(policy, b"https://app.example")
    assert not allowed_origin(policy, b"https://app.example.evil")
    assert allowed_origin(policy, b"http://localhost:1234")
    assert not allowed_origin(policy, b"ftp://localhost")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_non_loopback_bind_without_password_refuses_to_start(host: str) -> None:
    """Listening beyond this machine without a password is refused with the fix named."""
    with pytest.raises(StartRefused, match="AGENTACTORS_SERVER_PASSWORD"):
        Settings(host=host).check()
    Settings(host=host, password="pw").check()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.1.2.3"])
def test_loopback_bind_starts_without_password(host: str) -> None:
    """Loopback binds need no password."""
    Settings(host=host).check()
