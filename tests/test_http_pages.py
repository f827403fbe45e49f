"""The list routes from outside: pages of at most ``limit`` rows in a stable order, the
next page named by ``Link`` and ``x-next-cursor``, every row exactly once across a walk,
bad pages refused with a 400 naming the field, and the bodies still plain arrays."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from agentactors.actors import api

from .http_helpers import PROJECT, Live

LISTS = ("/session", "/permission", "/permission/history", "/permission/saved")
_LINK = re.compile(r'^<(?P<url>/[^>]*)>; rel="next"$')


def _next(response: httpx.Response) -> str | None:
    """The next page's URL from ``Link`` (checking ``x-next-cursor`` says the same)."""
    link = response.headers.get("link")
    cursor = response.headers.get("x-next-cursor")
    if link is None:
        assert cursor is None
        return None
    match = _LINK.match(link)
    assert match is not None, link
    assert parse_qs(urlsplit(match["url"]).query)["cursor"] == [cursor]
    return match["url"]


async def _walk(live: Live, url: str, **kwargs: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """Every row from ``url`` on, following ``Link``; and each page's size."""
    rows: list[dict[str, Any]] = []
    sizes: list[int] = []
    next_url: str | None = url
    while next_url is not None:
        response = await live.client.get(next_url, **kwargs)
        assert response.status_code == 200, response.text
        page = response.json()
        assert isinstance(page, list)
        rows += page
        sizes.append(len(page))
        next_url = _next(response)
        assert len(sizes) <= 50, "the walk does not end"
    return rows, sizes


async def _sessions(live: Live, count: int, directory: str | None = None) -> list[str]:
    return [(await live.session(directory))["id"] for _ in range(count)]


async def test_250_sessions_come_100_a_page_newest_first_each_once(live: Live) -> None:
    """The default page is 100; following Link gives all 250 exactly once, most recently
    updated first; the last page names no next one."""
    created = await _sessions(live, 250)
    first = await live.client.get("/session")
    assert len(first.json()) == 100
    assert first.headers["x-next-cursor"]
    rows, sizes = await _walk(live, "/session")
    assert sizes == [100, 100, 50]
    assert [s["id"] for s in rows] == created[::-1]
    updated = [(s["time"]["updated"], s["id"]) for s in rows]
    assert updated == sorted(updated, reverse=True)
    everything = await live.client.get("/session", params={"limit": 1000})
    assert [s["id"] for s in everything.json()] == created[::-1]
    assert "link" not in everything.headers
    assert "x-next-cursor" not in everything.headers


async def test_the_cursor_alone_continues_and_an_update_moves_a_session_first(
    live: Live,
) -> None:
    """?cursor=<x-next-cursor> gives the next page; a session changed since takes its
    place by its new updated time (the latest; a tie within a millisecond goes by id)."""
    created = await _sessions(live, 5)
    first = await live.client.get("/session", params={"limit": 2})
    second = await live.client.get(
        "/session", params={"limit": 2, "cursor": first.headers["x-next-cursor"]}
    )
    assert [s["id"] for s in first.json() + second.json()] == created[:0:-1]
    touched = (await live.client.patch(f"/session/{created[0]}", json={"title": "t"})).json()
    rows, _ = await _walk(live, "/session?limit=2")
    keys = [(s["time"]["updated"], s["id"]) for s in rows]
    assert keys == sorted(keys, reverse=True)
    assert touched["time"]["updated"] == keys[0][0]
    assert sorted(s["id"] for s in rows) == sorted(created)


async def test_the_next_link_keeps_the_directory_given_by_header(live: Live) -> None:
    """A page scoped by the x-opencode-directory header links to the next page of the
    same directory, so following the link alone stays in it."""
    mine = await _sessions(live, 3, "/elsewhere")
    await _sessions(live, 2)  # the server's own directory
    headers = {"x-opencode-directory": "%2Felsewhere"}
    first = await live.client.get("/session", params={"limit": 2}, headers=headers)
    link = _next(first)
    assert link is not None
    assert parse_qs(urlsplit(link).query)["directory"] == ["/elsewhere"]
    rows, sizes = await _walk(live, link)
    assert [s["id"] for s in first.json() + rows] == mine[::-1]
    assert sizes == [1]


async def test_pending_pages_in_the_order_asked(live: Live) -> None:
    """GET /permission: 7 pending requests, 3 a page, oldest first, each once."""
    session = await live.session()
    asked = [(await live.ask(session["id"], f"make step{i}")).json()["id"] for i in range(7)]
    rows, sizes = await _walk(live, "/permission?limit=3")
    assert sizes == [3, 3, 1]
    assert [r["id"] for r in rows] == asked
    assert set(rows[0]) >= {"id", "sessionID", "permission", "patterns", "always"}
    other, _ = await _walk(live, "/permission?limit=3&directory=/nobody")
    assert other == []


async def test_history_pages_newest_first_and_before_still_works(live: Live) -> None:
    """The audit log in pages of 4, newest first, each once; before= still bounds it,
    also beside a cursor."""
    session = await live.session()
    asked = []
    for i in range(10):
        request_id = (await live.ask(session["id"], f"make h{i}")).json()["id"]
        await api.reply(request_id, "once")
        asked.append(request_id)
    rows, sizes = await _walk(live, f"/permission/history?limit=4&sessionID={session['id']}")
    assert sizes == [4, 4, 2]
    assert [r["id"] for r in rows] == asked[::-1]
    older = await live.client.get("/permission/history", params={"before": asked[5]})
    assert [r["id"] for r in older.json()] == asked[4::-1]
    page = await live.client.get("/permission/history", params={"limit": 3})
    cursor = page.headers["x-next-cursor"]  # after asked[7]
    both = await live.client.get(
        "/permission/history", params={"cursor": cursor, "before": asked[3]}
    )
    assert [r["id"] for r in both.json()] == asked[2::-1]
    rows, _ = await _walk(live, f"/permission/history?limit=4&before={asked[5]}")
    assert [r["id"] for r in rows] == asked[4::-1]


async def test_saved_approvals_page_in_the_order_saved(live: Live) -> None:
    """GET /permission/saved: 5 'always' approvals, 2 a page, each once."""
    session = await live.session()
    for i in range(5):
        request_id = (await live.ask(session["id"], f"tool{i} run", always=[f"tool{i} *"])).json()
        response = await live.client.post(
            f"/permission/{request_id['id']}/reply", json={"reply": "always"}
        )
        assert response.status_code == 200
    rows, sizes = await _walk(live, "/permission/saved?limit=2&scope=session")
    assert sizes == [2, 2, 1]
    assert [r["pattern"] for r in rows] == [f"tool{i} *" for i in range(5)]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "1001"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"cursor": "nope"}, "cursor"),
        ({"cursor": ""}, "cursor"),
        ({"cursor": "s.1.01M8VANDV70W1CGPKH55XM8MTB\n"}, "cursor"),
        ({"cursor": ["p.01M8VANDV70W1CGPKH55XM8MTB", "p.01M8VANDV70W1CGPKH55XM8MTC"]}, "cursor"),
    ],
)
async def test_bad_pages_are_a_400_naming_the_field(
    live: Live, path: str, params: dict[str, Any], field: str
) -> None:
    """limit beyond 1..1,000 or not a number, and a malformed cursor: 400, the field named."""
    response = await live.client.get(path, params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["field"], body["data"]["kind"]) == (field, "Query")


async def test_a_cursor_of_another_list_is_refused(live: Live) -> None:
    """Each list takes its own cursors only: one from /session is a 400 elsewhere."""
    await _sessions(live, 2)
    cursor = (await live.client.get("/session", params={"limit": 1})).headers["x-next-cursor"]
    for path in LISTS[1:]:
        response = await live.client.get(path, params={"cursor": cursor})
        assert response.status_code == 400, path
        assert response.json()["field"] == "cursor"


async def test_lists_are_arrays_and_limit_1000_is_taken(live: Live) -> None:
    """The OpenCode-compatible shape: every list route answers a JSON array, also at
    the largest page."""
    await live.session()
    for path in LISTS:
        response = await live.client.get(path, params={"limit": 1000})
        assert response.status_code == 200, path
        assert isinstance(response.json(), list), path
    response = await live.client.get("/session", params={"directory": PROJECT})
    assert isinstance(response.json(), list)
