// The agent's own page: buttons send commands; the status refreshes every 2 s.
"use strict";
(() => {
  const status = document.getElementById("status");
  const labels = JSON.parse(document.getElementById("labels").textContent);
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
  setInterval(refresh, 2000);
})();
