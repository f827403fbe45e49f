"""The seed scenarios over the wire: plugin replies and HTTP replies reach the one
permission actor, whichever app object or transport carries them."""

from __future__ import annotations

from typing import Any

import httpx
import trio
import trio.testing

from agentactors.actors import BUS, api, make_event
from agentactors.actors.messages import Publish
from agentactors.actors.runtime import acall
from agentactors.http import HttpServer, Settings
from agentactors.model import Event
from agentactors.plugins import Plugin, PluginSpec, start_plugins
from agentactors.policy import Config

from .conftest import next_event
from .http_helpers import PROJECT, Live


def start(*classes: type[Plugin]) -> None:
    start_plugins([], PROJECT, extra=[PluginSpec(c.__name__, plugin_class=c) for c in classes])


class ReplyOnce(Plugin):
    events = ("permission.asked",)

    def on_event(self, event: Event) -> None:
        self.client.reply(event.properties["id"], "once")


async def test_plugin_reply_releases_an_http_ask(live: Live) -> None:
    """An ask held open over HTTP (?wait=true) is released by a plugin's client reply."""
    start(ReplyOnce)
    session = await live.session()
    with trio.fail_after(10):
        response = await live.client.post(
            f"/session/{session['id']}/permission",
            params={"wait": "true"},
            json={"permission": "bash", "patterns": ["make deploy"]},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["reply"]) == ("replied", "once")
    assert body["decidedBy"] == {"kind": "plugin", "name": "reply-once"}


class AsksOnTick(Plugin):
    """Asks (and waits) when it sees a "tick" event; remembers the outcome."""

    events = ("tick",)
    outcomes: list[Any] = []  # noqa: RUF012 - shared with the test on purpose

    def on_event(self, event: Event) -> None:
        session = self.client.create_session(PROJECT, title="plugin asks")
        final = self.client.ask(session.id, "bash", ["make release"], wait=True)
        AsksOnTick.outcomes.append(final)
        self.client.create_session(PROJECT, title="plugin done")


async def test_http_reply_releases_a_plugin_ask(live: Live) -> None:
    """A request asked by a plugin is released by a reply on the OpenCode route."""
    AsksOnTick.outcomes.clear()
    start(AsksOnTick)
    events = await api.subscribe(["permission.asked", "session.created"])
    await acall(BUS, Publish(make_event("tick", {})))
    asked = await next_event(events, "permission.asked")
    reply = await live.client.post(
        f"/permission/{asked.properties['id']}/reply", json={"reply": "once"}
    )
    assert reply.json() is True
    with trio.fail_after(10):
        while (await next_event(events, "session.created")).properties["info"][
            "title"
        ] != "plugin done":
            pass
    assert AsksOnTick.outcomes[0].reply == "once"


async def test_a_second_app_reaches_the_same_permission_actor(live: Live, config: Config) -> None:
    """A second server built in the same process replies to a request parked on the first."""
    second = HttpServer(Settings(port=0, directory=PROJECT), config)
    session = await live.session()
    async with trio.open_nursery() as nursery:
        url = await nursery.start(second.run)
        asked = await live.ask(session["id"], "make deploy")
        request_id = asked.json()["id"]
        result: list[httpx.Response] = []

        done = trio.Event()

        async def parked() -> None:
            result.append(await live.client.get(f"/permission/{request_id}/wait"))
            done.set()

        nursery.start_soon(parked)
        await trio.testing.wait_all_tasks_blocked()
        async with httpx.AsyncClient(base_url=url) as other:
            answer = await other.post(f"/permission/{request_id}/reply", json={"reply": "once"})
            assert answer.json() is True
        with trio.fail_after(10):
            await done.wait()
        second.shutdown()
    assert result[0].json()["reply"] == "once"


class CrashesOnEvery(Plugin):
    events = ("tick",)

    def on_event(self, event: Event) -> None:
        raise RuntimeError("broken plugin")


async def test_crashing_plugin_restarts_show_in_debug_actors(live: Live) -> None:
    """1,000 events into a raising plugin: the server answers throughout; restarts show."""
    start(CrashesOnEvery)
    session = await live.session()
    for n in range(1000):
        await acall(BUS, Publish(make_event("tick", {"n": n})))
        if n % 250 == 0:
            assert (await live.ask(session["id"], "make")).status_code == 200
    actors = (await live.client.get("/debug/actors")).json()
    row = next(a for a in actors if a["name"] == "plugin:crashes-on-every")
    assert row["restarts"] >= 1
    assert (await live.client.get("/global/health")).json()["healthy"] is True
