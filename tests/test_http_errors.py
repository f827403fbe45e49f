"""Every route's bad input, table-driven: an honest status, a JSON error naming the field,
never a 500 and never a silent success."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import trio

from agentactors.actors import PERMISSION, api
from agentactors.actors.runtime import Crash, acall
from agentactors.model import RuntimeFault, new_id

from .http_helpers import Live

UNKNOWN_SES, UNKNOWN_PER, UNKNOWN_APR = new_id("ses"), new_id("per"), new_id("apr")
ASK = {"permission": "bash", "patterns": ["ls"]}
BAD_RULE = [{"permission": "bash", "pattern": "*", "action": "maybe"}]


def case(  # noqa: PLR0917 - a table row reads best positionally
    name: str,
    method: str,
    path: str,
    status: int,
    field: str | None = None,
    kind: str = "Payload",
    **request: Any,
) -> Any:
    return pytest.param(method, path, request, status, field, kind, id=name)


CASES = [
    # POST /permission/{requestID}/reply
    case("reply-bad-id", "POST", "/permission/bad/reply", 400, "requestID", "Params",
         json={"reply": "once"}),
    case("reply-wrong-prefix", "POST", f"/permission/{UNKNOWN_SES}/reply", 400, "requestID",
         "Params", json={"reply": "once"}),
    case("reply-unknown", "POST", f"/permission/{UNKNOWN_PER}/reply", 404, json={"reply": "once"}),
    case("reply-missing", "POST", "/permission/{rid}/reply", 400, "reply", json={}),
    case("reply-empty-body", "POST", "/permission/{rid}/reply", 400, "reply"),
    case("reply-bad-enum", "POST", "/permission/{rid}/reply", 400, "reply",
         json={"reply": "maybe"}),
    case("reply-bad-message", "POST", "/permission/{rid}/reply", 400, "message",
         json={"reply": "once", "message": 5}),
    case("reply-bad-scope", "POST", "/permission/{rid}/reply", 400, "scope",
         json={"reply": "always", "scope": "galaxy"}),
    case("reply-not-json", "POST", "/permission/{rid}/reply", 400, "body", content=b"{nope"),
    case("reply-not-object", "POST", "/permission/{rid}/reply", 400, "body", content=b"[1]"),
    case("reply-nan", "POST", "/permission/{rid}/reply", 400, "body", content=b"NaN"),
    case("reply-not-utf8", "POST", "/permission/{rid}/reply", 400, "body", content=b"\xff\xfe"),
    case("reply-too-deep", "POST", "/permission/{rid}/reply", 400, "body",
         content=b'{"reply": "once", "message": ' + b"[" * 65 + b"]" * 65 + b"}"),
    case("reply-far-too-deep", "POST", "/permission/{rid}/reply", 400, "body",
         content=b"[" * 100_000 + b"]" * 100_000),
    case("reply-decided", "POST", "/permission/{done}/reply", 409, json={"reply": "once"}),
    pytest.param(  # the server answers and closes before the client has sent it all, and
        # httpx then drops its unfinished body generator (an unraisable warning: httpx's)
        "POST", "/permission/{rid}/reply",
        {"content": b'{"reply": "once", "message": "' + b"x" * (2 << 20) + b'"}'},
        413, None, "Payload", id="reply-too-large",
        marks=pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    ),
    # POST /session/{sessionID}/permissions/{permissionID} (deprecated)
    case("session-reply-bad-session", "POST", "/session/bad/permissions/{rid}", 400,
         "sessionID", "Params", json={"response": "once"}),
    case("session-reply-bad-id", "POST", "/session/{sid}/permissions/bad", 400,
         "permissionID", "Params", json={"response": "once"}),
    case("session-reply-missing", "POST", "/session/{sid}/permissions/{rid}", 400, "response",
         json={"reply": "once"}),
    case("session-reply-unknown-session", "POST", f"/session/{UNKNOWN_SES}/permissions/{{rid}}",
         404, json={"response": "once"}),
    # sessions
    case("create-bad-title", "POST", "/session", 400, "title", json={"title": 5}),
    case("create-bad-parent", "POST", "/session", 400, "parentID", json={"parentID": "x"}),
    case("create-unknown-parent", "POST", "/session", 404, json={"parentID": UNKNOWN_SES}),
    case("create-bad-rules", "POST", "/session", 400, "permission", json={"permission": "allow"}),
    case("create-bad-action", "POST", "/session", 400, "permission[0].action",
         json={"permission": BAD_RULE}),
    case("create-relative-directory", "POST", "/session", 400, "directory", "Query",
         json={}, params={"directory": "relative/dir"}),
    case("create-relative-header", "POST", "/session", 400, "x-opencode-directory", "Headers",
         json={}, headers={"x-opencode-directory": "relative%2Fdir"}),
    case("get-bad-id", "GET", "/session/bad", 400, "sessionID", "Params"),
    case("get-unknown", "GET", f"/session/{UNKNOWN_SES}", 404),
    case("patch-bad-title", "PATCH", "/session/{sid}", 400, "title", json={"title": []}),
    case("patch-bad-rules", "PATCH", "/session/{sid}", 400, "permission[0].action",
         json={"permission": BAD_RULE}),
    case("patch-unknown", "PATCH", f"/session/{UNKNOWN_SES}", 404, json={}),
    case("delete-bad-id", "DELETE", "/session/bad", 400, "sessionID", "Params"),
    case("delete-unknown", "DELETE", f"/session/{UNKNOWN_SES}", 404),
    case("abort-unknown", "POST", f"/session/{UNKNOWN_SES}/abort", 404),
    # POST /session/{sessionID}/permission (ask)
    case("ask-missing", "POST", "/session/{sid}/permission", 400, "permission", json={}),
    case("ask-empty-permission", "POST", "/session/{sid}/permission", 400, "permission",
         json={"permission": ""}),
    case("ask-patterns-string", "POST", "/session/{sid}/permission", 400, "patterns",
         json={"permission": "bash", "patterns": "ls"}),
    case("ask-pattern-number", "POST", "/session/{sid}/permission", 400, "patterns[0]",
         json={"permission": "bash", "patterns": [1]}),
    case("ask-no-patterns", "POST", "/session/{sid}/permission", 400, "patterns",
         json={"permission": "bash"}),
    case("ask-zero-timeout", "POST", "/session/{sid}/permission", 400, "timeout",
         json={**ASK, "timeout": 0}),
    case("ask-text-timeout", "POST", "/session/{sid}/permission", 400, "timeout",
         json={**ASK, "timeout": "soon"}),
    case("ask-half-tool", "POST", "/session/{sid}/permission", 400, "tool.callID",
         json={**ASK, "tool": {"messageID": "msg_1"}}),
    case("ask-metadata-list", "POST", "/session/{sid}/permission", 400, "metadata",
         json={**ASK, "metadata": []}),
    case("ask-bad-wait", "POST", "/session/{sid}/permission", 400, "wait", "Query",
         json=ASK, params={"wait": "maybe"}),
    case("ask-unknown-session", "POST", f"/session/{UNKNOWN_SES}/permission", 404, json=ASK),
    case("ask-bad-session", "POST", "/session/bad/permission", 400, "sessionID", "Params",
         json=ASK),
    # one request, its long-poll
    case("get-permission-bad-id", "GET", "/permission/bad", 400, "requestID", "Params"),
    case("get-permission-unknown", "GET", f"/permission/{UNKNOWN_PER}", 404),
    case("wait-negative", "GET", "/permission/{rid}/wait", 400, "timeout", "Query",
         params={"timeout": "-1"}),
    case("wait-text", "GET", "/permission/{rid}/wait", 400, "timeout", "Query",
         params={"timeout": "soon"}),
    case("wait-twice", "GET", "/permission/{rid}/wait", 400, "timeout", "Query",
         params=[("timeout", "1"), ("timeout", "2")]),
    case("wait-unknown", "GET", f"/permission/{UNKNOWN_PER}/wait", 404),
    # saved approvals, history, lists
    case("saved-bad-scope", "GET", "/permission/saved", 400, "scope", "Query",
         params={"scope": "galaxy"}),
    case("saved-bad-session", "GET", "/permission/saved", 400, "sessionID", "Query",
         params={"sessionID": "x"}),
    case("revoke-bad-id", "DELETE", "/permission/saved/bad", 400, "approvalID", "Params"),
    case("revoke-unknown", "DELETE", f"/permission/saved/{UNKNOWN_APR}", 404),
    case("history-zero-limit", "GET", "/permission/history", 400, "limit", "Query",
         params={"limit": "0"}),
    case("history-text-limit", "GET", "/permission/history", 400, "limit", "Query",
         params={"limit": "ten"}),
    case("history-bad-state", "GET", "/permission/history", 400, "state", "Query",
         params={"state": "bogus"}),
    case("history-bad-decider", "GET", "/permission/history", 400, "decider", "Query",
         params={"decider": "robot"}),
    case("history-negative-since", "GET", "/permission/history", 400, "since", "Query",
         params={"since": "-1"}),
    case("history-huge-since", "GET", "/permission/history", 400, "since", "Query",
         params={"since": "9" * 23}),
    case("history-huge-until", "GET", "/permission/history", 400, "until", "Query",
         params={"until": str(2**53)}),
    case("history-bad-cursor", "GET", "/permission/history", 400, "before", "Query",
         params={"before": "ses_x"}),
    case("list-relative-directory", "GET", "/permission", 400, "directory", "Query",
         params={"directory": "x"}),
    case("list-nul-directory", "GET", "/permission", 400, "directory", "Query",
         params={"directory": "/tmp/a\x00b"}),
    case("create-nul-header", "POST", "/session", 400, "x-opencode-directory", "Headers",
         json={}, headers={"x-opencode-directory": "%2Ftmp%2Fa%00b"}),
    case("list-bad-header-beside-query", "GET", "/session", 400, "x-opencode-directory",
         "Headers", params={"directory": "/tmp"}, headers={"x-opencode-directory": "{}"}),
    case("event-bad-last-id", "GET", "/event", 400, "Last-Event-ID", "Headers",
         headers={"Last-Event-ID": "nope"}),
    # routing
    case("unknown-route", "GET", "/nope", 404),
    case("wrong-method", "PUT", "/permission", 405),
    case("trailing-slash", "GET", "/session/", 404),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "request_kwargs", "status", "field", "kind"), CASES)
async def test_bad_input(  # noqa: PLR0917 - parametrized: pytest passes them by name
    live: Live,
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
    status: int,
    field: str | None,
    kind: str,
) -> None:
    """Each bad input gets its status and a JSON error naming the field; nothing changes."""
    session = await live.session()
    pending = await api.ask(session["id"], "bash", ["make deploy"])
    done = await api.ask(session["id"], "bash", ["make test"])
    await api.reply(done.id, "once")
    target = path.format(sid=session["id"], rid=pending.id, done=done.id)
    response = await live.client.request(method, target, **request_kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) >= {"_tag", "message"}
    if status == 400:
        assert (body["field"], body["data"]["kind"], body["name"]) == (field, kind, "BadRequest")
        assert field in body["message"]
    if status == 405:
        assert "GET" in response.headers["allow"]
    assert (await api.get_permission(pending.id)).pending


async def test_a_bug_is_a_logged_500(
    live: Live, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a real bug answers 500 (InternalError, no details), and it is logged."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api, "list_pending", broken)
    response = await live.client.get("/permission")
    assert response.status_code == 500
    assert response.json() == {"_tag": "InternalError", "message": "internal error: RuntimeError"}
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


async def test_a_body_nested_to_the_limit_is_taken(live: Live) -> None:
    """64 levels of nesting (the body's own object included) is the most a body may
    have: metadata nested 63 deep is asked, stored and streamed like any other."""
    session = await live.session()
    metadata: dict[str, Any] = {"command": "ls"}
    for _ in range(62):
        metadata = {"x": metadata}
    response = await live.ask(session["id"], "ls", patterns=["ls"], metadata=metadata)
    assert response.status_code == 200, response.text
    deeper = await live.ask(session["id"], "ls", patterns=["ls"], metadata={"x": metadata})
    assert deeper.status_code == 400
    assert "64 levels" in deeper.json()["message"]


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        ("/permission/per_nope", "4 characters follow 'per_', not 26"),
        (f"/permission/{UNKNOWN_SES}", "does not start with 'per_'"),
        ("/permission/per_0123456789ABCDEFGHJKMNPQRU", "'U' is not in the id alphabet"),
        ("/session/ses_0123456789abcdefghjkmnpqrs", "'a' is not in the id alphabet"),
    ],
)
async def test_an_id_error_says_what_is_wrong(live: Live, path: str, wrong: str) -> None:
    """A malformed id's 400 names the prefix, the length or the character at fault."""
    response = await live.client.get(path)
    assert response.status_code == 400
    assert wrong in response.json()["message"], response.json()


async def test_health_is_a_503_naming_a_service_that_gave_up(live: Live) -> None:
    """Health says healthy only while every service runs: once the supervisor gives up
    on one, it is a 503 naming the service and why."""
    assert (await live.client.get("/global/health")).status_code == 200
    with trio.fail_after(20):
        while (health := await live.client.get("/global/health")).status_code == 200:
            with contextlib.suppress(RuntimeFault):  # crashed, restarting, or gone
                await acall(PERMISSION, Crash("test: crash until the supervisor gives up"))
    assert health.status_code == 503
    assert health.json()["_tag"] == "NotRunningError"
    assert "'permission'" in health.json()["message"]
    assert "gave up" in health.json()["message"]
