// Alerts on every desk page that loads it: on the Socket.IO `alert` event a banner, a short beep (WebAudio, no
// sound file) and a browser notification when permitted; `alert_resolved` shows 舆情平息. On the 告警 page it
// also fills the alert table, the silences and the rule status. Text is set with textContent only.
(function () {
  "use strict";
  const desk = (window.desk = window.desk || {});
  const el = desk.el;
  let audio = null;

  function beep(resolved) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const notes = resolved ? [660, 520] : [880, 880, 1175];
      notes.forEach(function (f, i) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = f; o.type = "sine";
        g.gain.setValueAtTime(0.0001, audio.currentTime + i * 0.18);
        g.gain.exponentialRampToValueAtTime(0.25, audio.currentTime + i * 0.18 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + i * 0.18 + 0.16);
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + i * 0.18); o.stop(audio.currentTime + i * 0.18 + 0.17);
      });
    } catch (e) { /* no audio: the banner still shows */ }
  }

  function notify(a) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try { new Notification(a.title || a.rule, { body: a.reason || "", tag: a.id }); } catch (e) { /* ignore */ }
  }

  function banner(a, resolved) {
    let box = document.getElementById("alert-banners");
    if (!box) {
      box = el("div", "alert-banners"); box.id = "alert-banners";
      box.setAttribute("role", "alert");
      document.body.insertBefore(box, document.body.firstChild.nextSibling);
    }
    const b = el("div", "alert-banner sev-" + (a.severity || "medium") + (resolved ? " resolved" : ""));
    b.dataset.alertId = a.id;
    b.appendChild(el("b", null, a.title || a.rule));
    b.appendChild(el("span", null, " " + (resolved ? (a.details && a.details.resolved_reason) || "舆情平息" : a.reason || "")));
    if (a.duty && a.duty.check) b.appendChild(el("span", "duty", " 核查：" + a.duty.check));
    const link = el("a", null, " 查看"); link.href = "/alerts#" + a.id; b.appendChild(link);
    const close = el("button", "close", "×"); close.type = "button";
    close.onclick = function () { b.remove(); };
    b.appendChild(close);
    box.insertBefore(b, box.firstChild);
    while (box.children.length > 5) box.removeChild(box.lastChild);
  }

  function row(a) {
    const tr = el("tr", "sev-" + a.severity + " st-" + a.status); tr.id = a.id;
    [desk.fmtTime(a.first_match), a.severity_zh, a.rule, a.key || "—", a.reason, a.count, a.status_zh,
     [(a.duty || {}).check, (a.duty || {}).owner].filter(Boolean).join(" / ")].forEach(function (v) {
      tr.appendChild(el("td", null, v));
    });
    const td = el("td"), btn = el("button", null, "静默 2 小时"); btn.type = "button";
    btn.onclick = function () { addSilence({ rule: a.rule, key: a.key, duration: "2h", reason: "值班员静默" }); };
    td.appendChild(btn); tr.appendChild(td);
    return tr;
  }

  function addToPanel(a) {
    const list = document.getElementById("alerts-panel");
    if (list) {
      const li = el("li", "sev-" + a.severity);
      li.appendChild(el("time", null, desk.fmtTime(a.first_match || a.created_at)));
      li.appendChild(el("b", null, " " + (a.title || a.rule) + " "));
      li.appendChild(el("span", null, a.reason || ""));
      list.insertBefore(li, list.firstChild);
      while (list.children.length > 20) list.removeChild(list.lastChild);
    }
    const body = document.getElementById("alerts-body");
    if (body) { const old = document.getElementById(a.id); if (old) old.remove(); body.insertBefore(row(a), body.firstChild); }
  }

  function loadAlerts() {
    const body = document.getElementById("alerts-body"), panel = document.getElementById("alerts-panel");
    if (!body && !panel) return;
    const sel = document.getElementById("alert-status");
    const status = sel ? sel.value : "open";
    fetch("/api/v1/alerts?limit=100" + (status ? "&status=" + status : "")).then(function (r) { return r.json(); })
      .then(function (d) {
        const items = d.alerts || [];
        if (body) { body.textContent = ""; items.forEach(function (a) { body.appendChild(row(a)); }); }
        if (panel) { panel.textContent = ""; items.slice(0, 20).reverse().forEach(addToPanel); }
        const c = document.getElementById("alert-count"); if (c) c.textContent = "（" + items.length + " 条）";
      });
  }

  function loadSilences() {
    const ul = document.getElementById("silences"); if (!ul) return;
    fetch("/api/v1/silences").then(function (r) { return r.json(); }).then(function (d) {
      ul.textContent = "";
      (d.silences || []).filter(function (s) { return s.active; }).forEach(function (s) {
        const li = el("li", null, (s.rule === "*" ? "全部规则" : s.rule) + (s.key ? "「" + s.key + "」" : "") +
          " 至 " + desk.fmtTime(s.until) + (s.reason ? "（" + s.reason + "）" : ""));
        const b = el("button", null, "解除"); b.type = "button";
        b.onclick = function () { fetch("/api/v1/silences/" + s.id, { method: "DELETE" }).then(loadSilences); };
        li.appendChild(b); ul.appendChild(li);
      });
    });
  }

  function addSilence(data) {
    const err = document.getElementById("silence-error");
    fetch("/api/v1/silences", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) })
      .then(function (r) { return r.json().then(function (d) { return [r.ok, d]; }); })
      .then(function (res) { if (err) err.textContent = res[0] ? "" : res[1].error; loadSilences(); });
  }

  function loadRules() {
    const ul = document.getElementById("rules"), errs = document.getElementById("rule-errors"); if (!ul) return;
    fetch("/api/v1/rules").then(function (r) { return r.json(); }).then(function (d) {
      ul.textContent = ""; errs.textContent = "";
      (d.rules || []).forEach(function (r) {
        ul.appendChild(el("li", r.firing.length ? "firing" : "", r.name + "（" + r.type + "）" + (r.firing.length ? " 触发中：" + r.firing.join("、") : "")));
      });
      (d.errors || []).forEach(function (e) { errs.appendChild(el("li", null, e.message)); });
    });
  }

  if (desk.socket) {
    desk.socket.on("alert", function (a) { banner(a, false); beep(false); notify(a); addToPanel(a); });
    desk.socket.on("alert_resolved", function (a) { banner(a, true); beep(true); notify(a); loadAlerts(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    const perm = document.getElementById("notify-permission");
    if (perm && "Notification" in window) perm.onclick = function () { Notification.requestPermission(); };
    const sel = document.getElementById("alert-status"); if (sel) sel.onchange = loadAlerts;
    const form = document.getElementById("silence-form");
    if (form) form.onsubmit = function (ev) {
      ev.preventDefault();
      const f = new FormData(form);
      addSilence({ rule: f.get("rule"), key: f.get("key"), duration: f.get("duration"), reason: f.get("reason") });
    };
    loadAlerts(); loadSilences(); loadRules();
  });
  if (document.readyState !== "loading") { loadAlerts(); loadSilences(); loadRules(); }
})();
