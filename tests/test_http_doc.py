"""/doc: a valid OpenAPI 3.1 document of exactly the routes served, whose schemas the
real answers match; and schemathesis against a live server finds no server error and no
schema violation."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from agentactors.actors import Subscription, api
from agentactors.http import Settings
from agentactors.http._doc import schema_of
from agentactors.http._models import (
    PATH_IDS,
    Event,
    PermissionAsked,
    PermissionState,
    SavedApproval,
    Session,
)
from agentactors.http._quart_schema import QUART_SCHEMA_HIDDEN_ATTRIBUTE
from agentactors.model import AlreadyDecided, PermissionNotFound, is_id, new_id, wire

from .http_helpers import PROJECT, Live, open_stream


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator({**schema, "components": doc["components"]})


async def _doc(live: Live) -> dict[str, Any]:
    response = await live.client.get("/doc")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_doc_is_a_valid_openapi_31_document(live: Live) -> None:
    """openapi-spec-validator accepts /doc as OpenAPI 3.1."""
    validator = pytest.importorskip("openapi_spec_validator")
    doc = await _doc(live)
    validator.validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert "securitySchemes" not in doc["components"]  # no password, no auth


_EXAMPLE_IDS = {"sessionID": "ses", "requestID": "per", "permissionID": "per", "approvalID": "apr"}


def _served(live: Live, method: str, path: str) -> tuple[str, str]:
    """``(handler name, OpenAPI path template)`` of the route serving ``method path``."""
    adapter = live.server.app.url_map.bind("localhost")
    rule, _ = adapter.match(path, method, return_rule=True)
    template = re.sub(r"<(?:[^:>]*:)?(\w+)>", r"{\1}", rule.rule)
    return live.server.app.view_functions[rule.endpoint].__name__, template


async def test_doc_lists_exactly_the_routes_served(live: Live) -> None:
    """Every documented operation is served by the route of that operation, and every
    route is documented once."""
    doc = await _doc(live)
    app = live.server.app
    documented = []
    for template, operations in doc["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: new_id(_EXAMPLE_IDS[m[1]]), template)
        for method, operation in operations.items():
            assert _served(live, method.upper(), path) == (operation["operationId"], template)
            documented.append(operation["operationId"])
    handlers = [app.view_functions[r.endpoint] for r in app.url_map.iter_rules()]
    # the inbox's HTML routes are hidden from the document (they are not the API)
    served = {h.__name__ for h in handlers if not getattr(h, QUART_SCHEMA_HIDDEN_ATTRIBUTE, 0)}
    served -= {"openapi", "send_static_file"}  # the document itself, Quart's static files
    assert {"page", "login", "logout"} <= {h.__name__ for h in handlers} - served
    assert sorted(documented) == sorted(served)


def test_id_schemas_accept_real_ids() -> None:
    """The documented id pattern accepts what new_id makes and nothing else."""
    pattern = PATH_IDS["requestID"].pattern
    assert pattern is not None
    request_id = new_id("per")
    assert is_id(request_id, "per")
    assert re.match(pattern, request_id)
    assert not re.match(pattern, new_id("ses"))


async def test_real_answers_match_their_documented_schemas(live: Live) -> None:
    """A flow through every route: each 200 answer validates against /doc's schema."""
    doc = await _doc(live)
    rules = [{"permission": "bash", "pattern": "ls *", "action": "allow"},
             {"permission": "bash", "pattern": "rm *", "action": "deny"}]  # fmt: skip
    session = await live.session(title="t", permission=rules)
    sid = session["id"]
    pending = (await live.ask(sid, "make deploy", always=["make *"])).json()
    await live.ask(sid, "ls -la")
    await live.ask(sid, "rm -rf /", tool={"messageID": "msg_1", "callID": "call_1"})
    await live.client.post(f"/permission/{pending['id']}/reply", json={"reply": "always"})
    approval = (await live.client.get("/permission/saved")).json()[0]
    calls = [
        ("GET", "/global/health", None),
        ("GET", "/permission", None),
        ("GET", f"/permission/{pending['id']}", None),
        ("GET", f"/permission/{pending['id']}/wait", None),
        ("GET", "/permission/saved", None),
        ("GET", "/permission/history", None),
        ("GET", f"/permission/history?decider=user&since=0&before={pending['id']}", None),
        ("GET", "/permission/history?limit=1", None),
        ("GET", "/session?limit=1000", None),
        ("DELETE", f"/permission/saved/{approval['id']}", None),
        ("GET", "/session", None),
        ("GET", f"/session/{sid}", None),
        ("PATCH", f"/session/{sid}", {"title": "u", "permission": rules}),
        ("POST", f"/session/{sid}/permission", {"permission": "read", "metadata": {"path": "a"}}),
        ("POST", f"/session/{sid}/abort", None),
        ("GET", "/debug/actors", None),
        ("GET", "/debug/streams", None),
        ("DELETE", f"/session/{sid}", None),
    ]
    async with open_stream(live, "/global/event"):  # so /debug/streams lists one
        for method, path, body in calls:
            response = await live.client.request(method, path, json=body)
            assert response.status_code == 200, (path, response.text)
            _, template = _served(live, method, path.partition("?")[0])
            ok = doc["paths"][template][method.lower()]["responses"]["200"]
            _validator(doc, ok["content"]["application/json"]["schema"]).validate(response.json())


async def test_stream_messages_match_their_documented_schemas(live: Live) -> None:
    """The data lines of /event and /global/event validate against Event / GlobalEvent."""
    doc = await _doc(live)
    for path, schema in (("/event", "Event"), ("/global/event", "GlobalEvent")):
        validator = _validator(doc, {"$ref": f"#/components/schemas/{schema}"})
        async with open_stream(live, path) as stream:
            session = await live.session()
            await live.ask(session["id"], "make deploy")
            for _ in range(2):
                validator.validate(
                    (await stream.next_of("session.created", "permission.asked")).data
                )


def test_wire_shapes_are_what_the_schemas_say() -> None:
    """wire's functions and the documented models stay in step."""
    shapes = {"asked": PermissionAsked, "request_state": PermissionState,
              "session": Session, "approval": SavedApproval, "event": Event}  # fmt: skip
    for function, model in shapes.items():
        assert hasattr(wire, function)
        assert model.__name__ in schema_of(model)[1]


async def _reply_to_everything(events: Subscription) -> None:
    """Act as the human: reject every request as it is asked (releases held asks)."""
    async for event in events:
        if event.type == "permission.asked":
            try:
                await api.reply(event.properties["id"], "reject")
            except (AlreadyDecided, PermissionNotFound):
                pass


SCHEMATHESIS_CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "schemathesis-password"


@pytest.mark.slow
@pytest.mark.parametrize(
    "http_settings",
    [
        pytest.param(Settings(port=0, directory=PROJECT), id="open"),
        pytest.param(Settings(port=0, directory=PROJECT, password=PASSWORD), id="password"),
    ],
)
async def test_schemathesis_finds_no_server_error_or_schema_violation(
    live: Live, events: Subscription, tmp_path: Path, http_settings: Settings
) -> None:
    """schemathesis (every check, the stateful phase, a fixed seed) against the live
    server passes: no server error, no schema mismatch, invalid data refused
    (negative_data_rejection), valid data accepted (positive_data_acceptance), and, with
    a password, no route but health answering without it (ignored_auth).  The event
    streams are left out (they never end); held asks are released by a replier."""
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("schemathesis is not installed (dev extra)")
    command = [
        executable, "--config-file", str(SCHEMATHESIS_CONFIG), "run", f"{live.url}/doc",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful", "--exclude-path-regex", "event$",
        "--request-timeout", "10", "--max-examples", "25", "--seed", "1",
        "--generation-database", "none", "--no-color",
    ]  # fmt: skip
    if http_settings.password:
        command += ["--auth", f"agentactors:{http_settings.password}"]
    with trio.fail_after(300):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_reply_to_everything, events)
            result = await trio.run_process(
                command, capture_stdout=True, capture_stderr=True, check=False, cwd=tmp_path
            )
            nursery.cancel_scope.cancel()
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated is not None, output[-2000:]
    assert int(generated[1]) == int(generated[2]) > 300


def test_serving_imports_no_pydantic() -> None:
    """quart-schema would import pydantic (slowing every start) whenever it is installed;
    the server uses msgspec only, and a plugin may still import pydantic itself."""
    code = (
        "import sys, agentactors.http, agentactors.__main__\n"
        "assert 'pydantic' not in sys.modules and 'pydantic_core' not in sys.modules\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('pydantic'):\n"
        "    import pydantic\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_scoped_routes_and_streams_document_every_input(live: Live) -> None:
    """A scoped route documents ``?directory=`` and ``x-opencode-directory`` (beside its
    own query, a list's page); a stream documents ``Last-Event-ID`` too (each string with
    the pattern that is checked)."""
    doc = await _doc(live)
    scoped = {"directory", "x-opencode-directory"}
    page = {"limit", "cursor"}
    expected = {
        ("/event", "get"): scoped | {"last-event-id"},
        ("/global/event", "get"): {"last-event-id"},
        ("/permission", "get"): scoped | page,
        ("/session", "get"): scoped | page,
        ("/session", "post"): scoped,
    }
    for (path, method), names in expected.items():
        parameters = doc["paths"][path][method]["parameters"]
        assert {p["name"] for p in parameters} == names, path
        strings = [p for p in parameters if p["schema"].get("type") == "string"]
        assert all(p["schema"].get("pattern") for p in strings), path


async def test_list_routes_document_their_pages(live: Live) -> None:
    """Each list route documents limit (1..1,000), cursor (the exact form it takes), the
    default of 100 in its description, and the Link and x-next-cursor answer headers."""
    doc = await _doc(live)
    for path in ("/session", "/permission", "/permission/history", "/permission/saved"):
        operation = doc["paths"][path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
        assert parameters["cursor"]["schema"]["pattern"].startswith("^"), path
        assert "100 unless given" in operation["description"], path
        headers = operation["responses"]["200"]["headers"]
        assert set(headers) == {"link", "x-next-cursor"}, path
        assert all(not h["required"] and h["description"] for h in headers.values())
