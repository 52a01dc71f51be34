/*
 * kb public FAQ widget. Put this on any page:
 *
 *   <script src="https://KB-HOST/public/widget.js" data-kb-endpoint="https://KB-HOST"></script>
 *
 * Behind a reverse proxy's sub-path, both carry it (https://www.city.example.jp/faq/public/...
 * and data-kb-endpoint="https://www.city.example.jp/faq"); without data-kb-endpoint the widget
 * calls the address its script came from.
 * Optional: data-kb-target="#css-selector" (where to render; default: right after the tag),
 * data-kb-title="..." (the heading). data-kb-preview: the trainer page's preview, which renders a
 * draft through host.kbRender(data) (the /public/v1/faq/search shape) and sends no feedback.
 * No framework needed; everything renders in a Shadow DOM so
 * the page's styles and the widget's cannot affect each other. The search box follows the ARIA
 * 1.2 combobox pattern (list autocomplete) and waits for the IME to finish converting.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  // Without data-kb-endpoint: where this script came from, sub-path included
  // (https://www.city.example.jp/faq/public/widget.js -> https://www.city.example.jp/faq).
  var endpoint = (script.getAttribute("data-kb-endpoint") ||
    new URL(script.src, document.baseURI).href.split(/[?#]/)[0].replace(/\/(public|static)\/widget\.js$/, ""))
    .replace(/\/+$/, "").replace(/\/public\/v1$/, "");
  var title = script.getAttribute("data-kb-title") || "よくある質問（FAQ）を検索";
  var targetSel = script.getAttribute("data-kb-target");
  var preview = script.hasAttribute("data-kb-preview");
  var DEBOUNCE_MS = 150;

  var CSS = [
    ":host{all:initial;display:block;box-sizing:border-box;max-width:100%;",
    "font-family:'Noto Sans JP','Hiragino Sans','Yu Gothic UI','Meiryo',sans-serif;",
    "font-size:1rem;line-height:1.6;color:#1b1f23;}",
    "*,*::before,*::after{box-sizing:border-box;}",
    // Explicit base values: whatever the host page sets on our host element stops here.
    ".kbw{border:1px solid #8c959f;border-radius:.5em;padding:1em;background:#fff;max-width:40em;",
    "color:#1b1f23;font-size:1rem;line-height:1.6;text-align:left;letter-spacing:normal;",
    "font-family:'Noto Sans JP','Hiragino Sans','Yu Gothic UI','Meiryo',sans-serif;",
    "font-weight:normal;font-style:normal;text-transform:none;word-break:normal;",
    "overflow-wrap:anywhere;}",
    "h2{font-size:1.15em;margin:0 0 .5em;}",
    "label{display:block;font-weight:600;margin-bottom:.25em;}",
    ".row{display:flex;gap:.5em;flex-wrap:wrap;}",
    ".box{position:relative;flex:1 1 12em;min-width:0;}",
    "input{width:100%;font:inherit;font-size:1.05em;padding:.5em .6em;border:2px solid #0b5cad;",
    "border-radius:.35em;background:#fff;color:#1b1f23;margin:0;}",
    "button{font:inherit;cursor:pointer;border-radius:.35em;}",
    ".go{padding:.5em 1em;border:2px solid #0b5cad;background:#0b5cad;color:#fff;}",
    "input:focus-visible,button:focus-visible,a:focus-visible,summary:focus-visible{",
    "outline:3px solid #f59e0b;outline-offset:2px;}",
    "[role=listbox]{list-style:none;margin:.25em 0 0;padding:.25em 0;border:1px solid #8c959f;",
    "border-radius:.35em;background:#fff;position:absolute;left:0;right:0;z-index:10;",
    "max-height:20em;overflow-y:auto;box-shadow:0 4px 12px rgba(0,0,0,.15);}",
    "[role=listbox][hidden]{display:none;}",
    "[role=option]{padding:.45em .7em;cursor:pointer;}",
    "[role=option][aria-selected=true]{background:#0b5cad;color:#fff;",
    "outline:2px solid #f59e0b;outline-offset:-2px;}",
    "[role=option]:hover{background:#e6f0fb;color:#1b1f23;}",
    ".answers{margin-top:.75em;}",
    "details{border-top:1px solid #d0d7de;padding:.5em 0;}",
    "summary{font-weight:700;cursor:pointer;}",
    ".answer{white-space:pre-wrap;margin:.5em 0;}",
    ".contact{background:#f6f8fa;border-radius:.35em;padding:.5em .7em;font-size:.95em;}",
    ".contact a{color:#0b5cad;}",
    ".fb{margin-top:.5em;display:flex;gap:.5em;align-items:center;flex-wrap:wrap;}",
    ".fb button{padding:.25em .9em;border:1px solid #57606a;background:#fff;color:#1b1f23;}",
    ".note{color:#57606a;font-size:.9em;}",
    ".noanswer{border-top:1px solid #d0d7de;padding-top:.5em;}",
    ".noanswer .lead{font-weight:700;margin:.25em 0;}",
    ".general{margin-top:.5em;}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;}",
  ].join("");

  var host = document.createElement("div");
  host.className = "kb-faq-widget";
  var target = targetSel ? document.querySelector(targetSel) : null;
  if (target) target.appendChild(host);
  else script.parentNode.insertBefore(host, script.nextSibling);
  var root = host.attachShadow({ mode: "open" });

  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") node.textContent = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) node.appendChild(arguments[i]);
    return node;
  }

  var style = h("style", { text: CSS });
  var input = h("input", {
    id: "kbw-input", type: "text", role: "combobox", "aria-autocomplete": "list",
    "aria-expanded": "false", "aria-controls": "kbw-listbox", autocomplete: "off",
    "aria-describedby": "kbw-help", placeholder: "例：粗大ごみの出し方", enterkeyhint: "search",
  });
  var listbox = h("ul", { id: "kbw-listbox", role: "listbox", "aria-label": "質問の候補", hidden: "" });
  var goButton = h("button", { type: "button", class: "go", text: "検索" });
  var live = h("div", { class: "sr", role: "status", "aria-live": "polite" });
  var answers = h("div", { class: "answers", "aria-live": "polite" });
  var panel = h("section", { class: "kbw", "aria-labelledby": "kbw-title" },
    h("h2", { id: "kbw-title", text: title }),
    h("label", { for: "kbw-input", text: "質問を入力してください" }),
    h("div", { class: "row" }, h("div", { class: "box" }, input, listbox), goButton),
    h("p", { id: "kbw-help", class: "note",
      text: "候補は↑↓キーで選び、Enterで回答を表示します。Escで候補を閉じます。" }),
    live, answers);
  root.appendChild(style);
  root.appendChild(panel);

  var composing = false, timer = 0, seq = 0, options = [], active = -1, lastQuery = "";

  function getJSON(path) {
    return fetch(endpoint + path, { headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 429) throw new Error("アクセスが集中しています。しばらくしてからお試しください。");
      if (!r.ok) throw new Error("検索できませんでした。");
      return r.json();
    });
  }

  function setExpanded(open) {
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) listbox.removeAttribute("hidden"); else listbox.setAttribute("hidden", "");
    if (!open) setActive(-1);
  }

  function setActive(index) {
    active = index;
    for (var i = 0; i < options.length; i++) {
      options[i].el.setAttribute("aria-selected", i === index ? "true" : "false");
    }
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].el.id);
      options[index].el.scrollIntoView({ block: "nearest" });
    } else input.removeAttribute("aria-activedescendant");
  }

  function suggest() {
    var text = input.value.trim();
    var my = ++seq;
    if (!text) { options = []; listbox.textContent = ""; setExpanded(false); return; }
    getJSON("/public/v1/faq/suggest?q=" + encodeURIComponent(text)).then(function (data) {
      if (my !== seq) return;
      listbox.textContent = "";
      options = data.suggestions.map(function (s, i) {
        var li = h("li", { id: "kbw-opt-" + i, role: "option", "aria-selected": "false",
          text: s.question });
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        listbox.appendChild(li);
        return { el: li, id: s.id, question: s.question };
      });
      setExpanded(options.length > 0 && root.activeElement === input);
      live.textContent = options.length ? "候補が" + options.length + "件あります" : "候補はありません";
    }).catch(function (err) { if (my === seq) live.textContent = err.message; });
  }

  function schedule() { clearTimeout(timer); timer = setTimeout(suggest, DEBOUNCE_MS); }

  function choose(index) {
    var opt = options[index];
    if (!opt) return;
    input.value = opt.question;
    setExpanded(false);
    search(opt.question, opt.id);
  }

  function contact(dept) {
    if (!dept) return null;
    var box = h("div", { class: "contact" },
      h("div", null, document.createTextNode("お問い合わせ先："), h("strong", { text: dept.name })));
    if (dept.phone) {
      box.appendChild(h("div", null, document.createTextNode("電話："),
        h("a", { href: "tel:" + dept.phone.replace(/[^0-9+]/g, ""), text: dept.phone })));
    }
    if (dept.location) box.appendChild(h("div", { text: "窓口：" + dept.location }));
    if (dept.hours) box.appendChild(h("div", { text: "受付時間：" + dept.hours }));
    return box;
  }

  function safeUrl(url) { return /^https?:\/\//i.test(url || "") ? url : ""; }

  // An answer's text, with each web address in it (http or https only) made a link.
  function answerText(text) {
    var p = h("p", { class: "answer" });
    var re = /https?:\/\/[\x21-\x7e]+/gi, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      var url = m[0].replace(/[.,;:!?'"\])]+$/, "");
      p.appendChild(document.createTextNode(text.slice(last, m.index)));
      p.appendChild(h("a", { href: url, target: "_blank", rel: "noopener", text: url }));
      last = m.index + url.length;
      re.lastIndex = last;
    }
    p.appendChild(document.createTextNode(text.slice(last)));
    return p;
  }

  // The city's general contact (kb settings contact_*), for questions no FAQ answers.
  function generalContact(c) {
    if (!c || !c.name) return null;
    var box = h("div", { class: "contact general" },
      h("div", null, document.createTextNode("お問い合わせ先："), h("strong", { text: c.name })));
    if (c.phone) {
      box.appendChild(h("div", null, document.createTextNode("電話："),
        h("a", { href: "tel:" + c.phone.replace(/[^0-9+]/g, ""), text: c.phone })));
    }
    if (c.hours) box.appendChild(h("div", { text: "受付時間：" + c.hours }));
    if (safeUrl(c.url)) {
      box.appendChild(h("div", null, h("a", { href: safeUrl(c.url), target: "_blank",
        rel: "noopener", text: "窓口のご案内（市のページ）" })));
    }
    if (safeUrl(c.form_url)) {
      box.appendChild(h("div", null, h("a", { href: safeUrl(c.form_url), target: "_blank",
        rel: "noopener", text: "お問い合わせフォーム" })));
    }
    return box;
  }

  function feedback(faq) {
    var row = h("div", { class: "fb", role: "group", "aria-label": "この回答の評価" },
      h("span", { text: "この回答は役に立ちましたか？" }));
    [["はい", true], ["いいえ", false]].forEach(function (pair) {
      var b = h("button", { type: "button", text: pair[0] });
      b.addEventListener("click", function () {
        if (preview) {
          row.replaceChildren(h("span", { role: "status", text: "（プレビューのため送信しません）" }));
          return;
        }
        fetch(endpoint + "/public/v1/faq/feedback", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ faq_id: faq.id, helpful: pair[1], query: lastQuery }),
        }).then(function (r) {
          var msg = r.ok ? "ご協力ありがとうございました。" : "送信できませんでした。";
          row.replaceChildren(h("span", { role: "status", text: msg }));
        });
      });
      row.appendChild(b);
    });
    return row;
  }

  function render(data, firstId) {
    answers.textContent = "";
    if (data.answered === false || !data.faqs.length) {
      // No FAQ answers it: say so, and where to ask, rather than show the least bad FAQ.
      answers.appendChild(h("div", { class: "noanswer" },
        h("p", { class: "lead", text: "該当するよくある質問が見つかりませんでした" }),
        h("p", { text: "言葉を変えてもう一度お試しいただくか、次の窓口へお問い合わせください。" }),
        generalContact(data.contact)));
      live.textContent = "該当するよくある質問が見つかりませんでした";
      return;
    }
    var faqs = data.faqs.slice();
    if (firstId) faqs.sort(function (a, b) { return (b.id === firstId) - (a.id === firstId); });
    // A weak match is offered, not asserted: nothing opens unless the citizen picked it.
    var weak = data.confidence === "low" && !firstId;
    if (weak) {
      answers.appendChild(h("p", { class: "note weak",
        text: "近い内容のよくある質問です。ご質問に合うかご確認ください。" }));
    }
    faqs.forEach(function (faq, i) {
      var d = h("details", i === 0 && !weak ? { open: "" } : null,
        h("summary", { text: faq.question }),
        answerText(faq.answer),
        contact(faq.department));
      if (safeUrl(faq.url)) d.appendChild(h("p", null, h("a", { href: safeUrl(faq.url), target: "_blank",
        rel: "noopener", text: "詳しくはこちら（市のページ）" })));
      d.appendChild(feedback(faq));
      answers.appendChild(d);
    });
    if (weak) {
      answers.appendChild(h("p", { class: "note", text: "見つからない場合のお問い合わせ先：" }));
      answers.appendChild(generalContact(data.contact) || h("span"));
    }
    live.textContent = data.faqs.length + "件の回答を表示しました";
  }

  function search(text, firstId) {
    text = (text || input.value).trim();
    if (!text) return;
    lastQuery = text;
    var my = ++seq;
    clearTimeout(timer);
    getJSON("/public/v1/faq/search?q=" + encodeURIComponent(text)).then(function (data) {
      if (my === seq) render(data, firstId);
    }).catch(function (err) {
      if (my === seq) answers.replaceChildren(h("p", { text: err.message }));
    });
  }

  // The trainer's preview: the same render, the same markup and CSS, for an unsaved draft.
  if (preview) host.kbRender = function (data) { render(data, data.faqs[0] && data.faqs[0].id); };

  input.addEventListener("compositionstart", function () { composing = true; clearTimeout(timer); });
  input.addEventListener("compositionend", function () { composing = false; schedule(); });
  input.addEventListener("input", function (e) {
    if (e.isComposing || composing) return; // wait for the IME to finish converting
    schedule();
  });
  input.addEventListener("keydown", function (e) {
    if (e.isComposing || e.keyCode === 229) return;
    var open = input.getAttribute("aria-expanded") === "true";
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!open && options.length) setExpanded(true);
      if (options.length) setActive(e.altKey ? active : (active + 1) % options.length);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (!open && options.length) setExpanded(true);
      if (options.length) setActive(active <= 0 ? options.length - 1 : active - 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (open && active >= 0) choose(active);
      else { setExpanded(false); search(); }
    } else if (e.key === "Escape") {
      e.preventDefault();
      if (open) setExpanded(false);
      else { input.value = ""; options = []; listbox.textContent = ""; }
    } else if (e.key === "Home" || e.key === "End") {
      setActive(-1);
    }
  });
  input.addEventListener("blur", function () { setExpanded(false); });
  goButton.addEventListener("click", function () { setExpanded(false); search(); });
})();
