"use strict";
(async () => {
  const { t, api, notice, start, el } = Tayuk;
  const me = await start();
  if (!me) return;
  const main = document.getElementById("main");
  const side = el("nav", { id: "queue" });
  const viewer = el("section", { id: "viewer" });
  const panel = el("section", { id: "panel" });
  main.append(el("div", { class: "review" }, side, viewer, panel));
  main.append(el("p", { class: "hint", id: "shortcuts", text: t("web.shortcuts") }));
  let organization = 0;
  let queue = [];
  let doc = null;
  let page = 0;
  let zoom = 1;
  let turn = 0;
  let dialog = null; // the open form (edit or return), keys go to it then

  let stamp = null;

  async function loadQueue(keep, quiet) {
    const data = await api("GET", "/app/api/review/queue" + (organization ? "?org=" + organization : ""));
    organization = data.organization;
    queue = data.documents;
    stamp = data.stamp;
    side.replaceChildren();
    const orgs = el("select", { id: "orgs" });
    for (const org of data.organizations) {
      const option = el("option", { value: org.id, text: `${org.name} (${org.to_file})` });
      if (org.id === organization) option.selected = true;
      orgs.append(option);
    }
    orgs.addEventListener("change", async () => { organization = Number(orgs.value); await loadQueue(); });
    side.append(orgs, el("h2", { text: t("web.queue") }));
    const list = el("ol", { class: "docs" });
    for (const item of queue) {
      list.append(el("li", { "data-id": item.id, onclick: () => open(item.id) },
        el("b", { text: "#" + item.number }), " ", item.summary || ""));
    }
    side.append(list);
    if (!queue.length) {
      viewer.replaceChildren();
      panel.replaceChildren(el("p", { id: "empty", text: t("web.empty") }));
      doc = null;
      return;
    }
    const kept = keep && queue.find((item) => item.id === keep);
    // A poll's reload leaves the open document as it is (zoom, page, a form being filled).
    if (quiet && kept && doc && doc.id === keep) { mark(); return; }
    await open(kept ? keep : queue[0].id);
  }

  // Changes made elsewhere (the chat, another accountant, a client's answer) show here.
  setInterval(async () => {
    if (document.hidden || dialog) return;
    try {
      const now = await api("GET", "/app/api/review/stamp");
      if (stamp !== null && now.stamp !== stamp) await loadQueue(doc && doc.id, true);
    } catch (error) { /* the next poll tries again */ }
  }, 10000);

  function mark() {
    for (const item of side.querySelectorAll("li")) {
      item.classList.toggle("current", doc && Number(item.dataset.id) === doc.id);
    }
  }

  async function open(id) {
    doc = await api("GET", "/app/api/review/documents/" + id);
    page = 0; zoom = 1; turn = 0;
    draw();
  }

  function picture() {
    viewer.replaceChildren();
    if (!doc.pages) return;
    const image = el("img", { id: "picture", alt: "#" + doc.number });
    // Fetched with the same credentials as any call, then shown from memory.
    fetch(`/app/api/review/documents/${doc.id}/pages/${page}`, { headers: Tayuk.headers(), credentials: "same-origin" })
      .then((r) => (r.ok ? r.blob() : null))
      .then((blob) => { if (blob) image.src = URL.createObjectURL(blob); });
    image.style.transform = `rotate(${turn}deg) scale(${zoom})`;
    const tools = el("div", { class: "tools" },
      el("button", { type: "button", text: "−", title: t("web.zoom"), onclick: () => { zoom = Math.max(0.5, zoom - 0.25); picture(); } }),
      el("button", { type: "button", text: "+", title: t("web.zoom"), onclick: () => { zoom = Math.min(4, zoom + 0.25); picture(); } }),
      el("button", { type: "button", text: "⟳", title: t("web.rotate"), onclick: () => { turn = (turn + 90) % 360; picture(); } }));
    if (doc.pages > 1) {
      tools.append(
        el("button", { type: "button", text: "‹", onclick: () => { page = Math.max(0, page - 1); picture(); } }),
        el("span", { text: t("web.page", { page: page + 1, pages: doc.pages }) }),
        el("button", { type: "button", text: "›", onclick: () => { page = Math.min(doc.pages - 1, page + 1); picture(); } }));
    }
    viewer.append(tools, el("div", { class: "frame" }, image));
  }

  function draw(keepPicture) {
    mark();
    if (!keepPicture || !viewer.firstChild) picture();
    dialog = null;
    panel.replaceChildren(el("h2", { id: "doc-title", text: `#${doc.number} · ${doc.organization}` }),
      el("p", { class: "kind", text: `${doc.kind} · ${doc.state_text}` }));
    const fields = el("dl", { id: "fields" });
    for (const field of doc.fields) {
      const dt = el("dt", { text: field.label });
      const dd = el("dd", { "data-field": field.name, text: field.shown || "—" });
      if (field.doubtful) {
        dd.classList.add("doubtful");
        dd.title = t("web.doubtful");
        dd.prepend("⚠️ ");
      }
      fields.append(dt, dd);
    }
    panel.append(fields);
    const category = el("select", { id: "category" }, el("option", { value: "", text: "—" }));
    for (const item of doc.categories) {
      const suggested = !doc.category && item.key === doc.suggested;
      const option = el("option", { value: item.key, text: item.label + (suggested ? ` (${t("web.suggested")})` : "") });
      if (item.key === (doc.category || doc.suggested)) option.selected = true;
      category.append(option);
    }
    category.addEventListener("change", async () => {
      if (await act("category", { category: category.value }, t("web.done_saved"))) draw(true);
    });
    panel.append(el("label", { class: "category" }, t("web.category") + " ", category));
    if (!doc.open) { panel.append(el("p", { text: doc.state_text })); return; }
    panel.append(el("div", { class: "actions" },
      el("button", { type: "button", id: "approve", text: t("web.approve") + " (a)", onclick: approve }),
      el("button", { type: "button", id: "edit", text: t("web.edit") + " (e)", onclick: editForm }),
      el("button", { type: "button", id: "return", text: t("web.return") + " (r)", onclick: returnForm }),
      el("button", { type: "button", id: "next", text: t("web.next") + " (j)", onclick: next })));
  }

  async function act(action, body, done) {
    try {
      const fresh = await api("POST", `/app/api/review/documents/${doc.id}/${action}`, Object.assign({ version: doc.version }, body));
      if (fresh.pages === null) fresh.pages = doc.pages;
      doc = fresh;
      notice(done);
      return true;
    } catch (error) {
      notice(error.message, true);
      if (error.status === 409) await loadQueue(doc.id);
      return false;
    }
  }

  async function approve() {
    const number = doc.number;
    if (await act("approve", {}, t("web.done_approved", { id: number }))) await loadQueue();
  }

  async function next() {
    if (!doc) return;
    const at = queue.findIndex((item) => item.id === doc.id);
    if (queue.length) await open(queue[(at + 1) % queue.length].id);
  }

  function form(id, children, submit, label) {
    const box = el("form", { id, class: "dialog" }, ...children,
      el("button", { type: "submit", text: label || t("web.save") }),
      el("button", { type: "button", text: t("web.cancel"), onclick: () => draw(true) }));
    box.addEventListener("submit", async (event) => { event.preventDefault(); await submit(); });
    box.addEventListener("keydown", (event) => { if (event.key === "Escape") draw(true); });
    panel.append(box);
    dialog = box;
    return box;
  }

  function editForm() {
    if (dialog) return;
    const doubtful = doc.fields.find((f) => f.doubtful) || doc.fields.find((f) => f.missing) || doc.fields[0];
    const choice = el("select", { id: "edit-field" });
    for (const field of doc.fields) {
      const option = el("option", { value: field.name, text: field.label });
      if (field.name === doubtful.name) option.selected = true;
      choice.append(option);
    }
    const value = el("input", { id: "edit-value", type: "text", value: doubtful.value });
    choice.addEventListener("change", () => { value.value = doc.fields.find((f) => f.name === choice.value).value; });
    form("edit-form", [choice, value], async () => {
      if (await act("field", { field: choice.value, value: value.value }, t("web.done_saved"))) draw(true);
    });
    value.focus();
    value.select();
  }

  function returnForm() {
    if (dialog) return;
    const reason = el("select", { id: "return-reason" });
    for (const item of doc.reasons) reason.append(el("option", { value: item.key, text: item.label }));
    const note = el("input", { id: "return-note", type: "text", placeholder: t("web.note") });
    form("return-form", [el("label", { text: t("web.reason") }), reason, note], async () => {
      const number = doc.number;
      if (await act("return", { reason: reason.value, note: note.value }, t("web.done_returned", { id: number }))) await loadQueue();
    }, t("web.send"));
    reason.focus();
  }

  document.addEventListener("keydown", (event) => {
    if (dialog || !doc || event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea") return;
    const actions = { a: approve, j: next, n: next, e: editForm, r: returnForm };
    // By the key's place, not its letter: with the Hebrew layout "a" types "ש".
    const letter = /^Key[A-Z]$/.test(event.code || "") ? event.code.slice(3).toLowerCase() : event.key.toLowerCase();
    const action = actions[letter];
    if (action && doc.open) { event.preventDefault(); action(); }
  });

  try { await loadQueue(); } catch (error) { notice(error.message, true); }
})();
