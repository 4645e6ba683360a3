"use strict";
// Shared by both pages: who is calling (Telegram's init data or the session cookie),
// the texts in the person's language, and one way to call the API.
const Tayuk = (() => {
  const texts = JSON.parse(document.getElementById("texts").textContent);
  // Inside Telegram the init data comes in the address's fragment; it is sent on every
  // call and checked there (never trusted here).
  const hash = new URLSearchParams(location.hash.slice(1));
  const initData = hash.get("tgWebAppData");
  let csrf = null;

  function t(key, params) {
    let text = texts[key] || key;
    for (const [name, value] of Object.entries(params || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function headers(extra) {
    const all = Object.assign({}, extra || {});
    if (initData) all.Authorization = "tma " + initData;
    if (csrf) all["X-CSRF-Token"] = csrf;
    return all;
  }

  async function api(method, path, body) {
    const options = { method, headers: headers(), credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || t("web.failed"));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function notice(text, bad) {
    const box = document.getElementById("notice");
    box.textContent = text || "";
    box.className = bad ? "bad" : "";
  }

  async function start() {
    try {
      const me = await api("GET", "/app/api/me");
      Object.assign(texts, me.texts);
      csrf = me.csrf;
      document.documentElement.lang = me.language;
      document.documentElement.dir = me.dir;
      const page = document.body.dataset.page;
      document.getElementById("title").textContent = t("web.title_" + page);
      document.title = t("web.title_" + page);
      document.getElementById("who").textContent = me.name;
      return me;
    } catch (error) {
      notice(error.message, true);
      document.body.classList.add("refused");
      return null;
    }
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  // Inside Telegram: the page is drawn, hide the loader (Telegram's own script is not
  // loaded: no script from outside this server).
  try {
    if (window.TelegramWebviewProxy) window.TelegramWebviewProxy.postEvent("web_app_ready", "");
    else if (initData && window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType: "web_app_ready", eventData: "" }), "https://web.telegram.org");
    }
  } catch (error) { /* not inside Telegram */ }

  return { t, api, headers, notice, start, el };
})();
