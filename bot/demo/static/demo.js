// Tayuk demo page. It draws each chat from the Bot API Message objects the local server
// holds, and sends everything the visitor does as that Telegram user. No libraries.
"use strict";

const WHO = ["client", "accountant"];
const POLL_MS = 700;
const DOC_ICON = '<svg class="icon-svg" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 2h8l6 6v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zm7 1.5V9h5.5z"/></svg>';
let catalog = {};
let lang = "he";
let state = null;
let generation = -1;
const drawn = { client: "", accountant: "" };
const stick = { client: true, accountant: true };  // scroll to the newest message on next draw
let tourStep = 0;
let tourOn = localStorage.getItem("tayuk-demo-tour") !== "off";
let shownPhone = "client";

function t(key, params) {
  let text = (catalog[lang] && catalog[lang][key]) || key;
  for (const [name, value] of Object.entries(params || {})) text = text.replace(`{${name}}`, value);
  return text;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(`/demo/api/${path}`, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail ? JSON.stringify(data.detail) : response.statusText);
  return data;
}

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

async function act(work) {
  try {
    return await work();
  } catch (error) {
    toast(t("error", { error: error.message }));
    return null;
  }
}

// --- page texts and language ----------------------------------------------------------

function applyTexts() {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "he" ? "rtl" : "ltr";
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  for (const button of document.querySelectorAll(".lang")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  for (const who of WHO) {
    const phone = document.getElementById(`phone-${who}`);
    phone.querySelector(".role").textContent = t(who);
    phone.querySelector(".text").placeholder = t("placeholder");
    phone.querySelector(".send").setAttribute("aria-label", t("send"));
    phone.querySelector(".attach").title = t("attach");
    phone.querySelector(".samples-label").textContent = t("samples");
    drawn[who] = "";  // labels inside bubbles change too
  }
  drawTour();
}

// --- tour ------------------------------------------------------------------------------

function drawTour() {
  const steps = (catalog[lang] && catalog[lang].tour) || [];
  const panel = document.getElementById("tour");
  panel.hidden = !tourOn || !steps.length;
  for (const who of WHO) document.getElementById(`phone-${who}`).classList.remove("focus");
  if (panel.hidden) return;
  const step = steps[tourStep];
  document.getElementById("tour-step").textContent = t("tour_step", { n: tourStep + 1, total: steps.length });
  document.getElementById("tour-text").textContent = step.text;
  document.getElementById("tour-back").disabled = tourStep === 0;
  document.getElementById("tour-next").textContent = t(tourStep === steps.length - 1 ? "tour_done" : "tour_next");
  document.getElementById("join-second").hidden = tourStep !== steps.length - 1;
  for (const who of WHO) {
    if (step.who === who || step.who === "both") document.getElementById(`phone-${who}`).classList.add("focus");
  }
  if (step.who !== "both") showPhone(step.who);
}

function setTour(on) {
  tourOn = on;
  localStorage.setItem("tayuk-demo-tour", on ? "on" : "off");
  drawTour();
}

function showPhone(who) {
  shownPhone = who;
  for (const other of WHO) document.getElementById(`phone-${other}`).classList.toggle("shown", other === who);
  for (const tab of document.querySelectorAll(".tab")) {
    tab.setAttribute("aria-selected", String(tab.dataset.show === who));
  }
}

// --- rendering Bot API messages --------------------------------------------------------

const TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  blockquote: "blockquote", expandable_blockquote: "blockquote",
};

function entityNode(entity, text, who) {
  if (TAGS[entity.type]) return document.createElement(TAGS[entity.type]);
  const span = document.createElement("span");
  if (entity.type === "spoiler") {
    span.className = "spoiler";
    span.addEventListener("click", () => span.classList.add("shown"));
  } else if (entity.type === "text_link" || entity.type === "url") {
    const url = entity.type === "url" ? text : entity.url;
    if (/^https?:\/\//i.test(url || "")) {
      const link = document.createElement("a");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
  } else if (entity.type === "bot_command") {
    span.className = "cmd";
    span.addEventListener("click", () => sendText(who, text));
  }
  return span;
}

// Entities count UTF-16 code units, as JavaScript strings do.
function formatted(text, entities, who) {
  const out = document.createDocumentFragment();
  if (!text) return out;
  const list = (entities || []).filter((e) => e.length > 0);
  const cuts = new Set([0, text.length]);
  for (const e of list) { cuts.add(e.offset); cuts.add(Math.min(e.offset + e.length, text.length)); }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i < points.length - 1; i++) {
    const [start, end] = [points[i], points[i + 1]];
    const piece = text.slice(start, end);
    let node = document.createTextNode(piece);
    const covering = list.filter((e) => e.offset <= start && e.offset + e.length >= end);
    for (const e of covering.reverse()) {
      const wrapper = entityNode(e, text.slice(e.offset, e.offset + e.length), who);
      wrapper.appendChild(node);
      node = wrapper;
    }
    out.appendChild(node);
  }
  return out;
}

function size(bytes) {
  if (!bytes) return "";
  return bytes > 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function clock(seconds) {
  const d = new Date(seconds * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

function snippet(message) {
  if (message.text) return message.text;
  if (message.caption) return message.caption;
  if (message.photo) return t("photo");
  if (message.document) return message.document.file_name || t("document");
  return "…";
}

function bubble(message, who) {
  const el = document.createElement("div");
  el.className = `msg ${message._from_bot ? "in" : "out"}`;
  el.dataset.messageId = message.message_id;
  if (message.reply_to_message) {
    const quote = document.createElement("div");
    quote.className = "quote";
    quote.dir = "auto";
    quote.textContent = snippet(message.reply_to_message);
    el.appendChild(quote);
  }
  if (message.photo) {
    const img = document.createElement("img");
    img.className = "photo";
    img.alt = t("photo");
    img.src = `/demo/api/file/${encodeURIComponent(message.photo[message.photo.length - 1].file_id)}`;
    el.appendChild(img);
  }
  if (message.document) {
    const doc = document.createElement("a");
    doc.className = "doc";
    doc.href = `/demo/api/file/${encodeURIComponent(message.document.file_id)}`;
    doc.target = "_blank";
    const icon = document.createElement("span");
    icon.className = "icon";
    icon.innerHTML = DOC_ICON;
    const name = document.createElement("span");
    name.textContent = message.document.file_name || t("document");
    const small = document.createElement("small");
    small.textContent = size(message.document.file_size);
    name.appendChild(small);
    doc.append(icon, name);
    el.appendChild(doc);
  }
  const text = message.text ?? message.caption;
  if (text) {
    const body = document.createElement("div");
    body.className = "body";
    body.dir = "auto";
    body.appendChild(formatted(text, message.entities || message.caption_entities, who));
    el.appendChild(body);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = (message.edit_date ? `${t("edited")} ` : "") + clock(message.edit_date || message.date);
  el.appendChild(meta);
  return el;
}

function keyboard(message, who) {
  const rows = (message.reply_markup || {}).inline_keyboard;
  if (!rows || !rows.length) return null;
  const box = document.createElement("div");
  box.className = "keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const b = document.createElement("button");
      b.type = "button";
      b.dir = "auto";
      b.textContent = button.text;
      if (button.url) {
        b.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
      } else if (button.callback_data) {
        b.addEventListener("click", () => press(who, message.message_id, button.callback_data, box));
      } else {
        b.disabled = true;
      }
      line.appendChild(b);
    }
    box.appendChild(line);
  }
  return box;
}

function drawChat(who) {
  const chat = state.chats[who];
  const messages = chat.messages.filter((m) => !m._deleted);
  const signature = JSON.stringify(messages);
  if (signature === drawn[who]) return;
  drawn[who] = signature;
  const phone = document.getElementById(`phone-${who}`);
  phone.querySelector(".chat-sub").textContent = `@${state.bot.username} · ${t("bot_status")}`;
  phone.querySelector(".role").textContent = `${t(who)}: ${chat.user.first_name}`;
  const log = phone.querySelector(".messages");
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.replaceChildren();
  for (const message of messages) {
    log.appendChild(bubble(message, who));
    const keys = keyboard(message, who);
    if (keys) log.appendChild(keys);
  }
  const follow = atBottom || stick[who];
  stick[who] = false;
  if (follow) log.scrollTop = log.scrollHeight;
  for (const img of log.querySelectorAll("img")) {
    img.addEventListener("load", () => { if (follow) log.scrollTop = log.scrollHeight; });
  }
}

function drawSamples() {
  const list = document.querySelector("#phone-client .sample-list");
  const names = state.samples.join();
  if (list.dataset.names === names + lang) return;
  list.dataset.names = names + lang;
  list.replaceChildren();
  for (const name of state.samples) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.sample = name;
    if (!name.endsWith(".pdf")) {
      const img = document.createElement("img");
      img.src = `/demo/samples/${name}`;
      img.alt = "";
      b.appendChild(img);
    } else {
      b.insertAdjacentHTML("beforeend", DOC_ICON);
    }
    b.append(t(`sample.${name}`));
    b.addEventListener("click", () => act(async () => {
      b.disabled = true;
      stick.client = true;
      try { await api("sample", { who: "client", name }); } finally { b.disabled = false; }
      poll();
    }));
    list.appendChild(b);
  }
  document.querySelector("#phone-client .samples").hidden = false;
}

// --- actions ---------------------------------------------------------------------------

async function sendText(who, text) {
  stick[who] = true;
  await act(() => api("text", { who, text }));
  poll();
}

async function press(who, messageId, data, box) {
  for (const b of box.querySelectorAll("button")) b.disabled = true;
  const answer = await act(() => api("press", { who, message_id: messageId, data }));
  if (answer && answer.answer) toast(answer.answer);
  for (const b of box.querySelectorAll("button")) b.disabled = false;
  poll();
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function reset(language) {
  overlay(t("resetting"));
  tourStep = 0;
  drawTour();
  await act(() => api("reset", { language: language || lang }));
  await poll();
}

function overlay(text) {
  const box = document.getElementById("overlay");
  box.hidden = !text;
  document.getElementById("overlay-text").textContent = text || "";
}

// --- polling ---------------------------------------------------------------------------

let polling = null;
async function poll() {
  if (polling) return polling;
  polling = (async () => {
    try {
      const fresh = await api("state");
      if (!fresh.ready) {
        overlay(t(generation < 0 ? "starting" : "resetting"));
        return;
      }
      if (fresh.language !== lang) { lang = fresh.language; applyTexts(); }
      if (fresh.generation !== generation) {
        drawn.client = drawn.accountant = "";
        stick.client = stick.accountant = true;
      }
      state = fresh;
      for (const who of WHO) drawChat(who);
      generation = fresh.generation;
      drawSamples();
      overlay(null);
    } catch (error) {
      overlay(t("starting"));
    } finally {
      polling = null;
    }
  })();
  return polling;
}

// --- start -----------------------------------------------------------------------------

function buildPhones() {
  const template = document.getElementById("phone-template");
  for (const who of WHO) {
    const phone = document.getElementById(`phone-${who}`);
    phone.appendChild(template.content.cloneNode(true));
    const form = phone.querySelector(".composer");
    const input = phone.querySelector(".text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      sendText(who, text);
    });
    const file = phone.querySelector("input[type=file]");
    file.addEventListener("change", () => act(async () => {
      const chosen = file.files[0];
      file.value = "";
      if (!chosen) return;
      stick[who] = true;
      await api("file", { who, name: chosen.name, data_b64: await readFile(chosen), as_photo: true });
      poll();
    }));
  }
}

async function main() {
  catalog = await (await fetch("/demo/api/texts")).json();
  buildPhones();
  for (const button of document.querySelectorAll(".lang")) {
    button.addEventListener("click", () => {
      if (button.dataset.lang === lang) return;
      lang = button.dataset.lang;
      applyTexts();
      reset(lang);
    });
  }
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => showPhone(tab.dataset.show));
  }
  document.getElementById("reset").addEventListener("click", () => reset(lang));
  document.getElementById("tour-open").addEventListener("click", () => { tourStep = 0; setTour(true); });
  document.getElementById("tour-skip").addEventListener("click", () => setTour(false));
  document.getElementById("tour-back").addEventListener("click", () => { tourStep = Math.max(0, tourStep - 1); drawTour(); });
  document.getElementById("tour-next").addEventListener("click", () => {
    const steps = catalog[lang].tour;
    if (tourStep >= steps.length - 1) setTour(false); else { tourStep += 1; drawTour(); }
  });
  document.getElementById("join-second").addEventListener("click", () => {
    if (state) { showPhone("client"); sendText("client", state.second_invite); }
  });
  showPhone(shownPhone);
  applyTexts();
  overlay(t("starting"));
  await poll();
  setInterval(poll, POLL_MS);
}

main();
