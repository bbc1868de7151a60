// The wallboard: the state arrives whole (SSE "hello") and then change by change; each
// change re-renders only its tile, row or alert. Durations tick every second. Figures
// (/api/stats) and charts (/wallboard/charts) are fetched again every 10 s and 60 s.
"use strict";
(() => {
  const meta = JSON.parse(document.getElementById("meta").textContent);
  const L = meta.labels, ST = meta.status;
  const {el, duration, post, toast} = hotline;
  let docs = {queue: {}, agent: {}, alert: {}, call: {}};
  let seq = -1, offset = 0, stats = {};
  const now = () => Date.now() + offset;
  const SEVERITY = {critical: 0, warning: 1, info: 2};
  const TIME = {hour12: false, timeZone: "Asia/Shanghai"};  // the centre's time, wherever shown
  const notice = document.getElementById("notice");

  // -- queues -------------------------------------------------------------------------
  function queueNames() {
    const names = new Set(Object.keys(docs.queue));
    for (const a of Object.values(meta.agents)) a.queues.forEach((q) => names.add(q));
    for (const q of Object.keys(stats)) if (q !== "*") names.add(q);
    return [...names].sort();
  }
  function pct(f) { return f && f.value !== null ? (f.value * 100).toFixed(1) + "%" : "—"; }
  function frac(f) { return f && f.den ? `${f.num}/${f.den}` : ""; }
  function longest(q) {
    const w = (q && q.waiting) || [];
    return w.length ? Math.max(...w.map((x) => now() - (x.since || now()))) : 0;
  }
  function renderQueue(name) {
    const box = document.getElementById("queues");
    let tile = box.querySelector(`[data-queue="${CSS.escape(name)}"]`);
    const q = docs.queue[name], s = stats[name] || {figures: {}};
    const waiting = q ? (q.waiting || []).length : 0;
    const wait = longest(q);
    const f = s.figures || {};
    const fresh = el("article", {class: "tile" + (waiting ? " busy" : "") + (wait > 15000 ? " late" : ""), "data-queue": name, "data-waiting": waiting},
      el("h3", {}, meta.queues[name] || name, el("small", {}, " " + name)),
      el("div", {class: "big"}, el("span", {class: "n", "data-role": "waiting"}, waiting), el("span", {class: "u"}, L.waiting)),
      el("div", {class: "row"}, L.longest + " ", el("b", {"data-role": "longest"}, duration(wait))),
      el("div", {class: "headline", title: frac(f.sl_strict)}, el("b", {}, pct(f.sl_strict)), " " + L.sl_strict),
      el("dl", {class: "variants"},
        el("dt", {}, L.answer_rate), el("dd", {title: frac(f.answer_rate)}, pct(f.answer_rate)),
        el("dt", {}, L.sl_answered_only), el("dd", {title: frac(f.sl_answered_only)}, pct(f.sl_answered_only)),
        el("dt", {}, L.sl2), el("dd", {title: frac(f.sl2)}, pct(f.sl2)),
        el("dt", {}, L.abandoned), el("dd", {}, s.abandoned ?? "—"),
        el("dt", {}, L.requests), el("dd", {}, s.requests ?? "—")));
    if (tile) tile.replaceWith(fresh); else box.append(fresh);
  }
  function renderQueues() {
    const box = document.getElementById("queues");
    box.replaceChildren();
    queueNames().forEach(renderQueue);
  }

  // -- agents -------------------------------------------------------------------------
  function pauseLimit(name, a) {
    const m = meta.agents[name];
    if (!m || !a.memberships) return null;
    const reason = (a.memberships.find((x) => x.paused) || {}).reason || "";
    if (a.status === "busy") return m.busy_ms;
    if (a.status === "break") { const r = meta.reasons[reason]; return (r && r.max_ms) || m.break_ms; }
    return null;
  }
  function since(a) { return a.since || now(); }
  function level(ms, limit) {
    if (!limit) return "";
    return ms >= limit ? "over" : ms >= limit * 0.8 ? "warn" : "ok";
  }
  function button(label, action, agent) {
    const b = el("button", {class: "small", "data-do": action}, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      const r = await post("/supervisor/agent", {agent, action, reason: "forced"});
      b.disabled = false;
      toast(r.message, r.ok);
    });
    return b;
  }
  // listen to a talking agent's call: the supervisor's softphone rings (keys 4/5/6 on it
  // switch to listen, whisper, barge); the phone's extension is asked once, then remembered
  function listenButton(agent) {
    const b = el("button", {class: "small", "data-do": "listen"}, L.listen);
    b.addEventListener("click", async () => {
      let phone = localStorage.getItem("hotline.phone");
      if (!phone || !(meta.phones || []).includes(phone)) {
        phone = prompt(L.your_phone + " (" + (meta.phones || []).join(", ") + ")", (meta.phones || [""])[0]);
        if (!phone) return;
        localStorage.setItem("hotline.phone", phone);
      }
      b.disabled = true;
      const r = await post("/supervisor/listen", {agent, mode: "listen", phone});
      b.disabled = false;
      toast(r.message, r.ok);
    });
    return b;
  }
  // transfer a talking agent's call (blind): to a queue, an agent or a department
  function transferSelect(agent) {
    const pick = el("select", {class: "small", "data-do": "transfer"},
      el("option", {value: ""}, L.transfer),
      ...meta.transfer.filter(([value]) => value !== (meta.agents[agent] || {}).ext)
        .map(([value, label]) => el("option", {value}, label)));
    pick.addEventListener("change", async () => {
      const to = pick.value;
      if (!to) return;
      pick.disabled = true;
      const r = await post("/supervisor/transfer", {agent, to});
      pick.disabled = false;
      pick.value = "";
      toast(r.message, r.ok);
    });
    return pick;
  }
  function renderAgent(name) {
    const body = document.querySelector("#agents tbody");
    const row = body.querySelector(`tr[data-agent="${CSS.escape(name)}"]`);
    const a = docs.agent[name];
    const m = meta.agents[name] || {team_label: "", queues: []};
    const status = a ? a.status : "logged_out";
    const paused = a && (a.memberships || []).find((x) => x.paused);
    const reasonCode = paused ? paused.reason : "";
    const reason = reasonCode ? ((meta.reasons[reasonCode] || {}).label || reasonCode) : "";
    const fresh = el("tr", {"data-agent": name, "data-status": status, "data-seq": seq, class: "st-row-" + status},
      el("td", {class: "name"}, name),
      el("td", {}, m.team_label),
      el("td", {}, el("span", {class: "chip st-" + status}, ST[status] || status)),
      el("td", {}, reason),
      el("td", {class: "dur", "data-role": "dur"}, a ? duration(now() - since(a)) : ""),
      el("td", {}, a ? (a.queues || []).join(", ") : ""),
      el("td", {class: "acts"}, ...(a ? [button(L.force, "pause", name), button(L.unpause, "unpause", name), button(L.logout, "logout", name)] : []),
        ...(status === "talking" && (meta.phones || []).length ? [listenButton(name)] : []),
        ...(status === "talking" && (meta.transfer || []).length ? [transferSelect(name)] : [])));
    if (row) row.replaceWith(fresh); else body.append(fresh);
    tickAgent(fresh);
  }
  function tickAgent(row) {
    const a = docs.agent[row.dataset.agent];
    const cell = row.querySelector('[data-role="dur"]');
    if (!a || !cell) return;
    const ms = now() - since(a);
    cell.textContent = duration(ms);
    cell.className = "dur " + level(ms, pauseLimit(row.dataset.agent, a));
  }
  function renderAgents() {
    document.querySelector("#agents tbody").replaceChildren();
    const names = new Set([...Object.keys(meta.agents), ...Object.keys(docs.agent)]);
    [...names].sort((x, y) => x.localeCompare(y, "zh")).forEach(renderAgent);
  }

  // -- alerts -------------------------------------------------------------------------
  function renderAlerts() {
    const list = document.getElementById("alerts");
    const open = Object.values(docs.alert).filter((a) => a.state !== "closed")
      .sort((x, y) => (SEVERITY[x.severity] - SEVERITY[y.severity]) || (y.t_raised - x.t_raised));
    list.replaceChildren(...open.map(alertItem));
    if (!open.length) list.append(el("li", {class: "none"}, L.no_alerts));
    const notes = Object.values(docs.note || {}).sort((x, y) => y.t - x.t);
    for (const n of notes.slice(0, 5)) {
      list.append(el("li", {class: "alert note", "data-note": n.id},
        el("div", {class: "what"}, el("b", {}, L.notes), " · " + n.to), el("div", {class: "meta"}, n.text)));
    }
  }
  function renderNotice() {
    const doc = (docs.setting || {}).notice;
    const now = document.getElementById("notice-now");
    if (now) now.textContent = doc && doc.value ? doc.value : L.notice_off;
    if (notice && doc) notice.elements.notice.value = doc.value || "";
  }
  function renderRecall() {
    const doc = (docs.setting || {}).recall;
    const box = document.getElementById("recall");
    if (!box || !doc) return;
    box.dataset.open = String(doc.open);
    box.dataset.overdue = String(doc.overdue);
    const today = doc.today || {};
    box.className = "recall" + (doc.overdue ? " late" : "");
    box.replaceChildren(L.recall + " ", el("b", {}, String(doc.open)),
      doc.overdue ? ` · ${L.recall_overdue} ${doc.overdue}` : "",
      ` · ${L.recall_rate} ` + (typeof today.rate === "number" ? (today.rate * 100).toFixed(1) + "%" : "—"));
  }
  function renderPbxs() {
    // each PBX's AMI link as the controller sees it (the live setting "pbxs")
    const doc = (docs.setting || {}).pbxs, box = document.getElementById("pbxs");
    if (!box || !doc) return;
    box.replaceChildren(L.pbxs + " ", ...doc.pbxs.map((p) => el("b",
      {class: "pbx " + (p.up ? "up" : "down"), "data-pbx": p.name, "data-up": p.up ? "1" : "0"},
      `${p.name} ${p.up ? L.pbx_up : L.pbx_down}`)));
  }
  function renderSetting(id) {
    if (id === "recall") renderRecall(); else if (id === "pbxs") renderPbxs(); else renderNotice();
  }
  function alertItem(a) {
    const comment = el("input", {placeholder: L.comment, required: true});
    const act = (path) => async () => {
      if (!comment.value.trim()) { comment.focus(); return; }
      const r = await post(path, {alert: a.id, comment: comment.value});
      toast(r.message, r.ok);
    };
    const ack = el("button", {class: "small"}, L.ack), close = el("button", {class: "small"}, L.close);
    ack.addEventListener("click", act("/alerts/ack"));
    close.addEventListener("click", act("/alerts/close"));
    const cost = a.cost && a.cost.calls ? a.cost.calls.length : 0;
    return el("li", {class: "alert sev-" + a.severity + " " + a.state, "data-alert": a.id},
      el("div", {class: "what"}, el("b", {}, a.label || a.rule), " · " + a.agent),
      el("div", {class: "meta"}, [a.start ? `${L.since} ${new Date(a.start).toLocaleTimeString("zh-CN", TIME)}` : "",
        `${L.cost} ${cost}`, L["state_" + a.state] || a.state].filter(Boolean).join(" · ")),
      el("div", {class: "do"}, comment, ...(a.state === "open" ? [ack] : []), close));
  }

  // -- the stream ---------------------------------------------------------------------
  function setLive(on, text) {
    const live = document.getElementById("live");
    live.dataset.live = on ? "1" : "0";
    live.className = "live " + (on ? "on" : "off");
    live.textContent = text || (on ? L.live : L.reconnecting);
  }
  const renderOne = {queue: renderQueue, agent: renderAgent, alert: renderAlerts, note: renderAlerts,
    setting: renderSetting, call: () => {}};
  let statsDue = null;
  function apply(change) {
    if (change.seq <= seq) return;
    seq = change.seq;
    const table = docs[change.kind] || (docs[change.kind] = {});
    if (change.doc === null) delete table[change.id]; else table[change.id] = change.doc;
    (renderOne[change.kind] || (() => {}))(change.id);
    if (change.kind === "call" && change.doc === null && !statsDue) {
      statsDue = setTimeout(() => { statsDue = null; loadStats(); }, 2000);
    }
  }
  function connect() {
    const es = new EventSource("/events");
    es.addEventListener("hello", (e) => {
      const d = JSON.parse(e.data);
      seq = d.seq; docs = Object.assign({queue: {}, agent: {}, alert: {}, call: {}, note: {}, setting: {}}, d.docs);
      offset = d.now - Date.now();
      renderQueues(); renderAgents(); renderAlerts(); renderNotice(); renderRecall(); renderPbxs(); setLive(true);
    });
    es.addEventListener("change", (e) => apply(JSON.parse(e.data)));
    es.addEventListener("down", () => setLive(false, L.down));
    es.addEventListener("bye", () => { es.close(); location.href = "/login"; });
    es.onerror = () => setLive(false);
  }
  async function loadStats() {
    try {
      const r = await fetch("/api/stats", {credentials: "same-origin"});
      if (r.ok) { stats = (await r.json()).queues; renderQueues(); }
    } catch (e) { /* next time */ }
  }
  async function loadCharts() {
    try {
      const r = await fetch("/wallboard/charts", {credentials: "same-origin"});
      if (r.ok) document.getElementById("charts").innerHTML = await r.text();
    } catch (e) { /* next time */ }
  }
  function tick() {
    document.getElementById("clock").textContent = new Date(now()).toLocaleTimeString("zh-CN", TIME);
    document.querySelectorAll("#agents tr[data-agent]").forEach(tickAgent);
    document.querySelectorAll("#queues [data-queue]").forEach((tile) => {
      const b = tile.querySelector('[data-role="longest"]');
      const ms = longest(docs.queue[tile.dataset.queue]);
      b.textContent = duration(ms);
      tile.classList.toggle("late", ms > 15000);
    });
  }
  if (notice) notice.addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await post("/supervisor/notice", {notice: notice.elements.notice.value});
    toast(r.message, r.ok);
  });
  window.hotlineBoard = {loadStats, loadCharts};  // to refresh now (kiosk scripts, tests)
  renderQueues(); renderAgents(); renderAlerts();
  connect(); loadStats(); loadCharts();
  setInterval(tick, 1000); setInterval(loadStats, 10000); setInterval(loadCharts, 60000);
})();
