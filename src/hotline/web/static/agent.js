// The agent's own page: buttons send commands; the status refreshes every 2 s. The recall
// card (/me/recall) and the knowledge-base card (/me/kb) are fetched again only when the task
// offered or the call changes: each of those reads is logged on the server.
"use strict";
(() => {
  const status = document.getElementById("status");
  const labels = JSON.parse(document.getElementById("labels").textContent);
  async function fragment(id, url) {
    const box = document.getElementById(id);
    try {
      const r = await fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}});
      if (!r.ok) throw new Error(r.status);
      box.innerHTML = await r.text();  // rendered on the server, escaped by the template
      box.dataset.shown = box.dataset.want;
    } catch (e) { box.dataset.want = ""; }  // the next tick tries again
  }
  function follow(id, url, value) {  // fetch the card again when what it shows changed
    const box = document.getElementById(id);
    if (!box || box.dataset.want === value) return;
    box.dataset.want = value;
    fragment(id, url);
  }
  async function refresh() {
    try {
      const r = await fetch("/api/me", {credentials: "same-origin"});
      if (r.status === 401) { location.href = "/login"; return; }
      const data = await r.json();
      const st = data.agent ? data.agent.status : "logged_out";
      for (const key of ["busy", "break"]) {
        const used = data.budget[key + "_ms"], limit = data.budget[key + "_limit_ms"];
        const text = document.querySelector(`[data-used="${key}"]`);
        const meter = document.querySelector(`[data-meter="${key}"]`);
        if (text) text.textContent = hotline.duration(used);
        if (meter && limit) {
          meter.setAttribute("width", Math.min(300, 300 * used / limit).toFixed(1));
          meter.setAttribute("class", used >= limit ? "over" : used >= 0.8 * limit ? "warn" : "ok");
        }
      }
      const list = document.getElementById("notes");
      if (list && data.notes && data.notes.length) {
        list.replaceChildren(...data.notes.map((n) => {
          const li = document.createElement("li");
          const when = document.createElement("time");
          when.textContent = new Date(n.t).toLocaleTimeString("zh-CN", {hour12: false});
          li.append(when, " " + n.text);  // text nodes: a note is never parsed as HTML
          return li;
        }));
      }
      const onCall = document.getElementById("on-call");
      const callId = (data.call && data.call.id) || "";
      if (onCall && onCall.dataset.call !== callId) {
        onCall.dataset.call = callId;
        document.getElementById("call-id").value = callId;
        onCall.textContent = callId
          ? labels["orders.on_call"].replace("{call}", callId).replace("{caller}", data.call.caller || "-")
          : labels["orders.no_call"];
      }
      const offered = data.offer && data.offer.task !== null ? String(data.offer.task) : "";
      follow("recall", "/me/recall", offered + "/" + ((data.offer && data.offer.why) || ""));
      follow("kb", "/me/kb", callId || "-");
      document.querySelectorAll("button[data-transfer]").forEach((b) => { b.disabled = !callId; });
      if (status.dataset.status !== st) {
        status.dataset.status = st;
        status.className = "chip st-" + st;
        status.textContent = labels[st] || st;
      }
    } catch (e) { /* the next tick tries again */ }
  }
  document.querySelectorAll("button[data-action]").forEach((b) => {
    b.addEventListener("click", async () => {
      const fields = {action: b.dataset.action};
      if (b.dataset.action === "pause") fields.reason = document.getElementById("reason").value;
      b.disabled = true;
      const r = await hotline.post("/me/command", fields);
      b.disabled = false;
      hotline.toast(r.message, r.ok);
      refresh();
    });
  });
  document.querySelectorAll("button[data-transfer]").forEach((b) => {
    b.addEventListener("click", async () => {
      // the call is the one the server sees the agent on: the form names only the target
      const fields = {mode: b.dataset.transfer, to: document.getElementById("transfer-to").value};
      b.disabled = true;
      const r = await hotline.post("/me/transfer", fields);
      b.disabled = false;
      const reply = document.getElementById("transfer-reply");
      reply.textContent = r.message;
      reply.className = "reply " + (r.ok ? "ok" : "error");
      refresh();
    });
  });
  document.getElementById("recall").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-recall]");
    if (!b) return;
    b.disabled = true;
    const r = await hotline.post("/me/recall/" + b.dataset.recall, {task: b.dataset.task});
    b.disabled = false;
    hotline.toast(r.message, r.ok);
    document.getElementById("recall-reply").textContent = r.message;
    if (b.dataset.recall === "done" && r.ok) fragment("recall", "/me/recall");
  });
  document.getElementById("kb").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-kb-use]");
    if (!b) return;
    b.disabled = true;
    const r = await hotline.post("/me/kb/use",
      {answer: b.dataset.kbUse, version: b.dataset.version, call: b.dataset.call});
    hotline.toast(r.message, r.ok);
    if (!r.ok) b.disabled = false;
  });
  refresh();
  setInterval(refresh, 2000);
})();
