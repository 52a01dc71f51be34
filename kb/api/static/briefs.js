/* Day view of booked consultations (事前予約): upload the day's bookings, get one brief each.
 *
 * The file (CSV or xlsx from the booking system) goes to api/v1/briefs/file as base64 with the
 * staff key (static/auth.js); every value shown is set as text, never as HTML. URLs are
 * relative: the page may sit under a sub-path behind a proxy.
 */
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const day = $("#day");
  const status = $("#day-status");
  const errorsEl = $("#day-errors");

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== "") node.append(c);
    return node;
  }

  function list(title, items, cls) {
    if (!items.length) return null;
    return [el("h3", {}, title), el("ul", { class: cls || "" }, ...items.map((i) => el("li", {}, ...[].concat(i))))];
  }

  function timeOf(b) { return (b.booking.datetime.split(" ")[1] || b.booking.datetime); }

  function summary(briefs) {
    return el("table", { class: "day-summary" },
      el("caption", {}, `${briefs[0].booking.datetime.split(" ")[0]} の予約相談 ${briefs.length} 件`),
      el("thead", {}, el("tr", {}, ...["時刻", "方法", "相談内容", "主な担当課", "合同相談"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...briefs.map((b) => el("tr", {},
        el("td", {}, timeOf(b)), el("td", {}, b.booking.channel),
        el("td", {}, b.booking.topic),
        el("td", {}, b.departments.length ? b.departments[0].name : "—"),
        el("td", {}, b.joint ? b.invite.map((i) => i.department).join("・") : "")))));
  }

  function brief(b, n) {
    const parts = [
      el("h2", {}, `${n}. ${timeOf(b)}　${b.booking.channel || ""}`, b.booking.id ? el("span", { class: "muted" }, `　予約番号 ${b.booking.id}`) : null),
      el("p", { class: "topic" }, b.booking.topic),
    ];
    if (b.life_events.length) {
      parts.push(el("p", {}, "ライフイベント：", b.life_events.join("・"),
        b.conditions.length ? el("span", { class: "muted" }, `（${b.conditions.join("・")}）`) : null));
    }
    if (b.joint) {
      parts.push(el("p", { class: "joint" }, "合同・リモート相談に招く課：",
        b.invite.map((i) => `${i.department}（${i.phone}・${i.reason}）`).join("、")));
    }
    const push = (x) => { if (x) parts.push(...x); };
    push(list("担当課", b.departments.map((d) => `${d.name}　${d.phone}　${d.location}`)));
    push(list("持ってきてもらうもの", b.bring.map((i) => [i.item, el("span", { class: "muted" }, `　${i.procedure || i.department}`)]), "bring"));
    push(list("手続き（期限順）", b.procedures.map((p) => `${p.name}（${p.department}${p.deadline ? "・" + p.deadline : ""}）`)));
    push(list("FAQ", b.faqs.map((f) => [`[${f.id}] ${f.question}`, el("span", { class: "muted" }, `　${f.department}`)])));
    push(list("過去の類似事例と結果", b.cases.map((c) => [`[${c.id}] ${c.summary}`, el("br"), el("span", { class: "muted" }, `→ ${c.resolution}`)])));
    push(list("マニュアル", b.manuals.map((m) => `${m.title} ＞ ${m.heading}`)));
    if (!b.answered) parts.push(el("p", { class: "muted" }, "該当する情報が見つかりませんでした。総合窓口で内容を確認してください。"));
    return el("article", { class: "brief", "data-brief": String(n) }, ...parts);
  }

  function readBase64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
  }

  $("#bookings-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("#bookings-file").files[0];
    if (!file) return;
    status.textContent = "作成中…";
    errorsEl.hidden = true;
    errorsEl.replaceChildren();
    try {
      const content = await readBase64(file);
      const data = await window.kbAuth.api("api/v1/briefs/file", {
        method: "POST", body: { filename: file.name, content_base64: content },
      });
      const problems = data.errors.map((r) => `${r.source}${r.line ? ":" + r.line : ""} ${r.field} ${r.message}`);
      if (data.ignored_columns.length) problems.push(`読み込まなかった列：${data.ignored_columns.join("、")}`);
      if (problems.length) {
        errorsEl.replaceChildren(...problems.map((p) => el("li", {}, p)));
        errorsEl.hidden = false;
      }
      day.replaceChildren(...(data.briefs.length ? [summary(data.briefs), ...data.briefs.map((b, i) => brief(b, i + 1))] : []));
      $("#print-day").disabled = !data.briefs.length;
      status.textContent = `${data.briefs.length} 件の事前準備を作成しました（${Math.round(data.took_ms)} ms）`;
    } catch (err) {
      status.textContent = "エラー: " + err.message;
    }
  });
  $("#print-day").addEventListener("click", () => window.print());
  window.kbAuth.ready.then(() => $("#bookings-file").focus());
})();
