/* Consultation records (相談記録) and hand-off sheets (引継ぎ票) in the staff console.
 *
 * Uses window.kbConsole (console.js: the consultation's searches, the directory, the toast)
 * and window.kbAuth (auth.js: the key). The server masks every text it stores; a citizen's
 * name and phone typed for a hand-off sheet are sent for that one printout only (in the
 * request body, never in a URL) and are cleared from the form afterwards.
 */
"use strict";
(function () {
  const kb = window.kbConsole;
  const { el, say } = kb;
  const $ = (sel) => document.querySelector(sel);
  const CHANNELS = ["窓口", "電話", "メール", "LINE", "オンライン"];
  const URGENCIES = ["通常", "至急", "緊急"];
  let record = null; // the record of this consultation, as the server returned it

  // --- the dialogs (a fixed skeleton; every value goes in through textContent or .value) --
  const recordDialog = el("dialog", { id: "record-dialog", class: "desk-dialog",
    "aria-labelledby": "record-title" });
  recordDialog.innerHTML = `
    <div class="detail-head"><h2 id="record-title">相談記録</h2>
      <button type="button" class="dialog-close" aria-label="閉じる">×</button></div>
    <form id="record-form" class="desk-form" autocomplete="off">
      <p id="record-state" class="record-state" role="status"></p>
      <label>相談内容（相談者の言葉）<textarea id="record-words" rows="3"></textarea></label>
      <div class="row">
        <label>相談経路 <select id="record-channel"></select></label>
        <label>相談日 <input type="date" id="record-date"></label>
        <label>分類 <input id="record-category" maxlength="200"></label>
      </div>
      <label>関係する担当課（複数選択可）<select id="record-departments" multiple size="5"></select></label>
      <label>メモ（聞き取った内容）<textarea id="record-notes" rows="4"></textarea></label>
      <label>対応内容（したこと・案内したこと）<textarea id="record-actions" rows="3"></textarea></label>
      <details><summary id="record-queries-label">この相談の検索</summary><ol id="record-queries"></ol></details>
      <p class="hint">保存すると、氏名・電話番号・住所などは [氏名] [電話番号] などに置き換えて記録されます。</p>
      <div class="buttons">
        <button type="submit" id="record-save">保存（対応中）</button>
        <button type="button" id="record-close">完了にする</button>
        <button type="button" id="handoff-open">引継ぎ票…</button>
      </div>
    </form>
    <form id="handoff-form" class="desk-form" autocomplete="off" hidden>
      <h3>引継ぎ票</h3>
      <div class="row">
        <label>引継先の担当課 <select id="handoff-department"><option value="">（外部機関）</option></select></label>
        <label>緊急度 <select id="handoff-urgency"></select></label>
      </div>
      <label>外部機関（名称・連絡先）<input id="handoff-outside" maxlength="200"></label>
      <label>相談者が持参するもの <input id="handoff-bring" maxlength="1000"></label>
      <label class="check"><input type="checkbox" id="handoff-contact">
        相談者の氏名・電話番号を票に記載する（引継先からの連絡用。記録やログには残りません）</label>
      <div id="handoff-contact-fields" class="row" hidden>
        <label>氏名 <input id="handoff-name" maxlength="100" autocomplete="off"></label>
        <label>電話番号 <input id="handoff-phone" maxlength="100" autocomplete="off" inputmode="tel"></label>
      </div>
      <div class="buttons">
        <button type="submit" id="handoff-print">印刷用に表示</button>
        <button type="button" id="handoff-docx">Word で保存</button>
      </div>
    </form>`;
  const listDialog = el("dialog", { id: "records-dialog", class: "desk-dialog",
    "aria-labelledby": "records-title" });
  listDialog.innerHTML = `
    <div class="detail-head"><h2 id="records-title">相談記録の一覧</h2>
      <button type="button" class="dialog-close" aria-label="閉じる">×</button></div>
    <form id="records-filter" class="desk-form row">
      <label>状態 <select id="records-status"><option value="">すべて</option>
        <option>対応中</option><option>完了</option></select></label>
      <label>担当課 <select id="records-department"><option value="">すべて</option></select></label>
      <label>相談日 <input type="date" id="records-from" aria-label="相談日（開始）"></label>
      <label>～ <input type="date" id="records-to" aria-label="相談日（終了）"></label>
      <button type="submit">表示</button>
      <button type="button" id="records-csv">CSV</button>
      <button type="button" id="records-xlsx">Excel</button>
    </form>
    <table class="records"><thead><tr><th>番号</th><th>相談日</th><th>状態</th><th>経路</th>
      <th>相談内容</th><th>担当課</th></tr></thead><tbody id="records-rows"></tbody></table>`;
  document.body.append(recordDialog, listDialog);
  for (const d of [recordDialog, listDialog]) {
    d.querySelector(".dialog-close").addEventListener("click", () => d.close());
    d.addEventListener("close", () => $("#q").focus());
  }
  for (const c of CHANNELS) $("#record-channel").append(el("option", { value: c }, c));
  for (const u of URGENCIES) $("#handoff-urgency").append(el("option", { value: u }, u));

  let filled = false;
  function fillDepartments() {
    const names = kb.directory().map((d) => d.name);
    if (filled || !names.length) return;
    filled = true;
    for (const sel of ["#record-departments", "#handoff-department", "#records-department"]) {
      for (const name of names) $(sel).append(el("option", { value: name }, name));
    }
  }

  // --- the record form ------------------------------------------------------------------
  function today() {
    const d = new Date();
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }

  function showQueries(queries) {
    $("#record-queries").replaceChildren(...queries.map((x) => el("li", {}, x)));
    $("#record-queries-label").textContent = `この相談の検索（${queries.length}件）`;
  }

  // The case a closed record became, as the cases pane shows it: "desk-R000001".
  function caseOf(r) {
    return (r.case_id || "").replace(/^case:/, "") || r.id;
  }

  function showRecord() {
    const r = record;
    const closed = r && r.status === "完了";
    $("#record-title").textContent = r ? `相談記録 ${r.id}` : "相談記録（新規）";
    $("#record-state").textContent = !r ? "未保存" : closed
      ? `完了（${r.closed_at.slice(0, 16).replace("T", " ")} UTC）：事例 ${caseOf(r)} として検索できます`
      : `対応中（最終保存 ${r.updated_at.slice(0, 16).replace("T", " ")} UTC）`;
    recordDialog.dataset.status = r ? r.status : "";
    for (const field of recordDialog.querySelectorAll("#record-form textarea, #record-form input, #record-form select")) {
      field.disabled = Boolean(closed);
    }
    $("#record-save").disabled = Boolean(closed);
    $("#record-close").disabled = Boolean(closed);
  }

  function loadForm(r) {
    record = r;
    $("#record-words").value = r.citizen_words;
    $("#record-notes").value = r.notes;
    $("#record-actions").value = r.actions;
    $("#record-channel").value = r.channel || "窓口";
    $("#record-date").value = r.date;
    $("#record-category").value = r.category;
    for (const o of $("#record-departments").options) o.selected = r.departments.includes(o.value);
    showQueries(r.queries);
    showRecord();
  }

  function startForm() {
    // A new record starts from the consultation on screen.
    record = null;
    $("#record-words").value = kb.query();
    $("#record-notes").value = kb.notes();
    $("#record-actions").value = "";
    $("#record-channel").value = kb.phoneMode() ? "電話" : "窓口";
    $("#record-date").value = today();
    $("#record-category").value = "";
    for (const o of $("#record-departments").options) o.selected = false;
    showQueries(kb.history());
    showRecord();
  }

  function formBody() {
    return {
      citizen_words: $("#record-words").value,
      notes: $("#record-notes").value,
      actions: $("#record-actions").value,
      channel: $("#record-channel").value,
      date: $("#record-date").value,
      category: $("#record-category").value,
      departments: [...$("#record-departments").selectedOptions].map((o) => o.value),
      // What this consultation searched so far (more may have come since the last save).
      queries: [...new Set([...(record ? record.queries : []), ...kb.history()])].slice(-100),
    };
  }

  async function save() {
    const body = formBody();
    const saved = record
      ? await kb.api(`api/v1/records/${encodeURIComponent(record.id)}`, { method: "PATCH", body })
      : await kb.api("api/v1/records", { method: "POST", body });
    loadForm(saved);
    return saved;
  }

  function failed(err) {
    $("#record-state").textContent = "保存できませんでした: " + err.message;
    say("保存できませんでした: " + err.message);
  }

  $("#record-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    try { const r = await save(); say(`相談記録 ${r.id} を保存しました（対応中）`); }
    catch (err) { failed(err); }
  });

  $("#record-close").addEventListener("click", async () => {
    $("#record-state").textContent = "完了にしています…（事例として登録し、検索に反映します）";
    try {
      const r = record || await save();
      const done = await kb.api(`api/v1/records/${encodeURIComponent(r.id)}/close`,
        { method: "POST", body: formBody() });
      loadForm(done.record);
      say(`完了しました。事例 ${caseOf(done.record)} として検索できます（${done.seconds.toFixed(1)} 秒）`);
    } catch (err) { failed(err); }
  });

  $("#record-open").addEventListener("click", () => {
    fillDepartments();
    if (!record) startForm();
    else showQueries([...new Set([...record.queries, ...kb.history()])]);
    $("#handoff-form").hidden = true;
    recordDialog.showModal();
    $("#record-words").focus();
  });

  document.addEventListener("kb:new-consultation", () => { record = null; clearContact(); });

  // --- hand-off sheets ------------------------------------------------------------------
  $("#handoff-open").addEventListener("click", () => {
    const form = $("#handoff-form");
    form.hidden = !form.hidden;
    const chosen = [...$("#record-departments").selectedOptions].map((o) => o.value);
    if (!form.hidden && chosen.length && !$("#handoff-department").value) {
      $("#handoff-department").value = chosen[0];
    }
    if (!form.hidden) $("#handoff-department").focus();
  });
  $("#handoff-contact").addEventListener("change", (e) => {
    $("#handoff-contact-fields").hidden = !e.target.checked;
    if (!e.target.checked) { $("#handoff-name").value = ""; $("#handoff-phone").value = ""; }
  });

  function clearContact() {
    $("#handoff-contact").checked = false;
    $("#handoff-contact-fields").hidden = true;
    $("#handoff-name").value = "";
    $("#handoff-phone").value = "";
  }

  async function sheet(format) {
    const body = {
      to_department: $("#handoff-department").value,
      to_outside: $("#handoff-outside").value,
      urgency: $("#handoff-urgency").value,
      bring: $("#handoff-bring").value,
    };
    // From the record if there is one (linked to it), else from the consultation on screen.
    const handoff = record
      ? await kb.api(`api/v1/records/${encodeURIComponent(record.id)}/handoffs`,
        { method: "POST", body })
      : await kb.api("api/v1/handoffs", { method: "POST", body: { ...body,
        summary: $("#record-words").value, heard: $("#record-notes").value,
        done: $("#record-actions").value } });
    const contact = $("#handoff-contact").checked
      ? { citizen_name: $("#handoff-name").value, citizen_phone: $("#handoff-phone").value } : {};
    const file = await window.kbAuth.file(
      `api/v1/handoffs/${encodeURIComponent(handoff.id)}/sheet`,
      { method: "POST", body: { format, ...contact } });
    clearContact(); // typed for this printout only
    if (record) record.handoffs = [...(record.handoffs || []), handoff.id];
    return { handoff, file };
  }

  $("#handoff-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    // Opened now, while the click still counts as the user's: a window opened after the
    // request would be blocked as a pop-up.
    const win = window.open("", "_blank");
    if (win) win.document.title = "引継ぎ票を作成中…";
    try {
      const { handoff, file } = await sheet("html");
      const url = URL.createObjectURL(file.blob);
      if (win) win.location.href = url;
      else download(url, `handoff-${handoff.id}.html`);
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say(`引継ぎ票 ${handoff.id} を作成しました（印刷: Ctrl+P）`);
    } catch (err) {
      if (win) win.close();
      say("引継ぎ票を作成できませんでした: " + err.message);
    }
  });

  $("#handoff-docx").addEventListener("click", async () => {
    try {
      const { handoff, file } = await sheet("docx");
      const url = URL.createObjectURL(file.blob);
      download(url, file.filename || `handoff-${handoff.id}.docx`);
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      say(`引継ぎ票 ${handoff.id} を Word で保存しました`);
    } catch (err) { say("引継ぎ票を作成できませんでした: " + err.message); }
  });

  function download(url, name) {
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
  }

  // --- the records list -----------------------------------------------------------------
  function listParams() {
    const p = new URLSearchParams();
    if ($("#records-status").value) p.set("status", $("#records-status").value);
    if ($("#records-department").value) p.set("department", $("#records-department").value);
    if ($("#records-from").value) p.set("date_from", $("#records-from").value);
    if ($("#records-to").value) p.set("date_to", $("#records-to").value);
    return p;
  }

  async function showList() {
    const rows = $("#records-rows");
    try {
      const data = await kb.api("api/v1/records?" + listParams());
      rows.replaceChildren(...(data.records.length ? data.records.map((r) => el("tr", {
        tabindex: "0", "data-id": r.id, class: "record-row",
        onclick: () => openRecord(r.id),
        onkeydown: (e) => { if (e.key === "Enter") openRecord(r.id); },
      }, el("td", {}, r.id), el("td", {}, r.date), el("td", { "data-status": r.status }, r.status),
      el("td", {}, r.channel), el("td", {}, r.citizen_words), el("td", {}, r.departments.join("・"))))
        : [el("tr", {}, el("td", { colspan: "6", class: "empty" }, "該当する記録はありません"))]));
    } catch (err) {
      rows.replaceChildren(el("tr", {}, el("td", { colspan: "6" }, "表示できませんでした: " + err.message)));
    }
  }

  async function openRecord(id) {
    try {
      loadForm(await kb.api(`api/v1/records/${encodeURIComponent(id)}`));
      listDialog.close();
      $("#handoff-form").hidden = true;
      recordDialog.showModal();
    } catch (err) { say("記録を開けませんでした: " + err.message); }
  }

  $("#records-list").addEventListener("click", () => {
    fillDepartments();
    listDialog.showModal();
    showList();
  });
  $("#records-filter").addEventListener("submit", (e) => { e.preventDefault(); showList(); });
  for (const format of ["csv", "xlsx"]) {
    $(`#records-${format}`).addEventListener("click", async () => {
      const p = listParams();
      p.set("format", format);
      try {
        const file = await window.kbAuth.file("api/v1/records/export?" + p);
        const url = URL.createObjectURL(file.blob);
        download(url, file.filename || `records.${format}`);
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (err) { say("書き出せませんでした: " + err.message); }
    });
  }
  window.kbRecords = { current: () => record };
})();
