/* Trainer page: dashboard fragment (server-rendered, inline SVG), manual drafts, FAQ candidates. */
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const statusEl = $("#status");
  const select = $("#department");
  const dashboard = $("#dashboard");
  const list = $("#candidates");

  // Every call goes through kbAuth.api (/static/auth.js): it sends the key from sessionStorage.
  const api = (path, options) => window.kbAuth.api(path, options);

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

  function say(text) { statusEl.textContent = text; }

  async function loadDashboard() {
    const dept = select.value;
    dashboard.setAttribute("aria-busy", "true");
    say("集計中…");
    try {
      const data = await api("api/v1/trainer/dashboard?department=" + encodeURIComponent(dept));
      if (select.options.length <= 1) {
        for (const name of data.departments) select.append(el("option", { value: name }, name));
        select.value = dept;
      }
      // Server-rendered fragment: every text in it is escaped on the server.
      dashboard.innerHTML = data.html;
      say("");
    } catch (err) {
      dashboard.textContent = "読み込めませんでした：" + err.message;
      say("");
    } finally {
      dashboard.setAttribute("aria-busy", "false");
      $("#manual-md").disabled = $("#manual-docx").disabled = !select.value;
    }
  }

  function candidateItem(c) {
    const question = el("input", { value: c.question, "aria-label": "質問" });
    const answer = el("textarea", { "aria-label": "回答" });
    answer.value = c.answer;
    const draft = c.status === "draft";
    question.disabled = answer.disabled = !draft;
    const item = el("li", { class: c.status, "data-id": c.id },
      el("div", {},
        el("span", { class: "state" }, draft ? "下書き" : "公開済み"), " ",
        el("strong", {}, c.id), `　トピック ${c.topic_id}　${c.department}`),
      el("label", {}, "質問", question),
      el("label", {}, "回答", answer),
      el("div", {}, "元にした事例：", c.source_cases.map((s) => s.replace("case:", "")).join("、")));
    if (draft) {
      item.append(el("div", {},
        el("button", { type: "button", class: "save", onclick: () => save(c.id, question, answer) }, "保存"), " ",
        el("button", { type: "button", class: "approve primary",
          onclick: () => approve(c.id, question, answer) }, "承認して公開")));
    }
    return item;
  }

  async function loadCandidates() {
    const data = await api("api/v1/trainer/candidates");
    list.replaceChildren(...data.candidates.map(candidateItem));
    if (!data.candidates.length) list.append(el("li", {}, "FAQ候補はまだありません。「FAQ候補を作る」から作成できます。"));
  }

  async function save(id, question, answer) {
    await api(`api/v1/trainer/candidates/${encodeURIComponent(id)}`, {
      method: "PATCH", body: { question: question.value, answer: answer.value } });
    say(`${id} を保存しました`);
  }

  async function approve(id, question, answer) {
    try {
      await save(id, question, answer);
      say(`${id} を公開しています…`);
      const res = await api(`api/v1/trainer/candidates/${encodeURIComponent(id)}/approve`, { method: "POST" });
      say(`${id} を公開しました（${res.seconds.toFixed(1)} 秒）`);
      await loadCandidates();
    } catch (err) { say("公開できませんでした：" + err.message); }
  }

  dashboard.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button.draft");
    if (!button) return;
    button.disabled = true;
    try {
      const c = await api("api/v1/trainer/candidates", { method: "POST", body: { topic_id: button.dataset.topic } });
      say(`FAQ候補 ${c.id} を作成しました`);
      await loadCandidates();
      list.querySelector(`[data-id="${c.id}"] input`)?.focus();
    } catch (err) {
      say("作成できませんでした：" + err.message);
      button.disabled = false;
    }
  });

  async function downloadManual(format) {
    const dept = select.value;
    if (!dept) return;
    // A file download needs the key too: fetch it through the same Authorization header.
    const key = sessionStorage.getItem("kb.apiKey");
    const res = await fetch(`api/v1/trainer/manual?department=${encodeURIComponent(dept)}&format=${format}`, {
      headers: key ? { Authorization: "Bearer " + key } : {}, credentials: "omit", referrerPolicy: "no-referrer" });
    if (!res.ok) { say("マニュアルを作成できませんでした"); return; }
    const url = URL.createObjectURL(await res.blob());
    const a = el("a", { href: url, download: `${dept}-マニュアル下書き.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  select.addEventListener("change", loadDashboard);
  $("#manual-md").addEventListener("click", () => downloadManual("md"));
  $("#manual-docx").addEventListener("click", () => downloadManual("docx"));
  window.kbAuth.ready.then(() => Promise.all([loadDashboard(), loadCandidates()]));
})();
