/* Trainer page: dashboard fragment (server-rendered, inline SVG), manual drafts, FAQ candidates
   (edit, preview through widget.js, approve after a confirmation, reject) and registered FAQ
   entries (edit as a revision, withdraw, republish). Every URL is relative (reverse proxies). */
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

  // --- FAQ candidates: edit, preview, approve (with confirmation), reject ----------------

  const FIELDS = [
    ["question", "質問", "input"], ["answer", "回答", "textarea"], ["department", "担当課", "input"],
    ["category", "分類", "input"], ["url", "URL", "input"], ["owner", "所管課", "input"],
    ["updated", "更新日", "date"], ["expires", "公開期限", "date"],
  ];
  const STATE = { draft: "下書き", approved: "承認済み", rejected: "却下" };
  let approvers = 1;
  const previewSection = $("#preview-section");

  function fieldInputs(c, editable) {
    const inputs = {};
    const labels = FIELDS.map(([name, label, kind]) => {
      const input = kind === "textarea" ? el("textarea", { name, "aria-label": label })
        : el("input", { name, type: kind === "date" ? "date" : "text", "aria-label": label });
      input.value = c[name] || "";
      input.disabled = !editable;
      inputs[name] = input;
      return el("label", { class: "field-" + name }, label, input);
    });
    return { inputs, labels };
  }

  function valuesOf(inputs) {
    const out = {};
    for (const [name, input] of Object.entries(inputs)) out[name] = input.value;
    return out;
  }

  function candidateItem(c) {
    const draft = c.status === "draft";
    const { inputs, labels } = fieldInputs(c, draft);
    const what = c.target ? `FAQ ${c.target} の改訂` : `トピック ${c.topic_id}`;
    const approvals = c.approvals.length
      ? `承認：${c.approvals.map((a, i) => `承認${i + 1} ${a}`).join("、")}（必要 ${approvers}人）` : "";
    const item = el("li", { class: c.status, "data-id": c.id, "data-faq": c.faq_id },
      el("div", {},
        el("span", { class: "state" }, STATE[c.status] || c.status), " ",
        el("strong", {}, c.id), `　${what}　${c.department}`,
        c.edited_by ? el("span", { class: "note" }, `　作成・編集：${c.edited_by}`) : null),
      ...labels,
      c.source_cases.length
        ? el("div", {}, "元にした事例：", c.source_cases.map((s) => s.replace("case:", "")).join("、")) : null,
      approvals ? el("div", { class: "approvals" }, approvals) : null);
    if (c.status === "rejected") {
      item.append(el("div", { class: "reason" }, `却下の理由（${c.rejected_by}）：${c.reason}`));
    }
    if (draft) {
      const last = c.approvals.length + 1 >= approvers;
      item.append(el("div", { class: "actions" },
        el("button", { type: "button", class: "save", onclick: () => save(c.id, inputs) }, "保存"), " ",
        el("button", { type: "button", class: "preview", onclick: () => preview(c, inputs) }, "プレビュー"), " ",
        el("button", { type: "button", class: "approve primary", onclick: () => approve(c, inputs) },
          last ? "承認して公開" : `承認する（承認${c.approvals.length + 1}／${approvers}）`), " ",
        el("button", { type: "button", class: "reject", onclick: () => reject(c) }, "却下")));
    }
    return item;
  }

  async function loadCandidates() {
    const data = await api("api/v1/trainer/candidates");
    approvers = data.approvers || 1;
    $("#approvers-note").textContent = approvers > 1
      ? `公開には ${approvers} 人の承認が必要です。作成・最後に編集した人は公開の承認をできません。` : "";
    // Drafts first (what needs doing), newest first; then the decided ones.
    const order = [...data.candidates].sort((a, b) =>
      (a.status !== "draft") - (b.status !== "draft") || b.id.localeCompare(a.id));
    list.replaceChildren(...order.map(candidateItem));
    if (!data.candidates.length) list.append(el("li", {}, "FAQ候補はまだありません。「FAQ候補を作る」か、登録済みのFAQの「編集」から作成できます。"));
  }

  async function save(id, inputs) {
    try {
      await api(`api/v1/trainer/candidates/${encodeURIComponent(id)}`, { method: "PATCH", body: valuesOf(inputs) });
      say(`${id} を保存しました`);
      return true;
    } catch (err) { say("保存できませんでした：" + err.message); return false; }
  }

  async function preview(c, inputs) {
    try {
      const data = await api("api/v1/trainer/preview", { method: "POST", body: valuesOf(inputs) });
      const host = document.querySelector("#preview .kb-faq-widget");
      previewSection.hidden = false;
      host.kbRender(data);
      const expires = inputs.expires.value;
      $("#preview-note").textContent = `${c.id}（FAQ ${c.faq_id}）は公開するとこのように表示されます。`
        + (expires ? `公開期限 ${expires} を過ぎると表示されなくなります。` : "");
      previewSection.scrollIntoView({ block: "nearest" });
      return true;
    } catch (err) { say("プレビューできませんでした：" + err.message); return false; }
  }

  // The confirmation dialog: resolves with the reason typed (or "") when confirmed, null if not.
  const dialog = $("#confirm");
  function confirmDialog({ title, text, ok, reason = false, reasonRequired = false }) {
    $("#confirm-title").textContent = title;
    $("#confirm-text").textContent = text;
    $("#confirm-ok").textContent = ok;
    $("#confirm-reason-label").hidden = !reason;
    $("#confirm-reason").value = "";
    $("#confirm-error").textContent = "";
    return new Promise((resolve) => {
      const form = dialog.querySelector("form");
      const done = (value) => {
        form.removeEventListener("submit", submit);
        $("#confirm-cancel").removeEventListener("click", cancel);
        dialog.removeEventListener("cancel", cancel);
        dialog.close();
        resolve(value);
      };
      const submit = (ev) => {
        ev.preventDefault();
        const text = $("#confirm-reason").value.trim();
        if (reasonRequired && !text) { $("#confirm-error").textContent = "理由を入力してください"; return; }
        done(text);
      };
      const cancel = (ev) => { ev.preventDefault(); done(null); };
      form.addEventListener("submit", submit);
      $("#confirm-cancel").addEventListener("click", cancel);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
      (reason ? $("#confirm-reason") : $("#confirm-ok")).focus();
    });
  }

  async function approve(c, inputs) {
    if (!(await save(c.id, inputs)) || !(await preview(c, inputs))) return;
    const last = c.approvals.length + 1 >= approvers;
    const ok = await confirmDialog({
      title: last ? "FAQを公開します" : "FAQ候補を承認します",
      text: last
        ? `${c.id} を FAQ ${c.faq_id} として公開します。公開すると市民向けのウィジェットですぐに検索できるようになります。プレビューの内容でよろしいですか？`
        : `${c.id} を承認します（承認${c.approvals.length + 1}／${approvers}）。公開には別の方の承認が必要です。`,
      ok: last ? "公開する" : "承認する",
    });
    if (ok === null) { say("公開を取りやめました"); return; }
    try {
      say(`${c.id} を${last ? "公開" : "承認"}しています…`);
      const res = await api(`api/v1/trainer/candidates/${encodeURIComponent(c.id)}/approve`, { method: "POST" });
      say(res.published
        ? `${c.id} を FAQ ${res.candidate.faq_id} として公開しました（${res.seconds.toFixed(1)} 秒）`
        : `${c.id} を承認しました（承認${res.approvals}／${res.needed}）。公開には別の方の承認が必要です`);
      await Promise.all([loadCandidates(), loadFaqs()]);
    } catch (err) { say("公開できませんでした：" + err.message); }
  }

  async function reject(c) {
    const reason = await confirmDialog({
      title: "FAQ候補を却下します", text: `${c.id} を却下します。却下した候補は公開できません。理由を入力してください。`,
      ok: "却下する", reason: true, reasonRequired: true,
    });
    if (reason === null) return;
    try {
      await api(`api/v1/trainer/candidates/${encodeURIComponent(c.id)}/reject`, { method: "POST", body: { reason } });
      say(`${c.id} を却下しました`);
      await Promise.all([loadCandidates(), loadFaqs()]);
    } catch (err) { say("却下できませんでした：" + err.message); }
  }

  // --- registered FAQ entries: edit (a revision candidate), withdraw, republish ------------

  const faqList = $("#faqs");

  function faqState(f) {
    if (!f.published) return ["withdrawn", "非公開（公開停止）"];
    if (f.expired) return ["expired", "期限切れ"];
    return ["published", "公開中"];
  }

  function faqItem(f) {
    const [state, label] = faqState(f);
    const meta = [f.departments.join("・"), f.owner && `所管課 ${f.owner}`, f.updated && `更新日 ${f.updated}`,
      f.expires && `公開期限 ${f.expires}`].filter(Boolean).join("　");
    return el("li", { class: "faq " + state, "data-faq": f.id },
      el("div", {}, el("span", { class: "state" }, label), " ", el("strong", {}, f.id), "　", f.question),
      el("div", { class: "note" }, meta),
      el("div", { class: "actions" },
        el("button", { type: "button", class: "revise", onclick: () => revise(f) },
          f.revision ? `編集中の候補 ${f.revision} を開く` : "編集"), " ",
        f.published
          ? el("button", { type: "button", class: "withdraw", onclick: () => setPublished(f, false) }, "公開停止")
          : el("button", { type: "button", class: "republish", onclick: () => setPublished(f, true) }, "再公開")));
  }

  async function loadFaqs() {
    const params = new URLSearchParams({ q: $("#faq-q").value.trim(), state: $("#faq-state").value, limit: "200" });
    try {
      const data = await api("api/v1/trainer/faqs?" + params);
      faqList.replaceChildren(...data.faqs.map(faqItem));
      $("#faq-count").textContent = `${data.total} 件` + (data.total > data.faqs.length ? `（先頭 ${data.faqs.length} 件を表示）` : "");
    } catch (err) { faqList.replaceChildren(el("li", {}, "読み込めませんでした：" + err.message)); }
  }

  async function revise(f) {
    try {
      const c = await api(`api/v1/trainer/faqs/${encodeURIComponent(f.id)}/revise`, { method: "POST" });
      await Promise.all([loadCandidates(), loadFaqs()]);
      say(`FAQ ${f.id} を候補 ${c.id} で編集できます。保存・プレビューのあと「承認して公開」で反映されます`);
      const item = list.querySelector(`[data-id="${c.id}"]`);
      item?.scrollIntoView({ block: "start" });
      item?.querySelector("textarea")?.focus();
    } catch (err) { say("編集を始められませんでした：" + err.message); }
  }

  async function setPublished(f, published) {
    const reason = await confirmDialog(published
      ? { title: "FAQを再公開します", text: `FAQ ${f.id}「${f.question}」を市民向けのウィジェットに再び表示します。`, ok: "再公開する" }
      : { title: "FAQを公開停止します", text: `FAQ ${f.id}「${f.question}」を市民向けのウィジェットと候補表示から外します。職員の検索には残ります。`,
          ok: "公開停止する", reason: true });
    if (reason === null) return;
    const action = published ? "republish" : "withdraw";
    try {
      say(`FAQ ${f.id} を${published ? "再公開" : "公開停止"}しています…`);
      const res = await api(`api/v1/trainer/faqs/${encodeURIComponent(f.id)}/${action}`,
        { method: "POST", body: published ? undefined : { reason } });
      say(`FAQ ${f.id} を${published ? "再公開" : "公開停止"}しました（${res.seconds.toFixed(1)} 秒）`
        + (published && res.faq.expired ? "。公開期限を過ぎているため、ウィジェットには表示されません" : ""));
      await loadFaqs();
    } catch (err) { say((published ? "再公開" : "公開停止") + "できませんでした：" + err.message); }
  }

  $("#faq-filter").addEventListener("submit", (ev) => { ev.preventDefault(); loadFaqs(); });
  $("#faq-state").addEventListener("change", loadFaqs);

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

  // --- The search model: adapted to the city's FAQ and cases by itself, or the base model ---

  async function loadModel() {
    const box = $("#model");
    const pct = (v) => (v == null ? "—" : (v * 100).toFixed(1) + "%");
    try {
      const m = await api("api/v1/trainer/model");
      const lines = [];
      if (!m.enabled) lines.push("自動適応は無効です（KB_ADAPT=false）。基本モデルで検索しています。");
      else if (m.adapted) lines.push(`市のFAQ・相談事例に適応したモデルで検索しています（${m.adopted_at} から）。`);
      else lines.push("基本モデルで検索しています。");
      if (m.running) lines.push("いま裏で適応を行っています（検索はそのまま使えます）。");
      if (m.last_finished_at) {
        const kept = m.last_kept ? "採用" : "不採用（基本モデルより良くならなかったため）";
        lines.push(`最新の適応：${m.last_finished_at}、FAQ・事例 ${m.pairs} 件（学習 ${m.train_pairs}・検証 ${m.heldout_pairs}）、${kept}`);
        if (m.base && m.adapted_validation) {
          lines.push(`検証（学習に使わなかった質問が自分の回答を上位10件に含む率）：基本 ${pct(m.base.recall_at_10)} → 適応後 ${pct(m.adapted_validation.recall_at_10)}、` +
            `MRR@10 ${m.base.mrr_at_10.toFixed(3)} → ${m.adapted_validation.mrr_at_10.toFixed(3)}`);
        }
      }
      box.replaceChildren(...lines.map((t) => el("p", {}, t)));
    } catch (err) {
      box.textContent = "モデルの状態を読み込めませんでした：" + err.message;
    }
  }

  select.addEventListener("change", loadDashboard);
  $("#manual-md").addEventListener("click", () => downloadManual("md"));
  $("#manual-docx").addEventListener("click", () => downloadManual("docx"));
  window.kbAuth.ready.then(() => Promise.all([loadDashboard(), loadCandidates(), loadFaqs(), loadModel()]));
})();
