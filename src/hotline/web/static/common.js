// Shared by the pages: POST a form with the session's CSRF token, show a short message.
"use strict";
const hotline = (() => {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  async function post(url, fields) {
    const body = new URLSearchParams(fields);
    const r = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Accept": "application/json"},
    });
    let message = r.statusText;
    try { message = (await r.json()).message; } catch (e) { message = await r.text().catch(() => message); }
    return {ok: r.ok, message};
  }
  function toast(text, ok) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.className = "toast " + (ok ? "good" : "bad");
    clearTimeout(el._t);
    el._t = setTimeout(() => { el.textContent = ""; el.className = "toast"; }, 6000);
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  function duration(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
  }
  return {post, toast, el, duration};
})();
