/* Life-event checklist panel (ライフイベント) of the staff console.
 *
 * After each search (the "kb:search" event of console.js) it asks api/v1/lifeevents whether the
 * query speaks of a life event (「父が亡くなった」→ 死亡). If so it offers the event's
 * checklist: the conditions the query revealed are pre-ticked, the counsellor ticks the rest,
 * and the procedures are listed by department, soonest deadline first. 「相談者用に印刷」
 * prints the list alone (A4), in やさしい日本語 where the city wrote it.
 * URLs are relative (the console may sit under a sub-path behind a proxy).
 */
"use strict";
(function () {
  const $ = (sel) => document.querySelector(sel);
  const panel = $("#checklist");
  if (!panel) return;
  let query = "";
  let events = [];
  let conditions = null; // null: not ticked by hand yet (use what the query revealed)
  let seq = 0;

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined && c !== "") node.append(c);
    return node;
  }

  function hide() {
    panel.hidden = true;
    panel.replaceChildren();
    document.body.classList.remove("print-checklist");
  }

  async function load() {
    const my = ++seq;
    const params = new URLSearchParams({ q: query });
    for (const e of events) params.append("event", e);
    if (conditions !== null) {
      params.set("ticked", "true");
      for (const c of conditions) params.append("condition", c);
    }
    let data;
    try {
      data = await window.kbAuth.api("api/v1/lifeevents?" + params);
    } catch (err) {
      if (my === seq) hide();
      return;
    }
    if (my !== seq) return;
    if (!data.events.length) { hide(); return; }
    render(data);
  }

  function render(data) {
    const ticked = new Set(data.conditions);
    const title = el("h2", { id: "h-checklist" }, "ライフイベントの手続き：", data.events.join("・"));
    const chooser = el("select", { id: "checklist-event", "aria-label": "ライフイベントを選ぶ" },
      ...data.all_events.map((e) => el("option", { value: e, selected: e === data.events[0] }, e)));
    chooser.addEventListener("change", () => { events = [chooser.value]; conditions = null; load(); });
    const boxes = el("fieldset", { class: "checklist-conditions" },
      el("legend", {}, "当てはまる条件（チェックすると該当する手続きを表示）"),
      ...data.available_conditions.map((c) => el("label", {},
        el("input", {
          type: "checkbox", name: "checklist-condition", value: c, checked: ticked.has(c),
          onchange: () => {
            conditions = [...panel.querySelectorAll('input[name="checklist-condition"]:checked')]
              .map((i) => i.value);
            load();
          },
        }), " ", c)));
    const easy = el("label", { class: "checklist-easy" },
      el("input", {
        type: "checkbox", id: "checklist-easy",
        onchange: (e) => panel.classList.toggle("easy", e.currentTarget.checked),
      }), " やさしい日本語で表示");
    const print = el("button", {
      type: "button", id: "checklist-print",
      onclick: () => {
        document.body.classList.add("print-checklist");
        window.print();
        document.body.classList.remove("print-checklist");
      },
    }, "相談者用に印刷");
    const close = el("button", { type: "button", onclick: hide, "aria-label": "チェックリストを閉じる" }, "閉じる");
    const groups = data.groups.map((g) => el("section", { class: "checklist-group" },
      el("h3", {}, g.department, el("span", { class: "checklist-contact" }, [g.location, g.phone].filter(Boolean).join("　"))),
      el("ol", {}, ...g.procedures.map((p) => el("li", { class: "checklist-item", "data-procedure": p.id },
        el("span", { class: "box", "aria-hidden": "true" }, "□"),
        el("span", { class: "checklist-name" }, p.name),
        p.deadline ? el("span", { class: "deadline" }, "期限：", p.deadline) : null,
        p.easy ? el("p", { class: "easy-text" }, p.easy) : null,
        p.documents.length ? el("p", { class: "documents" }, "持ち物：", p.documents.join("、")) : null,
        el("p", { class: "meta" }, [p.where && "窓口：" + p.where, p.fee && "手数料：" + p.fee].filter(Boolean).join("　")),
      )))));
    const note = data.hidden
      ? el("p", { class: "checklist-hidden" }, `条件に当てはまらない手続き ${data.hidden} 件は表示していません。`)
      : null;
    panel.replaceChildren(
      el("div", { class: "checklist-head" }, title, chooser, easy, print, close),
      boxes, note, ...groups,
      el("p", { class: "checklist-foot" }, "手続きの内容は変わることがあります。詳しくは各担当課にお問い合わせください。"));
    panel.hidden = false;
  }

  document.addEventListener("kb:search", (e) => {
    const text = (e.detail && e.detail.query) || "";
    if (text === query) return;
    query = text;
    events = [];
    conditions = null;
    if (!query) { hide(); return; }
    load();
  });
  document.addEventListener("kb:clear", () => { query = ""; seq++; hide(); });
})();
