// Drives an agentactors server with the real OpenCode SDK (npm @opencode-ai/sdk).
//
//   node check.mjs <url> <directory> <v1|v2>
//
// v1 is `import { createOpencodeClient } from "@opencode-ai/sdk"`, v2 is
// `@opencode-ai/sdk/v2`. Both are created with `{ baseUrl: url, directory }`, so every
// call carries the directory the way OpenCode clients do (GETs: `?directory=`; other
// methods and v1's event streams: the URL-encoded `x-opencode-directory` header).
//
// The script checks as it goes and stops at the first failure. It prints one JSON
// object on stdout: `{ok, client, ...what it saw, exchanges}`, where `exchanges` is every
// HTTP request it made and the answer (the exact wire traffic, to report a mismatch);
// exit status 0 when every check passed, 1 otherwise (with `error`). The permission
// requests are created through the server's native route
// `POST /session/{id}/permission?wait=true` (held until decided) with plain fetch.

const [url, directory, which] = process.argv.slice(2);
if (!url || !directory || !["v1", "v2"].includes(which)) {
  console.error("usage: node check.mjs <url> <directory> <v1|v2>");
  process.exit(2);
}

// ---------------------------------------------------------------- the wire log
// Every fetch the SDK makes goes through globalThis.fetch (v1's event streams call it
// directly, its other calls and all of v2's through the client's default fetch).
const exchanges = [];
const realFetch = globalThis.fetch;
const LOGGED_HEADERS = ["content-type", "x-opencode-directory", "x-opencode-workspace", "last-event-id", "accept"];

globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const target = new URL(request.url);
  const entry = { method: request.method, path: target.pathname + target.search };
  const headers = {};
  for (const name of LOGGED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  entry.headers = headers;
  if (request.body !== null) entry.body = await request.clone().text();
  exchanges.push(entry);
  const response = await realFetch(request);
  entry.status = response.status;
  entry.contentType = response.headers.get("content-type");
  if (entry.contentType?.startsWith("text/event-stream")) {
    entry.response = "(event stream)";
  } else {
    entry.response = (await response.clone().text()).slice(0, 2000);
  }
  return response;
};

// ---------------------------------------------------------------- helpers
class CheckFailed extends Error {
  name = "CheckFailed";
}

function check(condition, what, detail) {
  if (!condition) {
    throw new CheckFailed(`${what}${detail === undefined ? "" : `: ${JSON.stringify(detail)}`}`);
  }
}

/** The data of an SDK result `{data, error, request, response}`; fails on an error. */
function data(result, what) {
  const status = result.response?.status;
  const error = result.error instanceof Error ? `${result.error} ${result.error.cause ?? ""}` : result.error;
  check(result.error === undefined && result.response?.ok, `${what} failed`, { status, error });
  return result.data;
}

/** The error of an SDK result that must fail: `{status, body}`. */
function failure(result, what) {
  check(result.error !== undefined, `${what} should have failed`, { data: result.data });
  return { status: result.response?.status, body: result.error };
}

const sseErrors = [];
const streams = new AbortController();
/** Options for the SDK's event streams: cancellable, and no silent retrying. */
const sseOptions = {
  signal: streams.signal,
  sseMaxRetryAttempts: 1,
  onSseError: (error) => sseErrors.push(String(error)),
};

/** Reads an SDK event stream (`{stream}`) in the background; `next(match)` waits. */
function reader(result, label) {
  const seen = [];
  let wake = () => {};
  let ended = false;
  (async () => {
    try {
      for await (const event of result.stream) {
        seen.push(event);
        wake();
      }
    } catch (error) {
      sseErrors.push(`${label}: ${error}`);
    }
    ended = true;
    wake();
  })();
  let cursor = 0;
  return {
    seen,
    async next(match, what, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        while (cursor < seen.length) {
          const event = seen[cursor++];
          if (match(event)) return event;
        }
        const left = deadline - Date.now();
        check(!ended && left > 0, `${label}: no ${what} (within ${ms} ms)`, {
          seen,
          sseErrors,
          ended,
        });
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

/** Ask through the native route, held until decided: the promise of `{status, body}`. */
function heldAsk(sessionID, command) {
  const body = { permission: "bash", metadata: { command } };
  return fetch(`${url}/session/${sessionID}/permission?wait=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (response) => ({ status: response.status, body: await response.json() }));
}

const ASKED_KEYS = ["id", "sessionID", "permission", "patterns", "metadata", "always"];

/**
 * One permission round: a held ask for `command`, its `permission.asked` on both
 * streams, `decide(asked)` through the SDK, then the held ask's answer and the
 * decision's event. Returns what the Python side cross-checks against the server.
 */
async function round(ctx, { command, via, decide, state, reply, message, list }) {
  const { sessionID, events, global } = ctx;
  const held = heldAsk(sessionID, command);
  const asked = await events.next(
    (e) => e.type === "permission.asked" && e.properties?.metadata?.command === command,
    `permission.asked for ${command}`,
  );
  const request = asked.properties;
  for (const key of ASKED_KEYS) check(key in request, `permission.asked has ${key}`, asked);
  check(request.id.startsWith("per_"), "request id is per_…", request);
  check(request.sessionID === sessionID, "permission.asked sessionID", request);
  check(request.permission === "bash", "permission.asked permission", request);
  check(JSON.stringify(request.patterns) === JSON.stringify([command]), "patterns", request);
  check(Array.isArray(request.always), "always is an array", request);
  check(typeof asked.id === "string" && asked.id.startsWith("evt_"), "event id evt_…", asked);
  const wrapped = await global.next(
    (e) => e.payload?.type === "permission.asked" && e.payload.properties?.id === request.id,
    `global permission.asked for ${command}`,
  );
  check(wrapped.directory === directory, "global event directory", wrapped);
  check(wrapped.project === "global", "global event project", wrapped);
  let pending;
  if (list) {
    pending = await list();
    const listed = pending.find((p) => p.id === request.id);
    check(listed !== undefined, "pending list holds the request", pending);
    check(JSON.stringify(listed) === JSON.stringify(request), "listed = asked properties", {
      listed,
      request,
    });
  }
  const answer = await decide(request);
  const released = await held;
  check(released.status === 200, "held ask answered 200", released);
  check(released.body.id === request.id, "held ask is this request", released);
  check(released.body.state === state, `held ask released ${state}`, released.body);
  check(released.body.reply === reply, `held ask reply ${reply}`, released.body);
  if (message !== undefined) check(released.body.message === message, "message", released.body);
  const decided = await events.next(
    (e) => e.properties?.requestID === request.id,
    `the decision event of ${request.id}`,
  );
  if (state === "replied") {
    check(decided.type === "permission.replied", "permission.replied", decided);
    check(decided.properties.sessionID === sessionID, "replied sessionID", decided);
    check(decided.properties.reply === reply, "replied reply", decided);
  }
  return { id: request.id, command, via, answer, state, reply, message, decisionEvent: decided };
}

// ---------------------------------------------------------------- v1
async function runV1() {
  const { createOpencodeClient } = await import("@opencode-ai/sdk");
  const client = createOpencodeClient({ baseUrl: url, directory });
  const out = { health: null, notes: [] };
  out.notes.push("v1 has no health method (global.health is v2 only)");
  out.notes.push("v1 has no pending-permission list method (permission.list is v2 only)");

  // sessions
  const created = data(await client.session.create({ body: { title: "sdk v1" } }), "session.create");
  check(created.id?.startsWith("ses_"), "session id ses_…", created);
  check(created.directory === directory, "session.create in the client's directory", created);
  check(created.title === "sdk v1", "session.create title", created);
  const listed = data(await client.session.list(), "session.list");
  check(Array.isArray(listed) && listed.some((s) => s.id === created.id), "session.list", listed);
  check(listed.every((s) => s.directory === directory), "session.list is scoped", listed);
  const got = data(await client.session.get({ path: { id: created.id } }), "session.get");
  check(got.id === created.id && got.title === "sdk v1", "session.get", got);
  const updated = data(
    await client.session.update({ path: { id: created.id }, body: { title: "renamed v1" } }),
    "session.update",
  );
  check(updated.title === "renamed v1", "session.update title", updated);
  const reread = data(await client.session.get({ path: { id: created.id } }), "session.get");
  check(reread.title === "renamed v1", "session.update persisted", reread);
  out.session = reread;

  // events
  const events = reader(await client.event.subscribe(sseOptions), "event.subscribe");
  const global = reader(await client.global.event(sseOptions), "global.event");
  const first = await events.next(() => true, "first event");
  check(first.type === "server.connected", "event.subscribe: server.connected first", first);
  const globalFirst = await global.next(() => true, "first global event");
  check(globalFirst.payload?.type === "server.connected", "global.event: server.connected first", globalFirst);
  out.firstEvents = { event: first, global: globalFirst };

  // permissions: the session-scoped reply method (the only one v1 has)
  const ctx = { sessionID: created.id, events, global };
  const respond = (response) => async (request) => {
    const answer = data(
      await client.postSessionIdPermissionsPermissionId({
        path: { id: created.id, permissionID: request.id },
        body: { response },
      }),
      `postSessionIdPermissionsPermissionId ${response}`,
    );
    check(answer === true, "the reply answers true", answer);
    return answer;
  };
  const via = "postSessionIdPermissionsPermissionId";
  out.rounds = [
    await round(ctx, { command: "git push", via, decide: respond("once"), state: "replied", reply: "once" }),
    await round(ctx, { command: "npm publish", via, decide: respond("reject"), state: "replied", reply: "reject" }),
    await round(ctx, { command: "docker push app", via, decide: respond("always"), state: "replied", reply: "always" }),
    await round(ctx, {
      command: "make deploy",
      via: "session.abort",
      decide: async () => {
        const answer = data(await client.session.abort({ path: { id: created.id } }), "session.abort");
        check(answer === true, "session.abort answers true", answer);
        return answer;
      },
      state: "aborted",
      reply: "reject",
    }),
  ];

  // errors the SDK sees
  out.errors = {
    replyDecided: failure(
      await client.postSessionIdPermissionsPermissionId({
        path: { id: created.id, permissionID: out.rounds[0].id },
        body: { response: "once" },
      }),
      "replying to a decided request",
    ),
  };

  // delete
  const deleted = data(await client.session.delete({ path: { id: created.id } }), "session.delete");
  check(deleted === true, "session.delete answers true", deleted);
  out.errors.getDeleted = failure(
    await client.session.get({ path: { id: created.id } }),
    "session.get of a deleted session",
  );
  const after = data(await client.session.list(), "session.list");
  check(!after.some((s) => s.id === created.id), "deleted session not listed", after);
  return out;
}

// ---------------------------------------------------------------- v2
async function runV2() {
  const { createOpencodeClient } = await import("@opencode-ai/sdk/v2");
  const client = createOpencodeClient({ baseUrl: url, directory });
  const out = { notes: [] };
  out.notes.push("client.v2.* (the /api/... routes) is not served and not exercised");

  out.health = data(await client.global.health(), "global.health");
  check(out.health.healthy === true && typeof out.health.version === "string", "health", out.health);

  // sessions
  const created = data(await client.session.create({ title: "sdk v2" }), "session.create");
  check(created.id?.startsWith("ses_"), "session id ses_…", created);
  check(created.directory === directory, "session.create in the client's directory", created);
  check(created.title === "sdk v2", "session.create title", created);
  const untitled = data(await client.session.create(), "session.create without a body");
  check(untitled.id?.startsWith("ses_") && untitled.directory === directory, "untitled", untitled);
  const listed = data(await client.session.list(), "session.list");
  const ids = listed.map((s) => s.id);
  check(ids.includes(created.id) && ids.includes(untitled.id), "session.list", listed);
  check(listed.every((s) => s.directory === directory), "session.list is scoped", listed);
  const got = data(await client.session.get({ sessionID: created.id }), "session.get");
  check(got.id === created.id && got.title === "sdk v2", "session.get", got);
  const updated = data(
    await client.session.update({ sessionID: created.id, title: "renamed v2" }),
    "session.update",
  );
  check(updated.title === "renamed v2", "session.update title", updated);
  const reread = data(await client.session.get({ sessionID: created.id }), "session.get");
  check(reread.title === "renamed v2", "session.update persisted", reread);
  out.session = reread;

  // events (subscribe(parameters, options): the stream options are the second argument)
  const events = reader(await client.event.subscribe(undefined, sseOptions), "event.subscribe");
  const global = reader(await client.global.event(sseOptions), "global.event");
  const first = await events.next(() => true, "first event");
  check(first.type === "server.connected", "event.subscribe: server.connected first", first);
  const globalFirst = await global.next(() => true, "first global event");
  check(globalFirst.payload?.type === "server.connected", "global.event: server.connected first", globalFirst);
  out.firstEvents = { event: first, global: globalFirst };

  const ctx = { sessionID: created.id, events, global };
  const list = async () => data(await client.permission.list(), "permission.list");
  const reply = (answer, message) => async (request) => {
    const result = data(
      await client.permission.reply({ requestID: request.id, reply: answer, message }),
      `permission.reply ${answer}`,
    );
    check(result === true, "permission.reply answers true", result);
    return result;
  };
  out.rounds = [
    await round(ctx, { command: "git push", via: "permission.reply", decide: reply("once"), list, state: "replied", reply: "once" }),
    await round(ctx, {
      command: "npm publish",
      via: "permission.reply",
      decide: reply("reject", "use the release pipeline"),
      list,
      state: "replied",
      reply: "reject",
      message: "use the release pipeline",
    }),
    await round(ctx, {
      command: "rm -rf build",
      via: "permission.respond",
      decide: async (request) => {
        const result = data(
          await client.permission.respond({ sessionID: created.id, permissionID: request.id, response: "once" }),
          "permission.respond once",
        );
        check(result === true, "permission.respond answers true", result);
        return result;
      },
      list,
      state: "replied",
      reply: "once",
    }),
    await round(ctx, { command: "docker push app", via: "permission.reply", decide: reply("always"), list, state: "replied", reply: "always" }),
    await round(ctx, {
      command: "make deploy",
      via: "session.abort",
      decide: async () => {
        const answer = data(await client.session.abort({ sessionID: created.id }), "session.abort");
        check(answer === true, "session.abort answers true", answer);
        return answer;
      },
      list,
      state: "aborted",
      reply: "reject",
    }),
  ];
  const pending = await list();
  check(Array.isArray(pending) && pending.length === 0, "nothing pending at the end", pending);
  const elsewhere = data(await client.permission.list({ directory: "/nowhere/else" }), "permission.list elsewhere");
  check(Array.isArray(elsewhere) && elsewhere.length === 0, "permission.list is scoped", elsewhere);

  // errors the SDK sees
  out.errors = {
    replyDecided: failure(
      await client.permission.reply({ requestID: out.rounds[0].id, reply: "once" }),
      "replying to a decided request",
    ),
    replyUnknown: failure(
      await client.permission.reply({ requestID: "per_00000000000000000000000000", reply: "once" }),
      "replying to an unknown request",
    ),
  };

  // delete
  for (const session of [created, untitled]) {
    const deleted = data(await client.session.delete({ sessionID: session.id }), "session.delete");
    check(deleted === true, "session.delete answers true", deleted);
  }
  out.errors.getDeleted = failure(
    await client.session.get({ sessionID: created.id }),
    "session.get of a deleted session",
  );
  const after = data(await client.session.list(), "session.list");
  check(after.length === 0, "no sessions left", after);
  return out;
}

// ---------------------------------------------------------------- main
const watchdog = setTimeout(() => finish({ ok: false, error: "check.mjs timed out (20 s)" }, 1), 20_000);

function finish(result, code) {
  clearTimeout(watchdog);
  streams.abort();
  const line = `${JSON.stringify({ client: which, ...result, sseErrors, exchanges })}\n`;
  process.stdout.write(line, () => process.exit(code));
}

try {
  const out = which === "v1" ? await runV1() : await runV2();
  finish({ ok: true, ...out }, 0);
} catch (error) {
  finish({ ok: false, error: String(error), stack: error?.stack }, 1);
}
