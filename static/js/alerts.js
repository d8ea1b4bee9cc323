// Alerts on every desk page that loads it: on the Socket.IO `alert` event a banner, a short beep (WebAudio, no
// sound file) and a browser notification when permitted; `alert_resolved` shows 舆情平息. On the 告警 page it
// also fills the alert table, the silences and the rule status. Text is set with textContent only.
// `alert_updated` (a repeat match folded into an open alert, told to no one) changes the alert's 次数 and 情况 in
// place, on the 告警 table, the dashboard's panel and a banner still shown: no beep, no banner, no new row.
// window.desk.sounds counts the beeps asked for ({alert, resolved}): a test (or a curious officer) can see that
// the page tried to sound even where no speaker is.
(function () {
  "use strict";
  const desk = (window.desk = window.desk || {});
  const el = desk.el;
  // base.html loads this on every logged-in page; a page that also names it itself gets it once
  if (!el || desk.alertsReady) return;
  desk.alertsReady = true;
  let audio = null;
  desk.sounds = { alert: 0, resolved: 0 };
  desk.soundsBlocked = 0;  // beeps the browser kept silent (autoplay policy)

  // Chromium's autoplay policy starts an AudioContext "suspended" until the page is clicked: the beep would be
  // silent and nobody would know. The page says so (#sound-blocked) and one click enables the sound.
  function audioContext() {
    if (!audio) {
      try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return null; }
      audio.addEventListener("statechange", soundCheck);
    }
    return audio;
  }
  function soundCheck() {
    const bar = document.getElementById("sound-blocked");
    const blocked = !!audio && audio.state === "suspended";
    if (bar) bar.hidden = !blocked;
    document.body.dataset.sound = audio ? audio.state : "none";
    return blocked;
  }
  function enableSound() {
    const a = audioContext();
    if (a && a.state === "suspended") a.resume().then(soundCheck, soundCheck); else soundCheck();
  }
  desk.soundState = function () { return audio ? audio.state : "none"; };
  desk.enableSound = enableSound;

  // The banners are styled by alerts.css; pages that do not link it (the dashboard) get it here.
  if (!document.querySelector('link[href$="css/alerts.css"]')) {
    const css = document.createElement("link");
    css.rel = "stylesheet"; css.href = "/static/css/alerts.css";
    document.head.appendChild(css);
  }

  function beep(resolved) {
    desk.sounds[resolved ? "resolved" : "alert"] += 1;
    try {
      if (!audioContext()) return;
      if (soundCheck()) desk.soundsBlocked += 1;  // asked for, but the browser keeps it silent: the bar says so
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
  desk.beep = beep;

  // What the rule tells the duty officer to do (rule field `duty`), as one line.
  function dutyText(d) {
    d = d || {};
    return [["核查", d.check], ["责任", d.owner], ["联系", d.contact], ["备注", d.notes]]
      .filter(function (x) { return x[1]; }).map(function (x) { return x[0] + "：" + x[1]; }).join("　");
  }

  function titleOf(a, resolved) {
    if (a.title) return a.title;
    const key = a.key ? "「" + a.key + "」" : "";
    return (resolved ? "【舆情平息】" : "【" + (a.severity_zh || "") + "预警】") + a.rule + key;
  }

  // The official post that resolved a rumour alert (details.answer), as a link to its post page.
  function answerLink(a) {
    const ans = a.details && a.details.answer;
    if (!ans || !ans.id) return null;
    const link = el("a", "answer", "官方回应：" + (ans.author || "") + "（查看原帖）");
    link.href = "/posts/" + encodeURIComponent(ans.id);
    return link;
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
      const main = document.querySelector("main");
      if (main) main.insertBefore(box, main.firstChild); else document.body.appendChild(box);
    }
    if (!resolved) box.querySelectorAll('.alert-banner[data-kind="alert"]').forEach(function (x) {
      if (x.dataset.alertId === a.id) x.remove();  // an update of a grown alert replaces its banner
    });
    const b = el("div", "alert-banner sev-" + (a.severity || "medium") + (resolved ? " resolved" : ""));
    b.dataset.alertId = a.id; b.dataset.rule = a.rule; b.dataset.kind = resolved ? "resolved" : "alert";
    const head = el("div", "head");
    head.appendChild(el("b", "title", titleOf(a, resolved)));
    head.appendChild(el("time", null, desk.fmtTime(resolved ? (a.resolved_at || a.last_match) : (a.first_match || a.created_at))));
    b.appendChild(head);
    b.appendChild(el("div", "reason", resolved ? (a.details && a.details.resolved_reason) || "舆情平息" : a.reason || ""));
    const duty = dutyText(a.duty);
    if (duty && !resolved) b.appendChild(el("div", "duty", duty));
    const ans = resolved ? answerLink(a) : null;
    if (ans) b.appendChild(ans);
    const p = (a.posts || [])[0];
    if (p && !resolved) {
      const q = el("blockquote", "post");
      q.appendChild(el("span", "who", (p.author || desk.sourceName(p.source) || "") + "："));
      q.appendChild(el("span", "text", (p.text || "").slice(0, 140)));
      b.appendChild(q);
    }
    const link = el("a", "more", "查看详情"); link.href = "/alerts#" + a.id; b.appendChild(link);
    const close = el("button", "close", "×"); close.type = "button"; close.title = "关闭提示";
    close.onclick = function () { b.remove(); };
    b.appendChild(close);
    box.insertBefore(b, box.firstChild);
    while (box.children.length > 5) box.removeChild(box.lastChild);
  }

  // The newest quiet update of each alert: an `alert` event queued before it (the outbox sends it a moment later)
  // or a table loaded while it was on its way does not take the 次数 back. Counts only grow within an alert.
  const grown = new Map();
  function merged(a) {
    const u = grown.get(a.id);
    if (!u || !(u.count > a.count)) return a;
    return Object.assign({}, a, { count: u.count, value: u.value, reason: u.reason || a.reason, last_match: u.last_match });
  }
  function updated(u) {
    const prev = grown.get(u.id);
    if (prev && prev.count >= u.count) return;  // an older figure arriving late
    grown.delete(u.id); grown.set(u.id, u);
    if (grown.size > 500) grown.delete(grown.keys().next().value);
    desk.alertUpdates = (desk.alertUpdates || 0) + 1;
    const tr = document.getElementById(u.id);
    if (tr && tr.closest("#alerts-body")) {
      const count = tr.querySelector("td.count");
      if (count) {
        count.textContent = String(u.count); count.title = u.summary || "";
        count.classList.remove("grew"); void count.offsetWidth; count.classList.add("grew");  // a quiet flash
      }
      const reason = tr.querySelector("td.reason");
      if (reason && u.reason && u.status !== "resolved") reason.textContent = u.reason;
    }
    if (!u.reason) return;
    document.querySelectorAll('#alerts-panel li[data-kind="alert"] span.reason, #alert-banners .alert-banner[data-kind="alert"] .reason')
      .forEach(function (x) { if (x.closest("[data-alert-id]").dataset.alertId === u.id) x.textContent = u.reason; });
  }

  function row(a) {
    a = merged(a);
    const tr = el("tr", "sev-" + a.severity + " st-" + a.status); tr.id = a.id;
    [desk.fmtTime(a.first_match), a.severity_zh, a.rule, a.key || "—", a.reason, a.count, a.status_zh,
     dutyText(a.duty)].forEach(function (v, i) {
      tr.appendChild(el("td", ["time", "sev", "rule", "key", "reason", "count", "status", "duty"][i], v));
    });
    const td = el("td");
    if (a.status === "open") {
      const btn = el("button", null, "静默 2 小时"); btn.type = "button";
      btn.title = "此规则" + (a.key ? "「" + a.key + "」" : "") + "2 小时内不再提醒（告警仍记录）";
      btn.onclick = function () { addSilence({ rule: a.rule, key: a.key, duration: "2h", reason: "值班员静默" }); };
      td.appendChild(btn);
    }
    if (a.status === "resolved" && a.details && a.details.resolved_reason) {  // why it calmed, and the answer
      const cell = tr.querySelector("td.reason");
      cell.appendChild(el("div", "resolved-reason", "已平息：" + a.details.resolved_reason));
      const ans = answerLink(a);
      if (ans) cell.appendChild(ans);
    }
    tr.appendChild(td);
    return tr;
  }

  function addToPanel(a, resolved) {
    if (!resolved) a = merged(a);
    const list = document.getElementById("alerts-panel");
    if (list) {
      const empty = list.querySelector("li.empty"); if (empty) empty.remove();
      if (!resolved) list.querySelectorAll('li[data-kind="alert"]').forEach(function (x) {
        if (x.dataset.alertId === a.id) x.remove();  // the grown alert's newer count replaces the older line
      });
      const li = el("li", "sev-" + a.severity + (resolved ? " resolved" : ""));
      li.dataset.alertId = a.id; li.dataset.kind = resolved ? "resolved" : "alert";
      li.appendChild(el("time", null, desk.fmtTime(resolved ? (a.resolved_at || a.last_match) : (a.first_match || a.created_at))));
      li.appendChild(el("b", null, " " + titleOf(a, resolved) + " "));
      li.appendChild(el("span", "reason", resolved ? (a.details && a.details.resolved_reason) || "舆情平息" : a.reason || ""));
      const ans = resolved ? answerLink(a) : null;
      if (ans) { li.appendChild(document.createTextNode(" ")); li.appendChild(ans); }
      const duty = dutyText(a.duty);
      if (duty && !resolved) li.appendChild(el("div", "duty", duty));
      list.insertBefore(li, list.firstChild);
      while (list.children.length > 20) list.removeChild(list.lastChild);
    }
    const body = document.getElementById("alerts-body");
    if (body) {
      const old = document.getElementById(a.id); if (old) old.remove();
      const sel = document.getElementById("alert-status");
      if (!sel || !sel.value || sel.value === a.status) {  // a live alert joins the table only under its filter
        body.insertBefore(row(a), body.firstChild);
        while (body.rows.length > LIMIT) body.deleteRow(body.rows.length - 1);
      }
      showCount();
    }
  }

  // the count beside 告警 is the table's rows: set after a load and after every live row (it stayed at the
  // loaded number when a row came in over Socket.IO, one short of the table)
  const LIMIT = 100;
  function showCount() {
    const body = document.getElementById("alerts-body"), c = document.getElementById("alert-count");
    if (body && c) c.textContent = "（" + body.rows.length + " 条）";
  }

  function loadAlerts() {
    const body = document.getElementById("alerts-body"), panel = document.getElementById("alerts-panel");
    if (!body && !panel) return;
    const sel = document.getElementById("alert-status");
    const status = sel ? sel.value : "open";
    fetch("/api/v1/alerts?limit=" + LIMIT + (status ? "&status=" + status : "")).then(function (r) { return r.json(); })
      .then(function (d) {
        const items = d.alerts || [];
        if (body) { body.textContent = ""; items.forEach(function (a) { body.appendChild(row(a)); }); }
        if (panel) {
          panel.textContent = "";
          items.slice(0, 20).reverse().forEach(function (a) { addToPanel(a, a.status === "resolved"); });
          if (!items.length) panel.appendChild(el("li", "empty", "暂无未平息告警"));
        }
        showCount();
      });
  }

  function loadSilences() {
    const ul = document.getElementById("silences"); if (!ul) return;
    fetch("/api/v1/silences").then(function (r) { return r.json(); }).then(function (d) {
      ul.textContent = "";
      const active = (d.silences || []).filter(function (s) { return s.active; });
      if (!active.length) ul.appendChild(el("li", "empty", "当前没有静默"));
      active.forEach(function (s) {
        const li = el("li"); li.dataset.silenceId = s.id;
        li.appendChild(el("b", null, (s.rule === "*" ? "全部规则" : s.rule) + (s.key ? "「" + s.key + "」" : "")));
        li.appendChild(el("span", "until", " 静默至 " + desk.fmtTime(s.until)));
        li.appendChild(el("div", "by", (s.created_by ? s.created_by + "设置" : "") + (s.reason ? "：" + s.reason : "")));
        const b = el("button", null, "解除"); b.type = "button";
        b.onclick = function () { fetch("/api/v1/silences/" + s.id, { method: "DELETE" }).then(loadSilences); };
        li.appendChild(b); ul.appendChild(li);
      });
    });
  }

  function addSilence(data, done) {
    const err = document.getElementById("silence-error"), ok = document.getElementById("silence-ok");
    fetch("/api/v1/silences", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) })
      .then(function (r) { return r.json().then(function (d) { return [r.ok, d]; }); })
      .then(function (res) {
        if (err) err.textContent = res[0] ? "" : res[1].error;
        if (ok) ok.textContent = res[0] ? "已静默：" + (data.rule === "*" ? "全部规则" : data.rule) +
          (data.key ? "「" + data.key + "」" : "") + "，至 " + desk.fmtTime(res[1].silence.until) : "";
        if (res[0] && done) done();
        loadSilences(); loadAlerts();
      });
  }

  const TYPE_ZH = { spike: "声量突增/骤降", frequency: "频次", flatline: "静默监测", new_term: "新词", keyword: "关键词",
    sentiment_surge: "负面激增", rumour: "疑似谣言", cardinality: "多账号集中" };

  function loadRules() {
    const ul = document.getElementById("rules"), errs = document.getElementById("rule-errors"); if (!ul) return;
    fetch("/api/v1/rules").then(function (r) { return r.json(); }).then(function (d) {
      ul.textContent = ""; errs.textContent = "";
      const names = document.getElementById("rule-names"); if (names) names.textContent = "";
      (d.rules || []).forEach(function (r) {
        ul.appendChild(el("li", r.firing.length ? "firing" : "", r.name + "（" + (TYPE_ZH[r.type] || r.type) + "）" +
          (r.enabled === false ? " 已停用" : "") + (r.firing.length ? " 触发中：" + (r.firing.join("、") || "全部") : "") +
          (r.baseline ? " · " + r.baseline.message : "")));  // a rule still learning its baseline says so
        if (names) { const o = document.createElement("option"); o.value = r.name; names.appendChild(o); }
      });
      if (!(d.rules || []).length) ul.appendChild(el("li", "empty", "未加载任何规则"));
      (d.errors || []).forEach(function (e) { errs.appendChild(el("li", null, e.message)); });
    });
  }

  if (desk.socket) {
    // the rules list's 触发中 follows the alerts (it kept the keys firing when the page was opened, 平息 or not)
    desk.socket.on("alert", function (a) { a = merged(a); banner(a, false); beep(false); notify(a); addToPanel(a, false); loadRules(); });
    desk.socket.on("alert_updated", updated);  // quiet: the row changes in place, nothing sounds
    desk.socket.on("alert_resolved", function (a) {
      // the calm-down notice takes the place of the alert's own banner
      document.querySelectorAll('#alert-banners .alert-banner[data-kind="alert"]').forEach(function (b) {
        if (b.dataset.alertId === a.id) b.remove();
      });
      banner(a, true); beep(true); notify(a);
      const old = document.querySelector('#alerts-panel li[data-alert-id="' + a.id + '"]'); if (old) old.remove();
      addToPanel(a, true);
      if (document.getElementById("alerts-body")) loadAlerts();
      loadRules();
    });
  }
  function setupSound() {
    audioContext(); soundCheck();
    const btn = document.getElementById("sound-enable");
    if (btn) btn.onclick = enableSound;
    // any click on the page is a user gesture: take it to unlock the sound as well
    document.addEventListener("click", function () { if (audio && audio.state === "suspended") enableSound(); }, true);
  }
  if (document.readyState !== "loading") setupSound(); else document.addEventListener("DOMContentLoaded", setupSound);

  document.addEventListener("DOMContentLoaded", function () {
    const perm = document.getElementById("notify-permission");
    if (perm && "Notification" in window) perm.onclick = function () { Notification.requestPermission(); };
    const sel = document.getElementById("alert-status"); if (sel) sel.onchange = loadAlerts;
    const form = document.getElementById("silence-form");
    if (form) form.onsubmit = function (ev) {
      ev.preventDefault();
      const f = new FormData(form);
      addSilence({ rule: f.get("rule"), key: f.get("key"), duration: f.get("duration"), reason: f.get("reason") },
        function () { form.reset(); });
    };
    loadAlerts(); loadSilences(); loadRules();
  });
  if (document.readyState !== "loading") { loadAlerts(); loadSilences(); loadRules(); }
  document.addEventListener("desk:resync", function () { loadAlerts(); loadSilences(); loadRules(); });
})();

// -- every logged-in page: incident notices (事件时限, one banner per incident, updated in place), the approvers'
// review requests (待我审核), and a loud connection bar (full width, red, the page title changes) ---------------
(function () {
  "use strict";
  const desk = window.desk;
  if (!desk || !desk.el || desk.noticesReady) return;
  desk.noticesReady = true;
  const el = desk.el;
  const roles = (document.body.dataset.roles || "").split(/\s+/);
  const approver = roles.indexOf("approver") >= 0 || roles.indexOf("admin") >= 0;
  desk.notices = { escalation: 0, review: 0 };

  function box() {
    let b = document.getElementById("alert-banners");
    if (!b) {
      b = el("div", "alert-banners"); b.id = "alert-banners"; b.setAttribute("role", "alert");
      const main = document.querySelector("main");
      if (main) main.insertBefore(b, main.firstChild); else document.body.appendChild(b);
    }
    return b;
  }
  function notify(title, body, tag) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try { new Notification(title, { body: body, tag: tag, renotify: true }); } catch (e) { /* ignore */ }
  }
  function incidentBanner(kind, key, title, text, people, href, at, extraClass) {
    const b0 = box();
    let b = b0.querySelector('.alert-banner[data-kind="' + kind + '"][data-incident-id="' + key + '"]');
    if (b) b.replaceChildren(); else b = el("div");
    b.className = "alert-banner incident-notice " + kind + (extraClass ? " " + extraClass : "");
    b.dataset.kind = kind; b.dataset.incidentId = key;
    const head = el("div", "head");
    head.appendChild(el("b", "title", title));
    head.appendChild(el("time", null, desk.fmtTime(at)));
    b.appendChild(head);
    b.appendChild(el("div", "reason", text));
    if (people && people.length) b.appendChild(el("div", "duty", "已通知：" + people.join("、")));
    const link = el("a", "more", "打开事件处置"); link.href = href; b.appendChild(link);
    const close = el("button", "close", "×"); close.type = "button"; close.title = "关闭提示";
    close.onclick = function () { b.remove(); };
    b.appendChild(close);
    b0.insertBefore(b, b0.firstChild);  // updated in place, and moved to the top
    return b;
  }
  function escTitle(e) { return "【" + e.kind_zh + "】事件#" + e.incident_id + "「" + e.title + "」（" + e.level + "）"; }
  function escItem(e) {
    const li = el("li", "esc" + (e.overdue ? " overdue" : ""));
    li.dataset.incidentId = e.incident_id; li.dataset.escKind = e.kind;
    li.appendChild(el("time", null, desk.fmtTime(e.at)));
    const a = el("a", null, " " + escTitle(e) + " "); a.href = e.url || ("/incidents/" + e.incident_id);
    li.appendChild(a);
    li.appendChild(el("span", null, e.message));
    if (e.recipients && e.recipients.length) li.appendChild(el("div", "duty", "已通知：" + e.recipients.join("、")));
    return li;
  }
  function loadEscalations() {
    const list = document.getElementById("escalations-list"); if (!list) return;
    fetch("/api/v1/incidents/escalations?limit=50").then(function (r) { return r.json(); }).then(function (d) {
      list.replaceChildren();
      (d.escalations || []).forEach(function (e) { list.appendChild(escItem(e)); });
      if (!(d.escalations || []).length) list.appendChild(el("li", "empty", "暂无事件时限提醒"));
    });
  }
  function onEscalation(e) {
    desk.notices.escalation += 1;
    incidentBanner("escalation", String(e.incident_id), escTitle(e), e.message, e.recipients, e.url || ("/incidents/" + e.incident_id),
      e.at, e.overdue ? "overdue" : "");
    if (desk.beep) desk.beep(false);
    notify(escTitle(e), e.message, "incident-" + e.incident_id);
    const list = document.getElementById("escalations-list");
    if (list) { const empty = list.querySelector("li.empty"); if (empty) empty.remove(); list.insertBefore(escItem(e), list.firstChild); }
  }
  function onReview(r) {
    document.dispatchEvent(new CustomEvent("desk:review", { detail: r }));
    if (!approver || r.event !== "close_request" || !r.item) return;
    desk.notices.review += 1;
    const it = r.item;
    incidentBanner("review", String(it.incident_id), "【待我审核】事件#" + it.incident_id + "「" + it.title + "」关闭申请",
      (it.requested_by_name || it.requested_by) + "申请关闭：" + it.reason, [], "/incidents/" + it.incident_id, it.at, "");
    if (desk.beep) desk.beep(false);
    notify("【待我审核】事件#" + it.incident_id + " 关闭申请", it.reason, "review-" + it.incident_id);
  }

  // the connection bar: lost is loud (full width, red, title), back is quiet
  const bar = document.getElementById("conn-lost");
  const baseTitle = document.title;
  let everConnected = false;
  function lost() {
    if (bar) bar.hidden = false;
    document.body.classList.add("conn-lost-page");
    document.body.dataset.connLost = "1";
    document.title = "【连接中断】" + baseTitle;
  }
  function back() {
    everConnected = true;
    if (bar) bar.hidden = true;
    document.body.classList.remove("conn-lost-page");
    document.body.dataset.connLost = "0";
    document.title = baseTitle;
  }
  if (desk.socket) {
    desk.socket.on("escalation", onEscalation);
    desk.socket.on("review", onReview);
    desk.socket.on("connect", back);
    desk.socket.on("disconnect", lost);
    desk.socket.on("connect_error", lost);
    if (desk.socket.connected) back();
    setTimeout(function () { if (!everConnected && !desk.socket.connected) lost(); }, 8000);
  }
  if (document.readyState !== "loading") loadEscalations(); else document.addEventListener("DOMContentLoaded", loadEscalations);
  document.addEventListener("desk:resync", loadEscalations);
})();
