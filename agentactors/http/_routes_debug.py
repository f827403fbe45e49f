"""The debug routes: the registry of named actors, the open event streams and where the
debug console listens.
(``/doc``, the OpenAPI document, is served by quart-schema; see ``_doc``.)"""

from __future__ import annotations

from quart import Blueprint, Response

from agentactors.actors.runtime import snapshot

from ._context import context
from ._doc import answers, errors
from ._errors import NotFound
from ._json import json_response
from ._models import ActorInfo, Console, StreamsInfo

blueprint = Blueprint("debug", __name__)


@blueprint.get("/debug/actors")
@answers(list[ActorInfo])
async def debug_actors() -> Response:
    """The registry of named actors"""
    return json_response(
        [
            {
                "name": row.name,
                "class": row.actor_class,
                "alive": row.alive,
                "mailboxDepth": row.mailbox_depth,
                "messagesHandled": row.messages_handled,
                "restarts": row.restarts,
                "startedAt": row.started_at,
                "status": row.status,
                "reason": row.reason,
            }
            for row in snapshot()
        ]
    )


@blueprint.get("/debug/streams")
@answers(StreamsInfo)
async def debug_streams() -> Response:
    """The open event streams and the bytes each holds"""
    streams = context().streams
    return json_response(
        {
            "open": len(streams),
            "maxStreams": streams.limit,
            "streams": [
                {
                    "id": stream.subscription.id,
                    "path": stream.path,
                    "directory": stream.directory,
                    "openedAt": stream.opened_at,
                    "heldBytes": stream.subscription.held_bytes,
                    "peakBytes": stream.subscription.peak_bytes,
                    "maxBytes": stream.subscription.max_bytes,
                    "backlog": stream.subscription.backlog(),
                    "delivered": stream.subscription.delivered,
                    "dropped": stream.subscription.dropped_total,
                }
                for stream in streams.snapshot()
            ],
        }
    )


@blueprint.get("/debug/console")
@answers(Console)
@errors(404)
async def debug_console() -> Response:
    """Where the debug console listens (--repl)"""
    console = context().console
    if console is None:
        raise NotFound("the debug console is off (start the server with --repl)")
    host, port = console
    return json_response({"host": host, "port": port})
