// The agentactors inbox: pending requests live from /global/event, answers, history,
// saved approvals and sessions, all through the server's JSON routes.  Data is only
// ever put into the page as text (textContent), never parsed as HTML.
"use strict";

(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const csrf = $('meta[name="csrf-token"]').content;
  const serverDirectory = $('meta[name="directory"]').content;
  const pathKeys = $('meta[name="path-keys"]').content.split(" "); // metadata keys naming a file
  const DECIDED_SHOWN_MS = 4000; // a decided card stays this long, saying who decided
  const PENDING_SHOWN = 500; // the newest this many are shown; the count says how many wait

  const cards = new Map(); // request id -> {item, el, decided}
  let total = 0; // pending requests on the server (some may be beyond PENDING_SHOWN)
  let selectedId = null;
  let activeTab = "pending";
  const directories = new Set([serverDirectory]);

  // --- talking to the server -----------------------------------------------------------

  class HttpError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function call(method, path, body) {
    const headers = { accept: "application/json" };
    if (csrf) headers["x-csrf-token"] = csrf;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (response.status === 401) { location.reload(); } // the login ended: show the form
    if (!response.ok) throw new HttpError(response.status, data);
    return { data, next: response.headers.get("x-next-cursor") };
  }

  let statusTimer = null;
  function say(text, sticky = false) {
    const box = $("#status");
    box.textContent = text;
    box.hidden = !text;
    clearTimeout(statusTimer);
    if (text && !sticky) statusTimer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // --- text helpers ----------------------------------------------------------------------

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ${m % 60} min`;
    return `${Math.floor(h / 24)} d`;
  }

  const when = (ms) => new Date(ms).toLocaleString();

  const DECIDERS = {
    user: "a person", plugin: "plugin", rule: "rule", approval: "saved approval",
    timeout: "timeout", abort: "session abort", cascade: "cascade from", shutdown: "shutdown",
    asker: "the asker, withdrawn",
  };

  function decider(by) {
    if (!by) return "unknown";
    let text = DECIDERS[by.kind] || by.kind;
    if (by.name) text += ` ${by.name}`;
    if (by.address) text += ` (${by.address})`;
    return text;
  }

  function outcome(request) {
    const reply = request.reply;
    if (request.state === "expired") return "Expired";
    if (request.state === "aborted") return "Aborted";
    if (reply === "once") return "Allowed once";
    if (reply === "always") return "Allowed always";
    if (reply === "reject") return "Rejected";
    return request.state;
  }

  // --- pending cards -----------------------------------------------------------------------

  function fill(node, selector, text) {
    for (const target of $$(selector, node)) target.textContent = text;
  }

  function chips(list, values, tag = "span") {
    list.replaceChildren(...values.map((value) => el(tag, value)));
  }

  function makeCard(item) {
    const request = item.request;
    const node = $("#card-template").content.firstElementChild.cloneNode(true);
    node.dataset.id = request.id;
    fill(node, ".kind", request.permission);
    fill(node, ".title", item.sessionTitle || request.sessionID);
    fill(node, ".directory", request.directory);
    $(".subject", node).textContent = item.display.text || "";
    chips($(".patterns", node), item.display.patterns);
    chips($(".saves", node), item.display.saves, "li");
    $(".notes", node).replaceChildren(...item.display.notes.map((note) => el("li", note)));
    node.addEventListener("click", (event) => {
      select(request.id, false);
      const button = event.target.closest("button[data-act]");
      if (button) act(request.id, button.dataset.act);
    });
    $(".reject-panel", node).addEventListener("submit", (event) => {
      event.preventDefault();
      act(request.id, "reject-send");
    });
    $("textarea", node).addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        act(request.id, "reject-send");
      }
    });
    return node;
  }

  function addCard(item) {
    const id = item.request.id;
    if (cards.has(id) || item.request.state !== "pending") return;
    directories.add(item.request.directory);
    const entry = { item, el: makeCard(item), decided: false };
    cards.set(id, entry);
    // newest first: ids sort in the order asked
    const list = $("#pending");
    const after = Array.from(list.children).find((child) => child.dataset.id < id);
    list.insertBefore(entry.el, after || null);
    tick();
    counted();
  }

  function decide(id, request) {
    const entry = cards.get(id);
    if (!entry || entry.decided) return;
    entry.decided = true;
    total = Math.max(0, total - 1);
    const node = entry.el;
    node.classList.add("decided");
    for (const button of $$("button", node)) button.disabled = true;
    for (const panel of $$(".panel", node)) panel.hidden = true;
    const line = $(".outcome", node);
    const allowed = request.reply === "once" || request.reply === "always";
    line.className = `outcome ${allowed ? "allowed" : "rejected"}`;
    let text = `${outcome(request)} by ${decider(request.decidedBy)}`;
    if (request.message) text += `: “${request.message}”`;
    line.textContent = text;
    line.hidden = false;
    node.dataset.decidedBy = request.decidedBy ? request.decidedBy.kind : "";
    if (selectedId === id) moveSelection(1);
    counted();
    setTimeout(() => {
      node.remove();
      cards.delete(id);
      if (selectedId === id) selectedId = null;
      counted();
    }, DECIDED_SHOWN_MS);
  }

  function counted() {
    const waiting = Array.from(cards.values()).filter((entry) => !entry.decided).length;
    const count = Math.max(total, waiting);
    const badge = $("#count");
    badge.textContent = String(count);
    badge.classList.toggle("some", count > 0);
    document.title = count ? `(${count}) agentactors inbox` : "agentactors inbox";
    $("#pending-empty").hidden = cards.size > 0;
    const more = $("#pending-more");
    more.hidden = count <= waiting;
    more.textContent = `${count - waiting} older pending requests are not shown; answer some to see them.`;
  }

  function tick() {
    const now = Date.now();
    for (const entry of cards.values()) {
      if (entry.decided) continue;
      const request = entry.item.request;
      $(".age", entry.el).textContent = `${duration(now - request.time.created)} ago`;
      const expires = $(".expires", entry.el);
      if (request.expiresAt) {
        const left = request.expiresAt - now;
        expires.textContent = left > 0 ? `expires in ${duration(left)}` : "expiring";
        expires.classList.toggle("soon", left < 30000);
      }
    }
  }

  async function refreshPending() {
    try {
      const { data } = await call("GET", `/inbox/pending?limit=${PENDING_SHOWN}`);
      total = data.total;
      const seen = new Set();
      for (const item of data.requests) {
        seen.add(item.request.id);
        addCard(item);
      }
      // Cards no longer pending were decided while this page did not hear: say by whom.
      for (const [id, entry] of cards) {
        if (!entry.decided && !seen.has(id)) settle(id);
      }
      counted();
    } catch (error) {
      say(`Could not list the pending requests: ${error.message}`);
    }
  }

  let recounting = null;
  function recount() {
    if (!recounting) recounting = setTimeout(() => { recounting = null; refreshPending(); }, 500);
  }

  async function settle(id) {
    try {
      const { data } = await call("GET", `/permission/${encodeURIComponent(id)}`);
      if (data.state !== "pending") decide(id, data);
    } catch (error) {
      decide(id, { state: "gone", decidedBy: null });
    }
  }

  async function asked(id) {
    try {
      const { data } = await call("GET", `/inbox/request/${encodeURIComponent(id)}`);
      if (data.request.state === "pending" && !cards.has(id)) {
        total += 1;
        addCard(data);
      }
    } catch (error) {
      if (error.status !== 404) say(`Could not show request ${id}: ${error.message}`);
    }
  }

  // --- answering -------------------------------------------------------------------------

  function openPanel(entry, which) {
    for (const panel of $$(".panel", entry.el)) {
      panel.hidden = !panel.classList.contains(which) || !panel.hidden;
    }
    const panel = $(`.${which}`, entry.el);
    if (!panel.hidden) {
      const target = $("textarea", panel) || $("button", panel);
      target.focus();
    }
  }

  async function act(id, what) {
    const entry = cards.get(id);
    if (!entry || entry.decided) return;
    if (what === "always") return openPanel(entry, "always-panel");
    if (what === "reject") return openPanel(entry, "reject-panel");
    if (what === "cancel") {
      for (const panel of $$(".panel", entry.el)) panel.hidden = true;
      entry.el.focus();
      return;
    }
    const body = { reply: "once" };
    if (what === "always-session" || what === "always-project") {
      body.reply = "always";
      body.scope = what === "always-project" ? "project" : "session";
    } else if (what === "reject-send") {
      body.reply = "reject";
      const message = $("textarea", entry.el).value.trim();
      if (message) body.message = message;
    } else if (what !== "once") {
      return;
    }
    for (const button of $$("button", entry.el)) button.disabled = true;
    try {
      await call("POST", `/permission/${encodeURIComponent(id)}/reply`, body);
      // the permission.replied event marks the card; settle in case the stream is behind
      settle(id);
    } catch (error) {
      if (error.status === 409 && error.body && error.body.request) {
        decide(id, error.body.request);
      } else {
        for (const button of $$("button", entry.el)) button.disabled = false;
        say(`Could not answer: ${error.message}`);
      }
    }
  }

  // --- selection and keys ----------------------------------------------------------------

  function liveIds() {
    return $$("#pending > .card:not(.decided)").map((node) => node.dataset.id);
  }

  function select(id, focus = true) {
    selectedId = id;
    for (const node of $$("#pending > .card")) {
      node.classList.toggle("selected", node.dataset.id === id);
    }
    const entry = cards.get(id);
    if (entry && focus) {
      entry.el.focus({ preventScroll: true });
      entry.el.scrollIntoView({ block: "nearest" });
    }
  }

  function moveSelection(step) {
    const ids = liveIds();
    if (!ids.length) return;
    const at = ids.indexOf(selectedId);
    const next = at === -1 ? 0 : Math.min(ids.length - 1, Math.max(0, at + step));
    select(ids[next]);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("input, textarea, select");
    if (event.key === "Escape") {
      const entry = cards.get(selectedId);
      if (entry) act(selectedId, "cancel");
      return;
    }
    if (typing) return;
    const tabs = { 1: "pending", 2: "history", 3: "saved", 4: "sessions" };
    if (tabs[event.key]) { show(tabs[event.key]); event.preventDefault(); return; }
    if (activeTab !== "pending") return;
    const keys = {
      j: () => moveSelection(1), ArrowDown: () => moveSelection(1),
      k: () => moveSelection(-1), ArrowUp: () => moveSelection(-1),
      o: () => act(selectedId, "once"), a: () => act(selectedId, "once"),
      s: () => act(selectedId, "always-session"), p: () => act(selectedId, "always-project"),
      r: () => act(selectedId, "reject"),
    };
    const run = keys[event.key];
    if (!run) return;
    if (selectedId === null && !["j", "k", "ArrowDown", "ArrowUp"].includes(event.key)) {
      moveSelection(0);
      if (selectedId === null) return;
    }
    event.preventDefault();
    run();
  });

  // --- the event stream --------------------------------------------------------------------

  function setLive(state, text) {
    const badge = $("#live");
    badge.dataset.state = state;
    badge.textContent = text;
  }

  function connect() {
    const source = new EventSource("/global/event", { withCredentials: true });
    source.onopen = () => setLive("live", "live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        setLive("down", "offline");
        // a refused stream (login ended, server gone): check, then try again
        call("GET", "/inbox/pending?limit=1").catch(() => {}).finally(() => {
          setTimeout(connect, 3000);
        });
      } else {
        setLive("connecting", "reconnecting…");
      }
    };
    source.onmessage = (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      const event = data.payload || data;
      const props = event.properties || {};
      switch (event.type) {
        case "server.connected": // (re)subscribed: nothing from now on is missed
        case "server.resync":
        case "bus.lagged":
          refreshPending();
          break;
        case "permission.asked":
          asked(props.id);
          break;
        case "permission.replied":
          if (cards.has(props.requestID)) decide(props.requestID, props);
          else if (total > cards.size) recount(); // one beyond those shown may have ended
          refreshTab(["history"]);
          if (props.reply === "always") refreshTab(["saved"]);
          break;
        case "permission.saved.revoked":
          refreshTab(["saved"]);
          break;
        case "session.created":
        case "session.updated":
        case "session.deleted":
          refreshTab(["sessions"]);
          break;
        default:
          break;
      }
    };
  }

  // --- history, saved approvals, sessions ----------------------------------------------------

  function row(main, kind, meta, action) {
    const node = $("#row-template").content.firstElementChild.cloneNode(true);
    $(".kind", node).textContent = kind;
    $(".text", node).textContent = main;
    const metaLine = $(".row-meta", node);
    for (const part of meta) {
      if (part instanceof Node) metaLine.append(part);
      else metaLine.append(document.createTextNode(part));
    }
    if (action) $(".row-actions", node).append(action);
    return node;
  }

  function subjectOf(request) {
    const metadata = request.metadata || {};
    if (typeof metadata.command === "string" && metadata.command.trim()) return metadata.command;
    for (const key of pathKeys) {
      if (typeof metadata[key] === "string" && metadata[key]) return metadata[key];
    }
    return (request.patterns || []).join("  ");
  }

  function historyRow(request) {
    const allowed = request.reply === "once" || request.reply === "always";
    const badge = el("span", request.state === "pending" ? "Pending" : outcome(request),
      `badge ${request.state === "pending" ? "" : allowed ? "allowed" : "rejected"}`);
    const meta = [badge];
    if (request.decidedBy) meta.push(` by ${decider(request.decidedBy)}`);
    if (request.message) meta.push(`: “${request.message}”`);
    meta.push(` · asked ${when(request.time.created)}`);
    if (request.time.decided) meta.push(` · decided ${when(request.time.decided)}`);
    meta.push(` · ${request.sessionID} · ${request.directory}`);
    return row(subjectOf(request), request.permission, meta);
  }

  function savedRow(approval) {
    const button = el("button", "Revoke", "small reject");
    button.type = "button";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await call("DELETE", `/permission/saved/${encodeURIComponent(approval.id)}`);
        node.remove();
        say(`Revoked ${approval.permission} ${approval.pattern}`);
        if (!$("#saved").children.length) $("#saved-empty").hidden = false;
      } catch (error) {
        button.disabled = false;
        say(`Could not revoke: ${error.message}`);
      }
    });
    const where = approval.scope === "project" ? `project ${approval.directory}` : `session ${approval.sessionID}`;
    const meta = [`${approval.scope} scope · ${where} · saved ${when(approval.time.created)} by ${decider(approval.savedBy)}`];
    const node = row(approval.pattern, approval.permission, meta, button);
    node.dataset.id = approval.id;
    return node;
  }

  function sessionRow(session) {
    const button = el("button", "Abort", "small reject");
    button.type = "button";
    let armed = null;
    button.addEventListener("click", async () => {
      if (!armed) { // a second tap confirms
        button.textContent = "Confirm abort";
        armed = setTimeout(() => { armed = null; button.textContent = "Abort"; }, 4000);
        return;
      }
      clearTimeout(armed);
      button.disabled = true;
      try {
        await call("POST", `/session/${encodeURIComponent(session.id)}/abort`);
        button.textContent = "Aborted";
        say(`Aborted ${session.title || session.id}: its pending requests ended`);
      } catch (error) {
        button.disabled = false;
        armed = null;
        button.textContent = "Abort";
        say(`Could not abort: ${error.message}`);
      }
    });
    const meta = [`${session.id} · updated ${when(session.time.updated)}`];
    if (session.parentID) meta.push(` · child of ${session.parentID}`);
    const node = row(session.title || "(untitled)", "session", meta, button);
    node.dataset.id = session.id;
    return node;
  }

  const lists = {
    history: {
      path: (form) => {
        const query = new URLSearchParams({ limit: "50" });
        for (const name of ["state", "decider", "sessionID"]) {
          const value = form.elements[name].value.trim();
          if (value) query.set(name, value);
        }
        const since = form.elements.since.value;
        if (since) query.set("since", String(new Date(since).getTime()));
        return `/permission/history?${query}`;
      },
      render: historyRow,
    },
    saved: {
      path: (form) => {
        const query = new URLSearchParams({ limit: "100" });
        if (form.elements.scope.value) query.set("scope", form.elements.scope.value);
        return `/permission/saved?${query}`;
      },
      render: savedRow,
    },
    sessions: {
      path: (form) => {
        const query = new URLSearchParams({ limit: "100" });
        const directory = form.elements.directory.value.trim();
        if (directory) query.set("directory", directory);
        return `/session?${query}`;
      },
      render: sessionRow,
    },
  };

  async function load(name, more = false) {
    const spec = lists[name];
    const form = $(`#${name}-filters`);
    const list = $(`#${name}`);
    const moreButton = $(`#${name}-more`);
    let path = spec.path(form);
    if (more && spec.next) path += `&cursor=${encodeURIComponent(spec.next)}`;
    try {
      const { data, next } = await call("GET", path);
      const rows = data.map(spec.render);
      if (more) list.append(...rows); else list.replaceChildren(...rows);
      spec.next = next;
      moreButton.hidden = !next;
      $(`#${name}-empty`).hidden = list.children.length > 0;
      spec.loaded = true;
    } catch (error) {
      say(`Could not load ${name}: ${error.message}`);
    }
  }

  const refreshing = {};
  function refreshTab(names) {
    for (const name of names) {
      if (!lists[name].loaded || refreshing[name]) continue;
      if (activeTab !== name) { lists[name].loaded = false; continue; } // reload when shown
      refreshing[name] = setTimeout(() => { refreshing[name] = null; load(name); }, 300);
    }
  }

  for (const name of Object.keys(lists)) {
    $(`#${name}-filters`).addEventListener("submit", (event) => {
      event.preventDefault();
      load(name);
    });
    $(`#${name}-more`).addEventListener("click", () => load(name, true));
  }

  function show(tab) {
    activeTab = tab;
    for (const button of $$(".tabs button")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    }
    for (const panel of $$("main > section")) panel.hidden = panel.dataset.panel !== tab;
    if (tab === "sessions") {
      $("#directories").replaceChildren(...Array.from(directories, (d) => { const o = el("option"); o.value = d; return o; }));
    }
    if (lists[tab] && !lists[tab].loaded) load(tab);
    history.replaceState(null, "", tab === "pending" ? location.pathname : `#${tab}`);
  }

  for (const button of $$(".tabs button")) {
    button.addEventListener("click", () => show(button.dataset.tab));
  }

  const logout = $("#logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try { await call("POST", "/inbox/logout"); } finally { location.replace("/"); }
    });
  }

  const start = location.hash.slice(1);
  show(lists[start] ? start : "pending");
  counted();
  setInterval(tick, 1000);
  connect();
})();
