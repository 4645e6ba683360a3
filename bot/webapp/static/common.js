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

  // Telegram's own script is not loaded (no script from outside this server): the few
  // calls the pages need are made here, as that script makes them.
  function postEvent(eventType, eventData) {
    try {
      if (window.TelegramWebviewProxy) {
        window.TelegramWebviewProxy.postEvent(eventType, eventData === undefined ? "" : JSON.stringify(eventData));
      }
      else if (initData && window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType, eventData: eventData === undefined ? "" : eventData }), TELEGRAM_WEB);
      }
    } catch (error) { /* not inside Telegram */ }
  }

  // Telegram's colours (its theme, night mode included) as the --tg-theme-* CSS variables
  // that app.css draws with, as Telegram's script sets them: from the address when the
  // Mini App opens, then from each "theme_changed" event. Only colours are taken.
  const TELEGRAM_WEB = "https://web.telegram.org";
  const COLOUR = /^#[0-9a-f]{3,8}$/i;
  function applyTheme(params) {
    if (!params || typeof params !== "object") return;
    const root = document.documentElement;
    for (const [key, value] of Object.entries(params)) {
      if (!/^[a-z_]+$/.test(key) || typeof value !== "string" || !COLOUR.test(value)) continue;
      root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
    }
    const background = params.bg_color;
    if (typeof background === "string" && /^#[0-9a-f]{6}$/i.test(background)) {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(background.slice(i, i + 2), 16));
      const dark = 0.299 * r + 0.587 * g + 0.114 * b < 128;
      root.style.setProperty("--tg-color-scheme", dark ? "dark" : "light");
      root.style.colorScheme = dark ? "dark" : "light";
    }
    root.classList.add("telegram-theme");
  }
  function telegramEvent(eventType, eventData) {
    if (eventType === "theme_changed" && eventData) applyTheme(eventData.theme_params);
  }
  if (initData) {
    try { applyTheme(JSON.parse(hash.get("tgWebAppThemeParams") || "null")); } catch (error) { /* none */ }
    // Telegram's apps call window.Telegram.WebView.receiveEvent; Telegram Web posts a message.
    window.Telegram = window.Telegram || {};
    const view = window.Telegram.WebView = window.Telegram.WebView || {};
    const earlier = view.receiveEvent;
    view.receiveEvent = (eventType, eventData) => {
      telegramEvent(eventType, eventData);
      if (typeof earlier === "function") earlier(eventType, eventData);
    };
    window.addEventListener("message", (event) => {
      if (event.source !== window.parent || event.origin !== TELEGRAM_WEB) return;
      try {
        const message = JSON.parse(event.data);
        telegramEvent(message.eventType, message.eventData);
      } catch (error) { /* not Telegram's */ }
    });
    // The page is drawn: Telegram hides its loader, and says the theme now in use.
    postEvent("web_app_ready");
    postEvent("web_app_request_theme");
  }

  return { t, api, headers, notice, start, el, applyTheme };
})();
