"""What ``agentactors watch`` shows, as plain text: a pending request's row and details,
a decision's log line.  Pure functions over the model's values (no I/O, no Textual).

Everything a client sent (commands, paths, patterns, titles, messages) goes through the
shell analyser's ``display_text``: invisible and direction-control characters are shown
as ``<U+XXXX>``, never drawn.  The app renders these strings as plain text, never as
markup.
"""

from __future__ import annotations

import os

from agentactors.model import Decider, PermissionRequest, Session
from agentactors.policy.shell import display_text


def subject(request: PermissionRequest) -> str:
    """The command or path the request is about (its metadata), else its patterns."""
    for key in ("command", "path", "filePath"):
        value = request.metadata.get(key)
        if isinstance(value, str) and value:
            return display_text(value)
    return display_text(" | ".join(request.patterns))


def project(directory: str) -> str:
    """A directory's short name: its last part (``/`` for the root)."""
    return display_text(os.path.basename(directory.rstrip("/")) or directory)


def row(request: PermissionRequest) -> str:
    """The request's line in the pending list: its project (when the request says its
    directory), its kind and what it is about."""
    first = subject(request).split("\n", 1)[0]
    line = f"{display_text(request.permission)}  {first}"
    return f"{project(request.directory)}: {line}" if request.directory else line


def duration(ms: int) -> str:
    """``ms`` as the largest whole units: 45s, 3m 05s, 2h 10m, 4d 3h."""
    seconds = max(ms, 0) // 1000
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def saved_patterns(request: PermissionRequest) -> tuple[str, ...]:
    """What an ``always`` reply saves: the request's ``always`` patterns, else its own."""
    return request.always or request.patterns


def detail(request: PermissionRequest, session: Session | None, now: int) -> str:
    """The detail pane: kind, command or path, patterns, what always saves, the session,
    the age and the time left (``now`` in Unix ms)."""
    lines = [f"{request.id}", f"kind:      {display_text(request.permission)}"]
    if any(isinstance(request.metadata.get(k), str) for k in ("command", "path", "filePath")):
        lines.append(f"subject:   {subject(request)}")
    lines.append("patterns:")
    lines += [f"  {display_text(p)}" for p in request.patterns]
    lines.append("always saves:")
    lines += [f"  {display_text(p)}" for p in saved_patterns(request)]
    if session is None:
        lines.append(f"session:   {request.session_id}")
    else:
        title = display_text(session.title) or "(untitled)"
        lines.append(f"session:   {title} ({session.id})")
    directory = session.directory if session is not None else request.directory
    if directory:
        lines.append(f"directory: {display_text(directory)}")
    lines.append(f"age:       {duration(now - request.created)}")
    if request.expires_at is not None:
        lines.append(f"time left: {duration(request.expires_at - now)}")
    else:
        lines.append("time left: no expiry")
    return "\n".join(lines)


def decider(value: Decider | None) -> str:
    """Who or what decided: ``user (127.0.0.1)``, ``plugin auto_approve``, ``timeout``."""
    if value is None:
        return "?"
    text = value.kind
    if value.name:
        text += f" {display_text(value.name)}"
    if value.address:
        text += f" ({display_text(value.address)})"
    return text


def outcome(reply: str | None, state: str) -> str:
    """``allowed once``, ``allowed always``, ``rejected``, ``expired``, ``aborted``."""
    if state in ("expired", "aborted"):
        return state
    return f"allowed {reply}" if reply in ("once", "always") else "rejected"


def decision(
    request_id: str,
    about: PermissionRequest | None,
    final: PermissionRequest | None,
    *,
    mine: bool = False,
) -> str:
    """A decision's log line: which request (``about``: what was known of it), what it
    became, who decided it (``you`` when ``mine``) and the message (``final``: its final
    state; None: it is gone, unknown to the server)."""
    what = f"{request_id} {row(about)}" if about is not None else request_id
    if final is None:
        return f"{what}: gone (the server no longer knows it)"
    who = "you" if mine else decider(final.decided_by)
    line = f"{what}: {outcome(final.reply, final.state)} by {who}"
    if final.message:
        line += f": {display_text(final.message)}"
    return line
