// The incident workspace's 发布前检查 panel: each account's pre-flight check (token, quota, link, rip; 演示 in the
// demo), and the form that records a publication made by hand (the desk fetches and snapshots the link).
// Untrusted text is only set with textContent (desk.el).
(function () {
  "use strict";
  const desk = window.desk;
  const el = desk.el;
  const API = "/api/v1/incidents";
  const root = document.getElementById("incident-page");
  const box = document.getElementById("publish-panel");
  if (!root || !box) return;
  const id = root.dataset.id;
  const list = document.getElementById("preflight");
  const msg = document.getElementById("publish-msg");
  const manual = document.getElementById("manual-box");
  const ROLES = (document.body.dataset.roles || "").split(/\s+/);
  const mayPublish = ["duty", "approver", "admin"].some(function (r) { return ROLES.indexOf(r) >= 0; });
  function fitManual() {  // recording needs an acknowledged, not yet closed incident and a role that acts
    const st = (document.getElementById("inc-status") || { dataset: {} }).dataset.status;
    manual.hidden = !mayPublish || st === "open" || st === "closed" || st === "publishing";
  }
  fitManual();

  function say(text, ok, detail) {
    const d = el("div", "msg " + (ok === null ? "pending" : ok ? "ok" : "err"), text);
    (detail || []).forEach(function (t) { if (t) d.appendChild(el("div", "t detail", "管理员：" + t)); });
    msg.replaceChildren(d);
  }

  function render(p) {
    document.getElementById("publish-mode").textContent = p.demo ? "（演示模式：不会真正发出）" : "";
    box.dataset.mode = p.mode;
    box.dataset.ok = p.ok ? "1" : "0";
    list.replaceChildren();
    p.accounts.forEach(function (a) {
      const x = el("li", "acct " + (a.ok ? "ok" : "bad"));
      x.dataset.channel = a.channel;
      x.dataset.ok = a.ok ? "1" : "0";
      if (a.mode === "demo") x.appendChild(el("span", "tag demo", "演示"));
      x.appendChild(el("b", null, (a.ok ? "✔ " : "✘ ") + a.channel_zh + "："));
      x.appendChild(el("span", null, a.summary));
      (a.problems || []).forEach(function (t) { x.appendChild(el("div", "problem", t)); });
      if (a.detail) x.appendChild(el("div", "t detail", "管理员：" + a.detail));
      list.appendChild(x);
    });
    if (p.preview) {
      const v = el("li", "preview");
      v.appendChild(el("b", null, "微博分享文字（" + p.preview.weibo_length + "/140 字，第 " + p.preview.draft + " 稿）："));
      v.appendChild(el("div", "t", p.preview.weibo));
      list.appendChild(v);
    }
    if (!p.ok && !p.demo) manual.open = true;  // an account cannot publish: the hand-made way is the way on
  }

  function load() {
    fetch("/api/v1/incidents/publishing/preflight?incident=" + encodeURIComponent(id))
      .then(function (r) { return r.json(); }).then(render)
      .catch(function () { list.replaceChildren(el("li", "problem", "发布前检查失败，请刷新页面")); });
  }

  const form = document.getElementById("manual-form");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const body = { channel: form.channel.value, url: form.url.value.trim(), published_by: form.published_by.value.trim(),
                   published_at: form.published_at.value || null };
    if (!body.url) { say("请粘贴发布链接", false); return; }
    say("正在抓取链接并留存快照…", null);
    fetch(API + "/" + id + "/publications/manual", { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { say(res.data.error || "登记失败", false); return; }
        const m = res.data.manual || {};
        const s = m.snapshot || {};
        const zh = m.channel === "weibo" ? "微博" : "微信公众号";
        let text = "已登记" + zh + "手工发布" + (s.sha256 ? "，快照已留存（sha256 " + s.sha256.slice(0, 16) + "）" : "");
        if (s.error) text += "；快照未能抓取（" + s.error + "），已记录，稍后核验";
        text += m.published ? "。双微均已发布" : "。请继续登记另一渠道";
        if (m.verify && m.verify.all) text += "，已核验上线";
        say(text, !s.error);
        const old = document.getElementById("action-msg");
        if (old) old.replaceChildren();  // the refused 双微发布 is history now (it stays in the list and the audit)
        form.url.value = "";
        document.dispatchEvent(new CustomEvent("incident:changed"));
      });
  });

  desk.socket.on("incident", function (ev) {
    if (!ev || !ev.incident || String(ev.incident.id) !== String(id)) return;
    setTimeout(fitManual, 500);  // after the workspace re-rendered the status
    if (ev.event === "publish_failed" && ev.results) {
      const failed = Object.keys(ev.results).filter(function (k) { return !ev.results[k].ok; });
      say(failed.map(function (k) { return ev.results[k].error; }).join("；") + "。可手工发布后在下方登记链接",
          false, failed.map(function (k) { return ev.results[k].detail; }));
      manual.open = true;
      if (failed.length) form.channel.value = failed[0];
      load();
    } else if (ev.event === "published" || ev.event === "verified") {
      load();
    }
  });
  load();
})();
