/* Staff console: search-as-you-type (IME aware), four panes, keyboard first, feedback. */
"use strict";
(function () {
  const DEBOUNCE_MS = 250;
  const K = 5;
  const $ = (sel) => document.querySelector(sel);
  const q = $("#q");
  const statusEl = $("#status");
  const toast = $("#toast");
  const dialog = $("#detail");
  const panes = {
    departments: $("#pane-departments"),
    faqs: $("#pane-faqs"),
    cases: $("#pane-cases"),
    manuals: $("#pane-manuals"),
  };

  // --- the one place that talks to the server -------------------------------------------
  // /static/auth.js holds the key (sessionStorage, after the login form) and sends it as
  // "Authorization: Bearer ..."; a 401 brings the login form back.
  function api(path, options = {}) {
    return window.kbAuth.api(path, options);
  }

  // --- state ----------------------------------------------------------------------------
  let composing = false;
  let timer = 0;
  let seq = 0;
  let inflight = null;
  let lastQuery = "";
  let shown = [];
  let selected = -1;
  let directory = [];
  let searches = []; // the searches of this consultation, oldest first (新しい相談 clears it)

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function setStatus(text) { statusEl.textContent = text; }
  function say(text) {
    toast.textContent = text;
    clearTimeout(say.t);
    say.t = setTimeout(() => { toast.textContent = ""; }, 4000);
  }

  // --- typing ---------------------------------------------------------------------------
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(runSearch, DEBOUNCE_MS);
  }
  q.addEventListener("compositionstart", () => { composing = true; clearTimeout(timer); });
  q.addEventListener("compositionend", () => { composing = false; schedule(); });
  q.addEventListener("input", (e) => {
    // While the IME is converting, the text is not what the citizen said yet.
    if (e.isComposing || composing) return;
    schedule();
  });
  for (const input of document.querySelectorAll(".filters input, .filters select")) {
    input.addEventListener("change", () => { updatePaneVisibility(); schedule(); });
  }

  function filterParams() {
    const params = new URLSearchParams();
    const kinds = [...document.querySelectorAll('input[name="kind"]:checked')].map((i) => i.value);
    if (kinds.length && kinds.length < 4) for (const k of kinds) params.append("kind", k);
    const dept = $("#department-filter").value;
    if (dept) params.append("department", dept);
    if ($("#date-from").value) params.append("date_from", $("#date-from").value);
    if ($("#date-to").value) params.append("date_to", $("#date-to").value);
    return params;
  }

  function updatePaneVisibility() {
    const kinds = new Set(
      [...document.querySelectorAll('input[name="kind"]:checked')].map((i) => i.value));
    const all = kinds.size === 0;
    panes.departments.hidden = !(all || kinds.has("department"));
    panes.faqs.hidden = !(all || kinds.has("faq"));
    panes.cases.hidden = !(all || kinds.has("case"));
    panes.manuals.hidden = !(all || kinds.has("manual"));
  }

  async function runSearch() {
    const text = q.value.trim();
    if (!text) { clearResults(); return; }
    const my = ++seq;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const params = filterParams();
    params.set("q", text);
    params.set("k", String(K));
    setStatus("検索中…");
    try {
      const data = await api("api/v1/search?" + params, { signal: inflight.signal });
      if (my !== seq) return;
      render(data);
      document.dispatchEvent(new CustomEvent("kb:search", { detail: { query: text } }));
      remember(text);
      const ms = `${data.took_ms.toFixed(0)} ms`;
      setStatus(data.answered === false ? `該当する情報なし・${ms}` : ms);
      highlight(text, my);
    } catch (err) {
      if (err.name === "AbortError") return;
      if (my === seq) setStatus("エラー: " + err.message);
    }
  }

  // --- rendering ------------------------------------------------------------------------
  function clearResults() {
    seq++;
    if (inflight) inflight.abort();
    for (const p of Object.values(panes)) p.querySelector(".items").replaceChildren();
    markConfidence({});
    shown = [];
    selected = -1;
    lastQuery = "";
    setStatus("");
    document.dispatchEvent(new CustomEvent("kb:clear"));
  }

  function helpedButton(docId) {
    return el("button", {
      type: "button", class: "helped", "aria-pressed": "false", "data-helped": docId,
      onclick: (e) => { e.stopPropagation(); sendHelped(docId, e.currentTarget); },
    }, "役に立った");
  }

  function item(kind, id, docId, parts, extra) {
    const li = el("li", {
      class: "item" + (kind === "department" ? " dept" : ""), tabindex: "-1",
      "data-kind": kind, "data-id": id, "data-doc": docId,
      onclick: () => openItem(kind, id),
    }, ...parts);
    li.append(el("div", { class: "actions" }, helpedButton(docId), copyButton(li), extra || null));
    return li;
  }

  // Text with each web address in it (http or https only) made a link that opens a new tab.
  function withLinks(tag, attrs, text) {
    const node = el(tag, attrs);
    const re = /https?:\/\/[\x21-\x7e]+/gi;
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const url = m[0].replace(/[.,;:!?'"\])]+$/, "");
      node.append(text.slice(last, m.index),
        el("a", { href: url, target: "_blank", rel: "noopener" }, url));
      last = m.index + url.length;
      re.lastIndex = last;
    }
    node.append(text.slice(last));
    return node;
  }

  function hl(tag, cls, text) {
    return el(tag, { class: cls + " hl", "data-text": text }, text);
  }

  function evidenceLinks(evidence) {
    const out = el("div", { class: "why" }, "根拠: ");
    evidence.forEach((docId, i) => {
      const [kind, id] = [docId.split(":")[0], docId.slice(docId.indexOf(":") + 1)];
      if (i) out.append("、");
      if (kind === "faq" || kind === "case" || kind === "manual") {
        out.append(el("a", {
          href: `#${kind}/${encodeURIComponent(id)}`,
          onclick: (e) => { e.stopPropagation(); },
        }, docId));
      } else {
        out.append(kind === "department" ? "担当課の所掌" : docId);
      }
    });
    return out;
  }

  // How sure each pane is (kb.search.confidence): a weak pane is marked, not hidden.
  const PANE_KIND = { departments: "department", faqs: "faq", cases: "case", manuals: "manual" };
  const BADGE = { low: "一致が弱い", none: "該当なし（参考表示）" };

  function markConfidence(confidence) {
    for (const [name, kind] of Object.entries(PANE_KIND)) {
      const heading = panes[name].querySelector("h2");
      heading.querySelector(".badge")?.remove();
      const level = (confidence || {})[kind];
      panes[name].dataset.confidence = level || "";
      if (BADGE[level]) {
        heading.append(el("span", { class: "badge", "data-level": level,
          title: "最上位の結果でも相談内容との一致が弱い可能性があります" }, BADGE[level]));
      }
    }
  }

  // Instead of a guessed department: the city's general desk (kb settings contact_*).
  function generalDesk(contact, level) {
    const c = contact || {};
    return el("li", { class: "general-desk", "data-level": level },
      el("div", { class: "title" }, level === "none"
        ? "担当課を特定できません" : "担当課の推定は確かではありません"),
      el("div", {}, `${c.name || "総合相談窓口"}へのご案内をご検討ください。`),
      c.phone ? el("div", { class: "phone" }, "☎ " + c.phone) : null,
      c.hours ? el("div", { class: "meta" }, c.hours) : null);
  }

  // The answer as staff would read it out or paste it into a record: title, phone, body, ids.
  function copyButton(li) {
    return el("button", {
      type: "button", class: "copy", title: "この回答の文面をコピー",
      onclick: (e) => {
        e.stopPropagation();
        const text = [...li.querySelectorAll(".title, .phone, .body, .meta")]
          .map((n) => n.textContent.trim()).filter(Boolean).join("\n");
        copyText(text).then(() => say("コピーしました"), () => say("コピーできませんでした"));
      },
    }, "コピー");
  }

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return; } catch (err) { /* fall back */ }
    }
    // Plain http inside the city network has no Clipboard API: the old way still works.
    const area = el("textarea", { readonly: "", class: "visually-hidden" });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) throw new Error("copy refused");
  }

  // --- manual tables: Markdown / Word rows (| a | b |) as <table>, built as DOM (no HTML) --
  const SEPARATOR = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
  function isRow(line) { return /^\s*\|.*\|\s*$/.test(line) || / \| .* \| /.test(` ${line} `); }
  function cells(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
  }

  function blocks(text) {
    const out = [];
    for (const line of text.split("\n")) {
      const row = isRow(line) || SEPARATOR.test(line.trim());
      const last = out[out.length - 1];
      if (row && last && last.table) last.lines.push(line);
      else if (row) out.push({ table: true, lines: [line] });
      else if (last && !last.table) last.lines.push(line);
      else out.push({ table: false, lines: [line] });
    }
    // One row alone is a sentence with a bar in it, not a table.
    return out.map((b) => (b.table && b.lines.length < 2 ? { table: false, lines: b.lines } : b));
  }

  function manualText(text) {
    const frag = document.createDocumentFragment();
    for (const b of blocks(text)) {
      if (!b.table) { frag.append(el("p", { class: "pre" }, b.lines.join("\n"))); continue; }
      const rows = b.lines.filter((l) => !SEPARATOR.test(l.trim())).map(cells);
      const head = b.lines.length > 1 && SEPARATOR.test(b.lines[1].trim()) ? rows.shift() : null;
      frag.append(el("table", { class: "md" },
        head ? el("thead", {}, el("tr", {}, ...head.map((c) => el("th", { scope: "col" }, c))))
          : null,
        el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))))));
    }
    return frag;
  }

  // In a pane's short extract a table reads as lines of cells, without its |---| rule.
  function plainTables(text) {
    return blocks(text).map((b) => (b.table
      ? b.lines.filter((l) => !SEPARATOR.test(l.trim())).map((l) => cells(l).join("　")).join("\n")
      : b.lines.join("\n"))).join("\n");
  }

  // --- this consultation: its searches, 新しい相談, phone-call mode ------------------------
  function remember(text) {
    const last = searches[searches.length - 1];
    // Typing builds a query in steps (母が → 母が認知症で…): one entry for the finished one.
    if (last && (text.startsWith(last) || last.startsWith(text))) searches[searches.length - 1] = text;
    else if (!searches.includes(text)) searches.push(text);
    if (searches.length > 100) searches.shift();
    renderHistory();
  }

  function renderHistory() {
    const list = $("#history");
    if (!list) return;
    list.replaceChildren(...searches.map((text) => el("li", {}, el("button", {
      type: "button", title: text, onclick: () => { q.value = text; q.focus(); runSearch(); },
    }, text.length > 24 ? text.slice(0, 24) + "…" : text))));
    list.closest(".history").hidden = searches.length === 0;
  }

  function newConsultation() {
    searches = [];
    renderHistory();
    q.value = "";
    const notes = $("#phone-notes");
    if (notes) notes.value = "";
    clearResults();
    document.dispatchEvent(new CustomEvent("kb:new-consultation"));
    q.focus();
  }

  // A call's notes grow as the citizen talks: the search follows the latest sentences.
  const PHONE_QUERY_CHARS = 200;
  function latestSentences(text, count = 2, most = PHONE_QUERY_CHARS) {
    const parts = text.split(/(?<=[。．！？!?\n])/).map((x) => x.trim()).filter(Boolean);
    const out = parts.slice(-count).join(" ");
    return out.length > most ? out.slice(-most).trim() : out;
  }

  function setPhoneMode(on) {
    $("#phone-mode").setAttribute("aria-pressed", String(on));
    $("#phone-panel").hidden = !on;
    document.body.classList.toggle("phone-mode", on);
    (on ? $("#phone-notes") : q).focus();
  }

  function render(data) {
    lastQuery = data.query;
    // 正しい担当課は… belongs to one search: never carried over to the next one.
    $("#right-department").value = "";
    shown = [];
    selected = -1;
    const confidence = data.confidence || {};
    const deptLevel = confidence.department;
    // With no evidence at all the departments are a guess: the general desk stands in.
    const departments = deptLevel === "none" ? [] : data.departments;
    const lists = {
      departments: departments.map((d) => {
        shown.push("department:" + d.name);
        return item("department", d.name, "department:" + d.name, [
          el("div", { class: "title" }, d.name),
          el("div", { class: "phone" }, "☎ " + (d.phone || "—")),
          el("div", { class: "meta" }, [d.location, d.hours].filter(Boolean).join("　")),
          evidenceLinks(d.evidence),
        ]);
      }),
      faqs: data.faqs.map((f) => {
        shown.push("faq:" + f.id);
        return item("faq", f.id, "faq:" + f.id, [
          hl("div", "title", f.question),
          hl("div", "body", f.answer),
          el("div", { class: "meta" }, `${f.id}　${f.department}`,
            f.expired ? el("span", { class: "badge expired", title: `公開期限 ${f.expires}` }, "期限切れ") : null),
        ]);
      }),
      cases: data.cases.map((c) => {
        shown.push("case:" + c.id);
        return item("case", c.id, "case:" + c.id, [
          hl("div", "title", c.summary),
          el("div", { class: "body" }, el("strong", {}, "対応: "), hl("span", "", c.resolution)),
          el("div", { class: "meta" }, `${c.id}　${c.date}　${c.department}`),
        ]);
      }),
      manuals: data.manuals.map((m) => {
        shown.push("manual:" + m.id);
        return item("manual", m.id, "manual:" + m.id, [
          hl("div", "title", m.heading),
          hl("div", "body", plainTables(m.text)),
          el("div", { class: "meta" }, m.title),
        ]);
      }),
    };
    if (deptLevel === "low" || deptLevel === "none") {
      lists.departments.unshift(generalDesk(data.contact, deptLevel));
      if (deptLevel === "low") lists.departments.slice(1).forEach((n) => n.classList.add("weak"));
    }
    for (const [name, items] of Object.entries(lists)) {
      const ol = panes[name].querySelector(".items");
      ol.replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "該当なし")]));
    }
    markConfidence(confidence);
  }

  async function highlight(text, my) {
    const nodes = [...document.querySelectorAll("#results .hl")];
    if (!nodes.length) return;
    try {
      const data = await api("api/v1/highlight", {
        method: "POST", body: { q: text, texts: nodes.map((n) => n.dataset.text) },
      });
      if (my !== seq) return;
      nodes.forEach((node, i) => applySpans(node, node.dataset.text, data.spans[i]));
    } catch (err) { /* highlighting is a nicety; results stay readable without it */ }
  }

  function applySpans(node, text, spans) {
    if (!spans || !spans.length) return;
    const frag = document.createDocumentFragment();
    let at = 0;
    for (const [start, end] of spans) {
      if (start > at) frag.append(text.slice(at, start));
      frag.append(el("mark", {}, text.slice(start, end)));
      at = end;
    }
    if (at < text.length) frag.append(text.slice(at));
    node.replaceChildren(frag);
  }

  // --- keyboard -------------------------------------------------------------------------
  function items() { return [...document.querySelectorAll("#results .pane:not([hidden]) .item")]; }

  function select(index) {
    const all = items();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((node, i) => node.classList.toggle("selected", i === selected));
    all[selected].scrollIntoView({ block: "nearest" });
  }

  function openTop() {
    const all = items();
    const target = selected >= 0 ? all[selected]
      : all.find((n) => n.dataset.kind !== "department") || all[0];
    if (target) openItem(target.dataset.kind, target.dataset.id);
  }

  q.addEventListener("keydown", (e) => {
    if (e.isComposing || e.keyCode === 229) return; // the IME owns Enter and arrows now
    if (e.key === "ArrowDown") { e.preventDefault(); select(selected + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); select(selected - 1); }
    else if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(timer);
      if (lastQuery === q.value.trim() && items().length) openTop();
      else runSearch().then(openTop);
    } else if (e.key === "Escape") {
      e.preventDefault();
      q.value = "";
      clearResults();
    }
  });
  $("#search-form").addEventListener("submit", (e) => e.preventDefault());
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !dialog.open && document.activeElement !== q) {
      q.focus();
    }
  });

  // --- feedback -------------------------------------------------------------------------
  async function sendHelped(docId, button) {
    try {
      const saved = await api("api/v1/feedback", {
        method: "POST", body: { query: lastQuery || q.value.trim(), shown, helped_id: docId },
      });
      if (button) button.setAttribute("aria-pressed", "true");
      say(`「役に立った」を記録しました（No.${saved.id}）`);
    } catch (err) { say("記録できませんでした: " + err.message); }
  }

  $("#send-right-department").addEventListener("click", async () => {
    const name = $("#right-department").value;
    if (!name) { say("担当課を選んでください"); $("#right-department").focus(); return; }
    try {
      const saved = await api("api/v1/feedback", {
        method: "POST",
        body: { query: lastQuery || q.value.trim(), shown, right_department: name },
      });
      say(`正しい担当課「${name}」を記録しました（No.${saved.id}）`);
    } catch (err) { say("記録できませんでした: " + err.message); }
  });

  // --- detail views (#faq/F0001, #case/C0001, #manual/<id>, #department/<name>) ---------
  function openItem(kind, id) {
    const hash = `#${kind}/${encodeURIComponent(id)}`;
    if (location.hash === hash) showDetail(kind, id);
    else location.hash = hash;
  }

  function relatedList(title, list, kind, label) {
    return el("section", {}, el("h3", {}, title),
      list.length ? el("ul", {}, ...list.map((x) => el("li", {},
        el("a", { href: `#${kind}/${encodeURIComponent(x.id)}` }, label(x)))))
        : el("p", { class: "empty" }, "なし"));
  }

  function relatedBlock(related) {
    return el("div", {}, el("h3", {}, "関連する項目"), el("div", { class: "related" },
      relatedList("FAQ", related.faqs, "faq", (x) => x.question),
      relatedList("過去の事例", related.cases, "case", (x) => `${x.date} ${x.summary.slice(0, 60)}…`),
      relatedList("マニュアル", related.manuals, "manual", (x) => x.heading)));
  }

  async function showDetail(kind, id) {
    const body = $("#detail-body");
    const title = $("#detail-title");
    body.replaceChildren(el("p", {}, "読み込み中…"));
    title.textContent = "";
    if (!dialog.open) dialog.showModal();
    try {
      if (kind === "department") {
        const d = directory.find((x) => x.name === id);
        title.textContent = id;
        body.replaceChildren(
          el("p", { class: "phone" }, "☎ " + (d ? d.phone : "—")),
          el("p", {}, d ? `${d.location}　${d.hours}` : ""),
          el("h3", {}, "所掌事務"), el("p", { class: "pre" }, d ? d.duties : ""),
          el("button", { type: "button", onclick: () => sendHelped("department:" + id) },
            "この担当課で合っていた"));
      } else if (kind === "faq") {
        const f = await api(`api/v1/faq/${encodeURIComponent(id)}`);
        title.textContent = `FAQ ${f.id}`;
        body.replaceChildren(
          el("h3", {}, "質問"), el("p", { class: "pre" }, f.question),
          el("h3", {}, "回答"), withLinks("p", { class: "pre" }, f.answer),
          el("p", { class: "meta" }, `担当: ${f.departments.join("・")}　分類: ${f.category}　`
            + (f.published ? "公開" : "非公開（職員のみ）")
            + (f.expired ? `　期限切れ（公開期限 ${f.expires}）` : "")),
          helpedButton("faq:" + f.id), relatedBlock(f.related));
      } else if (kind === "case") {
        const c = await api(`api/v1/cases/${encodeURIComponent(id)}`);
        title.textContent = `事例 ${c.id}（${c.date}・${c.channel}）`;
        body.replaceChildren(
          el("h3", {}, "相談内容"), el("p", { class: "pre" }, c.summary),
          el("h3", {}, "対応と結果"), el("p", { class: "pre" }, c.resolution),
          el("p", { class: "meta" }, `担当: ${c.departments.join("・")}　分類: ${c.category}`),
          helpedButton("case:" + c.id), relatedBlock(c.related));
      } else if (kind === "manual") {
        const m = await api(`api/v1/manuals/${encodeURIComponent(id)}`);
        title.textContent = m.title;
        body.replaceChildren(
          el("h3", {}, m.heading), manualText(m.text),
          helpedButton("manual:" + m.id), relatedBlock(m.related));
      }
    } catch (err) {
      body.replaceChildren(el("p", {}, "表示できませんでした: " + err.message));
    }
  }

  function fromHash() {
    const m = /^#(faq|case|manual|department)\/(.+)$/.exec(location.hash);
    if (m) showDetail(m[1], decodeURIComponent(m[2]));
    else if (dialog.open) dialog.close();
  }
  window.addEventListener("hashchange", fromHash);
  $("#detail-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    q.focus();
  });

  // --- start ----------------------------------------------------------------------------
  async function loadDirectory() {
    try {
      directory = (await api("api/v1/departments")).departments;
    } catch (err) { setStatus("担当課一覧を読み込めませんでした"); return; }
    for (const sel of [$("#department-filter"), $("#right-department")]) {
      for (const d of directory) sel.append(el("option", { value: d.name }, d.name));
    }
  }
  updatePaneVisibility();
  $("#new-consultation").addEventListener("click", newConsultation);
  $("#phone-mode").addEventListener("click", () => {
    setPhoneMode($("#phone-mode").getAttribute("aria-pressed") !== "true");
  });
  $("#phone-notes").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const latest = latestSentences($("#phone-notes").value);
      if (latest && latest !== q.value.trim()) { q.value = latest; runSearch(); }
    }, DEBOUNCE_MS * 2);
  });
  // After login the dialog gives focus back to nothing: typing must land in the search box.
  window.kbAuth.ready.then(() => { q.focus(); return loadDirectory(); }).then(fromHash);
  window.kbConsole = {
    api, runSearch, say, el, newConsultation, latestSentences,
    history: () => [...searches],
    query: () => lastQuery || q.value.trim(),
    notes: () => $("#phone-notes").value,
    phoneMode: () => $("#phone-mode").getAttribute("aria-pressed") === "true",
    directory: () => directory,
  };
})();
