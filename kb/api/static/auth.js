/* Login for the staff console and trainer pages: an API key kept in sessionStorage.
 *
 * Include it before the page's own script: <script src="static/auth.js" data-role="staff">
 * (data-role: the least role the page needs: staff or trainer). It shows a login form until a
 * key of that role is entered, then resolves kbAuth.ready with {name, role, roles}. All calls
 * to the server go through kbAuth.api(path, {method, body, signal}), which sends the key as
 * "Authorization: Bearer <key>" — never in a URL, so it cannot reach access logs, history or
 * Referer headers. sessionStorage is per tab and cleared when the tab closes.
 */
"use strict";
(function () {
  const KEY_STORAGE = "kb.apiKey";
  const LEVEL = { staff: 1, trainer: 2, admin: 3 };
  const ROLE_JA = { staff: "職員", trainer: "研修担当", admin: "管理者" };
  const script = document.currentScript;
  const needed = (script && script.dataset.role) || "staff";

  let resolveReady;
  const ready = new Promise((resolve) => { resolveReady = resolve; });
  let principal = null;
  let dialog = null;

  function key() { return sessionStorage.getItem(KEY_STORAGE); }

  async function request(path, { method = "GET", body, signal, apiKey } = {}) {
    const headers = { Accept: "application/json" };
    const k = apiKey || key();
    if (k) headers.Authorization = "Bearer " + k;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, {
      method, headers, signal, credentials: "omit", referrerPolicy: "no-referrer",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /* The one function pages use to talk to the server. */
  async function api(path, options = {}) {
    const res = await request(path, options);
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      showLogin("ログインの有効期限が切れたか、キーが無効になりました。もう一度ログインしてください。");
    }
    if (!res.ok) {
      const err = new Error(data.detail || res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  /* A file from the server (a printed sheet, an export): {blob, filename}. Errors as api(). */
  async function file(path, options = {}) {
    const res = await request(path, options);
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      if (res.status === 401) {
        sessionStorage.removeItem(KEY_STORAGE);
        showLogin("ログインの有効期限が切れたか、キーが無効になりました。もう一度ログインしてください。");
      }
      const err = new Error(data.detail || res.statusText);
      err.status = res.status;
      throw err;
    }
    const disposition = res.headers.get("Content-Disposition") || "";
    const m = /filename="([^"]+)"/.exec(disposition);
    return { blob: await res.blob(), filename: m ? m[1] : "" };
  }

  function style() {
    const css = `
      .kb-login { border: 1px solid #d0d7de; border-radius: 10px; padding: 0; width: min(440px, 92vw); }
      .kb-login::backdrop { background: rgba(15, 23, 42, .55); }
      .kb-login form { padding: 20px 22px; display: grid; gap: 10px; font-size: 15px; }
      .kb-login h2 { margin: 0; font-size: 18px; }
      .kb-login p { margin: 0; color: #57606a; font-size: 13.5px; }
      .kb-login input { font: inherit; font-family: ui-monospace, monospace; padding: 8px 10px;
        border: 2px solid #0b5cad; border-radius: 6px; }
      .kb-login button { font: inherit; padding: 8px 12px; border: 0; border-radius: 6px;
        background: #0b5cad; color: #fff; cursor: pointer; }
      .kb-login .kb-login-error { color: #b42318; font-weight: 600; min-height: 1.2em; }
      .kb-user { font-size: 13px; color: #57606a; white-space: nowrap; }
      .kb-user button { font: inherit; font-size: 12px; margin-left: 6px; border: 1px solid #d0d7de;
        background: #fff; border-radius: 4px; padding: 1px 8px; cursor: pointer; }`;
    const el = document.createElement("style");
    el.textContent = css;
    document.head.append(el);
  }

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "kb-login";
    dialog.id = "kb-login";
    dialog.setAttribute("aria-labelledby", "kb-login-title");
    // No name attribute on the input: even if scripts failed, a native form submission could
    // never serialize the key into a URL. method=post for the same reason.
    dialog.innerHTML = `
      <form id="kb-login-form" method="post" action="#" autocomplete="off">
        <h2 id="kb-login-title">ログイン</h2>
        <p>管理者から受け取ったAPIキー（kb_ で始まる文字列）を入力してください。キーはこのタブを閉じると消えます。</p>
        <label for="kb-login-key">APIキー</label>
        <input id="kb-login-key" type="password" autocomplete="off" spellcheck="false"
               autocapitalize="off" required aria-describedby="kb-login-error">
        <p id="kb-login-error" class="kb-login-error" role="alert"></p>
        <button type="submit">ログイン</button>
      </form>`;
    document.body.append(dialog);
    dialog.addEventListener("cancel", (e) => e.preventDefault()); // Esc cannot skip the login
    dialog.querySelector("form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = dialog.querySelector("#kb-login-key");
      const entered = input.value.trim();
      if (!entered) return;
      const error = dialog.querySelector("#kb-login-error");
      error.textContent = "確認中…";
      try {
        const who = await check(entered);
        if (who) {
          input.value = "";
          error.textContent = "";
          dialog.close();
          // Only now: while the modal dialog was open the page behind it was inert, and a
          // page's first step after login (the focus in its search box) would be lost.
          resolveReady(who);
        }
      } catch (err) {
        error.textContent = err.message;
      }
    });
  }

  function showLogin(message) {
    if (!dialog) buildDialog();
    dialog.querySelector("#kb-login-error").textContent = message || "";
    if (!dialog.open) dialog.showModal();
    dialog.querySelector("#kb-login-key").focus();
  }

  function renderUser() {
    const slot = document.querySelector("[data-kb-user]");
    if (!slot || !principal) return;
    slot.classList.add("kb-user");
    slot.replaceChildren(`${principal.name}（${ROLE_JA[principal.role] || principal.role}）`);
    const out = document.createElement("button");
    out.type = "button";
    out.id = "kb-logout";
    out.textContent = "ログアウト";
    out.addEventListener("click", logout);
    slot.append(out);
  }

  /* Check a key with the server; store it only when it holds the page's role. */
  async function check(candidate) {
    const res = await request("api/v1/me", { apiKey: candidate });
    if (res.status === 401) throw new Error("キーが正しくないか、無効にされています。");
    if (!res.ok) throw new Error(`確認できませんでした（${res.status}）`);
    const who = await res.json();
    if ((LEVEL[who.role] || 0) < LEVEL[needed]) {
      throw new Error(`このページには${ROLE_JA[needed]}以上のキーが必要です（このキー: ${ROLE_JA[who.role] || who.role}）。`);
    }
    sessionStorage.setItem(KEY_STORAGE, candidate);
    principal = who;
    renderUser();
    return who;
  }

  function logout() {
    sessionStorage.removeItem(KEY_STORAGE);
    location.reload();
  }

  async function start() {
    style();
    const stored = key();
    if (stored) {
      try {
        resolveReady(await check(stored));
        return;
      } catch (err) {
        sessionStorage.removeItem(KEY_STORAGE);
        showLogin(err.message);
        return;
      }
    }
    showLogin("");
  }

  window.kbAuth = { api, file, ready, logout, principal: () => principal };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
