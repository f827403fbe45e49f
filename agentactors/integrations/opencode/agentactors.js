// agentactors: OpenCode permission asks, decided by an agentactors server.
//
// Installed by `agentactors install opencode` into .opencode/plugins/ (or
// ~/.config/opencode/plugins/).  Plain JavaScript, no imports: OpenCode loads it as is.
//
// For each `permission.asked` event this plugin asks the agentactors server natively and
// waits (POST /session/{id}/permission?wait=true), then answers OpenCode through OpenCode's
// own reply route, POST {serverUrl}/permission/{requestID}/reply, over plain HTTP.
//   our once   -> OpenCode "once"
//   our always -> OpenCode "always"
//   our reject -> OpenCode "reject" with our message (or the rule that denied it)
// Anything else (server unreachable, an error answer, a request that expired or was
// aborted) sends nothing: OpenCode's own prompt stays for the person.  Never an allow.
// When the person answers in OpenCode first, the plugin withdraws its request here.
//
// Configuration (environment of the OpenCode process):
//   AGENTACTORS_URL              the server (default DEFAULT_URL below)
//   AGENTACTORS_SERVER_PASSWORD  its password, if it has one (HTTP Basic, user agentactors)
//   OPENCODE_SERVER_PASSWORD / OPENCODE_SERVER_USERNAME
//                                OpenCode's own password, when its server has one
//   AGENTACTORS_OPENCODE_DEBUG   set to 1 to log each step to stderr
//
// Supported OpenCode versions: 1.x with `permission.asked` events and the
// /permission/{requestID}/reply route (tested: 1.18.33).  The reply goes over HTTP to
// serverUrl whenever the OpenCode server there lists the request as pending, on every
// version, so the in-process SDK client (which before 1.17.7 could answer a second copy
// of the permission service) is not involved.  Only when no server at serverUrl holds it
// (the TUI started without --port, where serverUrl is a placeholder and the process
// holds the one server) is the reply handed to the in-process client, which then
// reaches that one server.  An error answer from the listener is logged, never retried
// another way.

const OURS = "agentactors-opencode"
const DEFAULT_URL = "http://127.0.0.1:4096" // set by `agentactors install opencode --url`
const METADATA_VALUE_LIMIT = 8192

function env(name, fallback) {
  const value = typeof process !== "undefined" ? process.env[name] : undefined
  return value === undefined || value === "" ? fallback : value
}

function basic(user, password) {
  return "Basic " + btoa(`${user}:${password}`)
}

function debug(...args) {
  if (env("AGENTACTORS_OPENCODE_DEBUG", "") === "1") console.error(`[${OURS}]`, ...args)
}

function trimmed(metadata) {
  // The server refuses metadata over its size limit: long values (diffs, file contents)
  // are cut, the rest is kept.
  const out = {}
  for (const [key, value] of Object.entries(metadata ?? {})) {
    const text = typeof value === "string" ? value : JSON.stringify(value)
    if (text !== undefined && text.length > METADATA_VALUE_LIMIT) {
      out[key] = text.slice(0, METADATA_VALUE_LIMIT) + `... (${text.length} characters)`
    } else {
      out[key] = value
    }
  }
  return out
}

// The OpenCode reply for our final state, or null to leave OpenCode's prompt.  (Not
// exported: OpenCode calls every function a plugin module exports as a plugin.)
function openCodeReply(state) {
  if (!state || state.state !== "replied") return null
  if (state.reply === "once" || state.reply === "always") return { reply: state.reply }
  if (state.reply !== "reject") return null
  let message = state.message
  if (!message && state.rule) {
    message = `agentactors: denied by rule ${state.rule.permission} "${state.rule.pattern}"`
  }
  return message ? { reply: "reject", message } : { reply: "reject" }
}

export const AgentActors = async (ctx) => {
  const base = env("AGENTACTORS_URL", DEFAULT_URL).replace(/\/+$/, "")
  const password = env("AGENTACTORS_SERVER_PASSWORD", undefined)
  const ocPassword = env("OPENCODE_SERVER_PASSWORD", undefined)
  const ocUser = env("OPENCODE_SERVER_USERNAME", "opencode")
  const directory = ctx.directory
  const sessions = new Map() // OpenCode session id -> Promise of our session id
  const inflight = new Map() // OpenCode request id -> {controller, settled}

  function ourHeaders() {
    const headers = {
      "content-type": "application/json",
      "x-opencode-directory": encodeURIComponent(directory),
    }
    if (password) headers.authorization = basic("agentactors", password)
    return headers
  }

  async function ours(path, init = {}) {
    return fetch(base + path, { ...init, headers: ourHeaders(), timeout: false })
  }

  function session(openCodeSession) {
    let found = sessions.get(openCodeSession)
    if (!found) {
      found = (async () => {
        const answer = await ours("/session", {
          method: "POST",
          body: JSON.stringify({ title: `OpenCode ${openCodeSession}` }),
        })
        if (!answer.ok) throw new Error(`POST /session: ${answer.status} ${await answer.text()}`)
        return (await answer.json()).id
      })()
      found.catch(() => sessions.delete(openCodeSession))
      sessions.set(openCodeSession, found)
    }
    return found
  }

  async function askAndWait(asked, signal) {
    const body = JSON.stringify({
      permission: asked.permission,
      patterns: asked.patterns?.length ? asked.patterns : ["*"],
      metadata: {
        ...trimmed(asked.metadata),
        opencode: { requestID: asked.id, sessionID: asked.sessionID },
      },
      always: asked.always ?? [],
      ...(asked.tool ? { tool: asked.tool } : {}),
    })
    for (let attempt = 0; attempt < 2; attempt++) {
      const id = await session(asked.sessionID)
      const answer = await ours(`/session/${id}/permission?wait=true`, {
        method: "POST",
        body,
        signal,
      })
      if (answer.ok) return answer.json()
      const text = await answer.text()
      if (answer.status === 404 && attempt === 0) {
        sessions.delete(asked.sessionID) // our session is gone (a fresh server): make another
        continue
      }
      throw new Error(`ask: ${answer.status} ${text}`)
    }
    return null
  }

  async function withdraw(openCodeRequest) {
    // The person answered in OpenCode: take our pending request back.
    const answer = await ours("/permission")
    if (!answer.ok) return
    for (const request of await answer.json()) {
      if (request.metadata?.opencode?.requestID === openCodeRequest) {
        await ours(`/permission/${request.id}/withdraw`, { method: "POST" })
        debug("withdrew", request.id, "for", openCodeRequest)
      }
    }
  }

  function openCodeHeaders() {
    const headers = { "content-type": "application/json" }
    if (ocPassword) headers.authorization = basic(ocUser, ocPassword)
    return headers
  }

  // Whether the server at serverUrl is the one holding this request: it lists it as
  // pending.  (Without a listener serverUrl is a placeholder, http://localhost:4096,
  // where another program, this server by default, may well be listening.)
  async function holds(server, asked) {
    const url = new URL("permission", server)
    url.searchParams.set("directory", directory)
    try {
      const answer = await fetch(url, { headers: openCodeHeaders() })
      if (!answer.ok) return false
      const pending = await answer.json()
      return Array.isArray(pending) && pending.some((request) => request?.id === asked.id)
    } catch (error) {
      debug("nothing listens at", String(server), String(error))
      return false
    }
  }

  // Replies over HTTP; false when the server at serverUrl does not hold the request.
  async function replyOverHttp(asked, reply) {
    const server = ctx.serverUrl
    if (!server || !(await holds(server, asked))) return false
    const url = new URL(`permission/${asked.id}/reply`, server)
    url.searchParams.set("directory", directory)
    const body = JSON.stringify(reply)
    const answer = await fetch(url, { method: "POST", headers: openCodeHeaders(), body })
    debug("replied over HTTP", asked.id, reply.reply, answer.status)
    // 404: answered in OpenCode meanwhile (its own prompt, or a cascade): nothing to do
    if (!answer.ok && answer.status !== 404) {
      console.error(`[${OURS}] OpenCode refused the reply: ${answer.status} ${await answer.text()}`)
    }
    return true
  }

  async function replyInProcess(asked, reply) {
    // Only when OpenCode has no listener: the process's one server answers.
    const client = ctx.client
    if (client?._client?.post) {
      await client._client.post({
        url: "/permission/{requestID}/reply",
        path: { requestID: asked.id },
        body: reply,
        headers: { "content-type": "application/json" },
      })
    } else if (client?.postSessionIdPermissionsPermissionId) {
      await client.postSessionIdPermissionsPermissionId({
        path: { id: asked.sessionID, permissionID: asked.id },
        body: { response: reply.reply },
      })
    }
    debug("replied in process", asked.id, reply.reply)
  }

  async function forward(asked) {
    const controller = new AbortController()
    const entry = { controller, settled: false }
    inflight.set(asked.id, entry)
    try {
      const state = await askAndWait(asked, controller.signal)
      if (entry.settled) return
      const reply = openCodeReply(state)
      debug("decided", asked.id, state?.state, state?.reply, "->", reply?.reply ?? "(prompt)")
      if (!reply) return
      entry.settled = true
      if (!(await replyOverHttp(asked, reply))) await replyInProcess(asked, reply)
    } catch (error) {
      // Unreachable or refused: OpenCode's own prompt stays; never an allow.
      if (!entry.settled) console.error(`[${OURS}] ${asked.permission}: ${error}`)
    } finally {
      inflight.delete(asked.id)
    }
  }

  function answeredInOpenCode(requestID) {
    const entry = inflight.get(requestID)
    if (!entry || entry.settled) return
    entry.settled = true
    entry.controller.abort()
    withdraw(requestID).catch((error) => debug("withdraw failed", String(error)))
  }

  return {
    event: async ({ event }) => {
      if (event.type === "permission.asked") {
        forward(event.properties) // not awaited: OpenCode's event loop goes on
      } else if (event.type === "permission.replied") {
        answeredInOpenCode(event.properties.requestID)
      }
    },
  }
}
