"use strict";
(async () => {
  const { t, api, headers, notice, start, el } = Tayuk;
  const me = await start();
  if (!me) return;
  const main = document.getElementById("main");
  const picker = el("input", { type: "file", id: "files", multiple: "",
    accept: ".pdf,.jpg,.jpeg,.png,.heic,.tif,.tiff,.zip,application/pdf,image/*,application/zip" });
  const zone = el("div", { id: "drop", class: "drop" },
    el("p", { text: t("web.drop_here") }),
    el("label", { class: "button", for: "files", text: t("web.pick_files") }),
    picker,
    el("p", { class: "hint", text: t("web.accepts") }));
  let organization = null;
  if (me.organizations.length > 1) {
    const select = el("select", { id: "org" });
    for (const org of me.organizations) select.append(el("option", { value: org.id, text: org.name }));
    select.addEventListener("change", () => { organization = select.value; });
    organization = select.value;
    main.append(el("label", { class: "org" }, t("web.organization") + " ", select));
  } else if (me.organizations.length === 0) {
    notice(t("web.no_organization"), true);
    return;
  }
  const list = el("ul", { id: "results" });
  main.append(zone, list);
  const waiting = new Map(); // document id -> its line, until it is read

  function send(file) {
    const row = el("li", { class: "file" });
    const name = el("span", { class: "name", text: file.name });
    const bar = el("progress", { max: "100", value: "0" });
    const state = el("span", { class: "state", text: t("web.uploading", { percent: 0 }) });
    row.append(name, bar, state);
    list.append(row);
    const id = Math.floor(Math.random() * 2 ** 39) + 1;
    const query = new URLSearchParams({ name: file.name, upload_id: id });
    if (organization) query.set("org", organization);
    const request = new XMLHttpRequest();
    request.open("POST", "/app/api/upload?" + query);
    for (const [key, value] of Object.entries(headers())) request.setRequestHeader(key, value);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    request.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((100 * event.loaded) / event.total);
      bar.value = percent;
      state.textContent = t("web.uploading", { percent });
    };
    request.onload = () => {
      bar.remove();
      let data = {};
      try { data = JSON.parse(request.responseText); } catch (e) { /* shown below */ }
      if (request.status !== 200 || !data.results) {
        row.classList.add("refused");
        state.textContent = data.message || t("web.failed");
        return;
      }
      state.remove();
      const results = el("ul", { class: "parts" });
      for (const result of data.results) {
        const line = el("li", { class: "result " + result.outcome, "data-outcome": result.outcome });
        if (data.results.length > 1) line.append(el("span", { class: "name", text: result.name }));
        if (result.outcome === "refused") {
          line.append(el("span", { class: "text", text: t("web.outcome_refused") + ": " + result.reason }));
        } else {
          line.append(el("span", { class: "text", text: result.text }));
          if (result.outcome === "stored") {
            const reading = el("span", { class: "reading", text: t("web.reading") });
            line.append(reading);
            waiting.set(result.document, reading);
          }
        }
        results.append(line);
      }
      row.classList.add("done");
      row.append(results);
    };
    request.onerror = () => { row.classList.add("refused"); state.textContent = t("web.failed"); };
    request.send(file);
  }

  function take(files) { for (const file of files) send(file); }
  picker.addEventListener("change", () => { take(picker.files); picker.value = ""; });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    take(event.dataTransfer.files);
  });

  // Reading results as they arrive.
  setInterval(async () => {
    if (!waiting.size) return;
    try {
      const data = await api("GET", "/app/api/documents?ids=" + [...waiting.keys()].join(","));
      for (const doc of data.documents) {
        const reading = waiting.get(doc.id);
        if (!reading || !doc.read) continue;
        reading.textContent = doc.state_text + (doc.summary ? " — " + doc.summary : "");
        reading.classList.add("read");
        waiting.delete(doc.id);
      }
    } catch (error) { /* the next round tries again */ }
  }, 3000);
})();
