// Incident pages: the list with countdowns and the workspace. Live over Socket.IO ("incident" events).
// Text from posts and drafts is untrusted: it is only ever set with textContent (desk.el), never innerHTML.
(function () {
  "use strict";
  const desk = window.desk;
  const el = desk.el;
  const API = "/api/v1/incidents";

  function fmtLeft(sec) {
    const late = sec < 0;
    sec = Math.abs(sec);
    const h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = Math.floor(sec % 60);
    if (late) return "已超时 " + h + " 小时 " + String(m).padStart(2, "0") + " 分";
    const t = (h ? h + " 小时 " : "") + String(m).padStart(2, "0") + " 分 " + String(s).padStart(2, "0") + " 秒";
    return "剩余 " + t;
  }

  // clocks carry "due"; the countdown is recomputed every second from the browser's clock
  function clockNode(c) {
    const span = el("span", "countdown", "");
    span.dataset.due = c.due;
    span.dataset.label = c.label;
    span.dataset.name = c.name;
    if (c.met_at) {
      span.dataset.met = c.met ? "1" : "0";
    } else if (c.stopped_at) {
      span.dataset.stopped = c.missed ? "missed" : "closed";  // the incident is closed: the clock stands still
    }
    paintClock(span, c.fraction);
    return span;
  }
  function paintClock(span) {
    const label = span.dataset.label;
    if (span.dataset.met !== undefined) {
      span.textContent = label + (span.dataset.met === "1" ? "：已按时完成" : "：已完成（超时）");
      span.className = "countdown " + (span.dataset.met === "1" ? "met" : "late");
      return;
    }
    if (span.dataset.stopped) {
      span.textContent = label + (span.dataset.stopped === "missed" ? "：已超时（事件已关闭，计时停止）" : "：事件已关闭，计时停止");
      span.className = "countdown stopped" + (span.dataset.stopped === "missed" ? " late" : "");
      span.dataset.overdue = "0";
      return;
    }
    const left = (new Date(span.dataset.due) - Date.now()) / 1000;
    span.textContent = label + "：" + fmtLeft(left);
    span.className = "countdown" + (left < 0 ? " late" : left < 3600 ? " warn" : "");
    span.dataset.overdue = left < 0 ? "1" : "0";
    span.title = "截止 " + desk.fmtTime(span.dataset.due);
  }
  // a row (list row, dashboard item) holding a running clock past its deadline is marked overdue
  function paintRow(row) {
    const late = row.querySelector(".countdown[data-overdue='1']") !== null;
    row.classList.toggle("overdue", late);
    row.dataset.overdue = late ? "1" : "0";
    const tag = row.querySelector(".overdue-tag");
    if (tag) tag.hidden = !late;
  }
  function paintAll() {
    document.querySelectorAll(".countdown").forEach(paintClock);
    document.querySelectorAll("[data-clock-row]").forEach(paintRow);
  }
  setInterval(paintAll, 1000);
  // the most urgent running deadline first (overdue, then the nearest); incidents with no running clock last
  function nextDue(inc) {
    const due = inc.clocks.filter(function (c) { return c.running; }).map(function (c) { return new Date(c.due).getTime(); });
    return due.length ? Math.min.apply(null, due) : Infinity;
  }
  desk.incidents = { fmtLeft: fmtLeft, clockNode: clockNode, paintClock: paintClock, paintRow: paintRow, nextDue: nextDue };

  function call(path, body) {
    return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, status: r.status, data: d }; }); });
  }
  function say(box, text, ok) {
    box.replaceChildren(el("div", "msg " + (ok ? "ok" : "err"), text));
  }

  // -- the list page ------------------------------------------------------------------------------
  function listPage() {
    const rows = document.getElementById("incident-rows");
    const msg = document.getElementById("list-msg");
    function render(list) {
      rows.replaceChildren();
      list.forEach(function (inc) {
        const tr = el("tr");
        tr.dataset.id = inc.id;
        tr.dataset.clockRow = "1";
        tr.appendChild(el("td", null, inc.id));
        const a = el("a", null, inc.title);
        a.href = "/incidents/" + inc.id;
        const td = el("td");
        td.appendChild(a);
        const tag = el("span", "overdue-tag", "已超时");
        tag.hidden = true;
        td.appendChild(tag);
        tr.appendChild(td);
        tr.appendChild(el("td", "lvl", inc.level));
        tr.appendChild(el("td", "state", inc.status_zh));
        tr.appendChild(el("td", null, inc.department || "未匹配"));
        const tdc = el("td");
        inc.clocks.forEach(function (c) { tdc.appendChild(clockNode(c)); tdc.appendChild(el("br")); });
        tr.appendChild(tdc);
        paintRow(tr);
        rows.appendChild(tr);
      });
    }
    function loadList() { fetch(API).then(function (r) { return r.json(); }).then(function (d) { render(d.incidents); }); }
    const inbox = document.getElementById("alert-inbox");
    function loadAlerts() {
      fetch(API + "/alerts").then(function (r) { return r.json(); }).then(function (d) {
        inbox.replaceChildren();
        if (!(d.alerts || []).length) inbox.appendChild(el("li", "meta", "暂无待接警预警"));
        (d.alerts || []).forEach(function (a) {
          const li = el("li", "post");
          li.dataset.alert = a.id;
          li.appendChild(el("div", "meta", a.severity_zh + " · " + a.rule + " · " + desk.fmtTime(a.created_at)));
          li.appendChild(el("div", "text", a.reason));
          const b = el("button", "btn", "接警立案");
          b.addEventListener("click", function () {
            call(API, { alert_id: a.id }).then(function (res) {
              if (res.ok) { window.location = "/incidents/" + res.data.id; } else { say(msg, res.data.error, false); }
            });
          });
          li.appendChild(b);
          inbox.appendChild(li);
        });
      });
    }
    function loadStats() {
      fetch(API + "/timeliness").then(function (r) { return r.json(); }).then(function (d) {
        const box = document.getElementById("timeliness");
        const s = d.summary || {};
        box.replaceChildren();
        [["事件数", s.incidents], ["接警中位数（分钟）", s.median_ack_minutes], ["首发中位数（分钟）", s.median_first_info_minutes],
         ["按时完成", s.deadlines_met], ["超时", s.deadlines_missed], ["处置中", s.running], ["已办结", s.closed],
         ["未回应即关闭", s.closed_without_answer]].forEach(function (x) {
          const div = el("div");
          div.appendChild(el("b", null, x[1] === null || x[1] === undefined ? "—" : x[1]));
          div.appendChild(el("span", null, x[0]));
          box.appendChild(div);
        });
      });
    }
    document.getElementById("open-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const f = ev.target;
      call(API, { title: f.title.value, level: f.level.value, summary: f.summary.value,
                  post_ids: f.post_ids.value.split(/[\s,，、]+/).filter(Boolean) }).then(function (res) {
        if (res.ok) { window.location = "/incidents/" + res.data.id; } else { say(msg, res.data.error, false); }
      });
    });
    const queue = document.getElementById("review-queue");
    function loadQueue() {
      if (!queue) return;
      fetch(API + "/review-queue").then(function (r) { return r.json(); }).then(function (d) {
        const items = d.items || [];
        queue.replaceChildren();
        document.getElementById("review-count").textContent = items.length ? "（" + items.length + " 项）" : "";
        if (!items.length) queue.appendChild(el("li", "meta", "暂无待审核事项"));
        items.forEach(function (it) {
          const x = el("li", "post review-item");
          x.dataset.kind = it.kind; x.dataset.incident = it.incident_id;
          const a = el("a", null, "#" + it.incident_id + " " + it.title);
          a.href = "/incidents/" + it.incident_id;
          x.appendChild(el("div", "meta", (it.kind === "draft" ? "稿件待审核（第 " + it.draft + " 稿）" : "关闭申请") + " · " +
            (it.requested_by_name || it.requested_by) + " · " + desk.fmtTime(it.at)));
          x.appendChild(a);
          if (it.reason) x.appendChild(el("div", "text", "理由：" + it.reason));
          queue.appendChild(x);
        });
      });
    }
    document.addEventListener("desk:review", loadQueue);
    loadList(); loadAlerts(); loadStats(); loadQueue();
    desk.socket.on("incident", function () { loadList(); loadAlerts(); loadStats(); loadQueue(); });
    desk.socket.on("alert", loadAlerts);
  }

  // -- the workspace ------------------------------------------------------------------------------
  const SHOW = {
    acknowledge: ["open"], approve: ["drafted"], reject: ["drafted"], publish: ["approved"],
    verify: ["published", "following"], "press-held": ["open", "acknowledged", "drafted", "approved", "published", "following"],
    "follow-up": ["published"], close: ["open", "acknowledged", "drafted", "approved", "published", "following"],
    "close-request/accept": ["open", "acknowledged", "drafted", "approved", "published", "following"],
    "close-request/decline": ["open", "acknowledged", "drafted", "approved", "published", "following"],
  };
  // who may do what (the server enforces it too): buttons a role cannot use are not shown
  const ROLES = (document.body.dataset.roles || "").split(/\s+/);
  const ME = document.body.dataset.user || "";
  function can(role) { return ROLES.indexOf(role) >= 0 || ROLES.indexOf("admin") >= 0; }
  const APPROVER_ONLY = { approve: 1, reject: 1, "close-request/accept": 1, "close-request/decline": 1 };
  const DONE_ZH = { drafts: "稿件已保存", assign: "已指派", level: "级别已调整，时限已重新计算" };
  const DRAFT_ZH = { draft: "待审核", approved: "已审核", rejected: "已退回", superseded: "已被替换", conflict: "冲突留存（未采用）" };

  function workspace(root) {
    const id = root.dataset.id;
    const msg = document.getElementById("action-msg");
    let inc = JSON.parse(document.getElementById("incident-data").textContent);
    let shownLevel = null;

    function li(cls, parts) {
      const x = el("li", cls);
      parts.forEach(function (p) { if (p) x.appendChild(p); });
      return x;
    }
    function render(d) {
      inc = d;
      document.getElementById("inc-title").textContent = "#" + d.id + " " + d.title;
      document.getElementById("inc-level").textContent = d.level;
      const st = document.getElementById("inc-status");
      st.textContent = d.status_zh;
      st.dataset.status = d.status;
      document.getElementById("inc-dept").textContent = d.department || "未匹配";
      document.getElementById("inc-assignee").textContent = d.assignee_name || "未指派";
      const ver = document.getElementById("inc-version");
      ver.textContent = "第 " + d.version + " 版";
      ver.dataset.version = d.version;
      const clocks = document.getElementById("clocks");
      clocks.replaceChildren();
      d.clocks.forEach(function (c) { clocks.appendChild(clockNode(c)); });
      if (d.verified_at) clocks.appendChild(el("span", "tag pos", "双微均已上线核验 " + desk.fmtTime(d.verified_at)));
      document.querySelectorAll("#actions [data-act]").forEach(function (b) {
        let show = SHOW[b.dataset.act].indexOf(d.status) >= 0;
        if (b.dataset.act === "press-held") show = show && d.press_due && !d.press_held_at;
        if (b.dataset.act === "verify") show = show && !d.verified_at;
        const act = b.dataset.act;
        if (APPROVER_ONLY[act]) show = show && can("approver");
        else show = show && (can("duty") || can("approver"));
        const draft = d.drafts.filter(function (x) { return x.status === "draft"; }).pop();
        const own = draft && draft.author === ME && root.dataset.selfApproval !== "1";
        if (act === "approve") show = show && !own;  // four eyes: not one's own draft
        if (act.indexOf("close-request/") === 0) show = show && !!d.close_request;
        if (act === "close") {
          show = show && !d.close_request;
          b.textContent = !d.published_at && !can("approver") ? "申请关闭" : "关闭事件";
        }
        b.hidden = !show;
      });
      const hint = document.getElementById("role-hint");
      const lines = [];
      const waiting = d.drafts.filter(function (x) { return x.status === "draft"; }).pop();
      if (d.status === "drafted" && waiting && can("approver") && waiting.author === ME && root.dataset.selfApproval !== "1") {
        lines.push("本稿由您撰写：按双人审核，须由另一位审核领导审核通过。");
      }
      if (d.status === "drafted" && !can("approver")) lines.push("稿件待审核领导审核。");
      if (d.close_request) {
        lines.push("关闭申请待审核：" + (d.close_request.approver_name || d.close_request.approver) + "申请关闭，理由：" + d.close_request.comment);
      }
      hint.replaceChildren();
      lines.forEach(function (t) { hint.appendChild(el("div", "msg", t)); });
      const escs = document.getElementById("inc-escalations");
      if (escs) {
        escs.replaceChildren();
        (d.escalations || []).slice().reverse().forEach(function (e) {
          const x = el("li", "esc" + (/:1$/.test(e.kind) ? " overdue" : ""));
          x.dataset.escKind = e.kind;
          x.appendChild(el("time", null, desk.fmtTime(e.at)));
          x.appendChild(el("span", null, e.message));
          const who = (e.recipients || []).map(function (p) { return p.name || p.username || p.phone; }).filter(Boolean);
          if (who.length) x.appendChild(el("div", "duty", "已通知：" + who.join("、") + (e.delivered ? "（" + e.delivered + "）" : "")));
          escs.appendChild(x);
        });
        if (!(d.escalations || []).length) escs.appendChild(el("li", "empty", "暂无"));
      }
      document.getElementById("manage").hidden = d.status === "closed";
      // a live update must not undo a choice the officer is making: the select follows only real level changes
      if (d.level !== shownLevel) { document.getElementById("level-select").value = d.level; shownLevel = d.level; }
      const posts = document.getElementById("posts");
      posts.replaceChildren();
      d.posts.forEach(function (p) {
        const x = el("li", "post s-" + (p.sentiment_label || ""));
        x.dataset.id = p.id;
        x.appendChild(el("div", "meta", (p.author || "") + " · " + (desk.platformName(p.platform) || desk.sourceName(p.source)) + " · " + desk.fmtTime(p.created_at) +
          (p.rumour_score >= 0.6 ? " · 疑似谣言" : "") + (p.author_type === "gov" ? " · 官方" : "")));
        if (p.title) x.appendChild(el("div", "title", p.title));
        x.appendChild(el("div", "text", p.text));
        posts.appendChild(x);
      });
      const alerts = document.getElementById("alerts");
      alerts.replaceChildren();
      d.alerts.forEach(function (a) { alerts.appendChild(li("post", [el("div", "text", a.alert_id + " " + (a.rule || "") + "：" + (a.reason || ""))])); });
      const cur = document.getElementById("draft-current");
      cur.replaceChildren();
      const drafts = d.drafts.slice().reverse();
      drafts.slice(0, 3).forEach(function (dr) {
        const box = el("div", "draft");
        box.dataset.status = dr.status;
        box.appendChild(el("h3", null, "第 " + dr.number + " 稿 · " + (DRAFT_ZH[dr.status] || dr.status) + " · " + (dr.author_name || dr.author)));
        box.appendChild(el("div", null, "微博（" + dr.weibo_length + " 字）："));
        box.appendChild(el("div", "preview weibo-preview", dr.weibo_text));
        box.appendChild(el("div", null, "公众号：" + dr.wechat_title + " ｜ 摘要：" + dr.wechat_digest));
        const ck = dr.check || {};
        const f = ck.findings || [];
        box.appendChild(el("div", "msg " + (f.length ? "err" : "ok"), f.length ? "核查发现 " + f.length + " 处需核实：" : "核查：未发现与官方发布或谣言的冲突"));
        const ul = el("ul", "findings");
        f.forEach(function (x) { ul.appendChild(el("li", "finding " + x.kind, x.message)); });
        box.appendChild(ul);
        cur.appendChild(box);
      });
      const appr = document.getElementById("approvals");
      appr.replaceChildren();
      d.approvals.forEach(function (a) {
        if (a.kind === "close_request") {
          appr.appendChild(el("li", null, (a.decision === "pending" ? "… " : a.decision === "approved" ? "✔ " : "✘ ") + (a.approver_name || a.approver) +
            " 申请关闭 · " + desk.fmtTime(a.at) + " · " + a.comment + (a.decision === "pending" ? "（待审核）" : a.decision === "approved" ? "（已批准）" : "（已驳回）")));
          return;
        }
        appr.appendChild(el("li", null, (a.decision === "approved" ? "✔ " : "✘ ") + (a.approver_name || a.approver) + (a.kind === "close" ? (a.decision === "approved" ? " 批准关闭" : " 驳回关闭申请") : " 审核") +
          " · " + desk.fmtTime(a.at) + (a.comment ? " · " + a.comment : "")));
      });
      const pubs = document.getElementById("publications");
      pubs.replaceChildren();
      d.publications.forEach(function (p) {
        const x = el("li", "pub");
        x.dataset.channel = p.channel;
        x.dataset.status = p.status;
        x.dataset.mode = p.mode || "api";
        if (p.mode === "demo") x.appendChild(el("span", "tag demo", "演示"));
        if (p.mode === "manual") x.appendChild(el("span", "tag", "手工发布"));
        x.appendChild(el("span", null, (p.channel === "weibo" ? "微博" : "公众号") + (p.status === "published" ? " 已发布 " : " 失败：" + p.error) + " "));
        if (p.url) { const a = el("a", null, p.url); a.href = p.url; a.rel = "noopener"; a.target = "_blank"; x.appendChild(a); }
        else if (p.status === "published" && p.publish_mode === "mass") x.appendChild(el("span", null, "群发任务 " + p.remote_id));
        if (p.gone_at) x.appendChild(el("span", "tag neg", " 已失效 " + desk.fmtTime(p.gone_at)));
        else if (p.verified_at) { const v = el("span", "tag pos", " 已上线"); v.title = p.verified_how || ""; x.appendChild(v); }
        if (p.mode === "manual") {
          const s = p.snapshot || {};
          x.appendChild(el("div", "t", "发布人 " + (p.published_by || "") + " · " + desk.fmtTime(p.published_at) +
            (s.sha256 ? " · 快照 sha256 " + s.sha256.slice(0, 16) : "") + (s.error ? " · 快照：" + s.error : "")));
        }
        if (p.status !== "published" && p.detail) x.appendChild(el("div", "t detail", "管理员：" + p.detail));
        pubs.appendChild(x);
      });
      const notes = document.getElementById("notes");
      notes.replaceChildren();
      d.notes.forEach(function (n) { notes.appendChild(el("li", null, (n.author_name || n.author) + " · " + desk.fmtTime(n.at) + "：" + n.text)); });
      const tl = document.getElementById("timeline");
      tl.replaceChildren();
      d.timeline.forEach(function (e) {
        tl.appendChild(li(null, [el("span", "t", desk.fmtTime(e.at)), el("span", null, e.actor_name + " " + e.action_zh),
          el("span", "t", " #" + e.seq + " " + e.hash)]));
      });
    }
    function reload() {
      return fetch(API + "/" + id).then(function (r) { return r.json(); }).then(render);
    }
    function act(name, extra) {
      const body = Object.assign({ version: inc.version }, extra || {});
      say(msg, "处理中…", true);
      return call(API + "/" + id + "/" + name, body).then(function (res) {
        if (res.ok && res.data.close_requested) {
          render(res.data);
          say(msg, "已提交关闭申请，待审核领导批准（已通知审核领导）", true);
        } else if (res.ok) {
          render(res.data);
          say(msg, "已完成：" + (DONE_ZH[name] || (document.querySelector("[data-act='" + name + "']") || { textContent: name }).textContent), true);
        } else if (res.status === 409) {
          say(msg, res.data.error, false);  // the officer's input stays in the form
          reload();
        } else {
          say(msg, res.data.error || ("失败（HTTP " + res.status + "）"), false);
          reload();
        }
        return res;
      });
    }
    document.querySelectorAll("#actions [data-act]").forEach(function (b) {
      b.addEventListener("click", function () {
        const name = b.dataset.act;
        let extra = {};
        if (name === "reject") { const c = window.prompt("退回意见："); if (!c) return; extra.comment = c; }
        if (name === "close-request/decline") { const c = window.prompt("驳回关闭申请的意见："); if (!c) return; extra.comment = c; }
        if (name === "close") {
          if (!inc.published_at) { const r = window.prompt("尚未发布回应。请填写关闭理由（须审核领导批准）："); if (!r) return; extra.reason = r; }
          else if (!window.confirm("确认关闭事件？")) return;
        }
        if (name === "verify") {
          call(API + "/" + id + "/verify", {}).then(function (res) {
            render(res.data);
            say(msg, res.data.verify && res.data.verify.all ? "双微均已上线" : "平台尚未确认全部发布上线，稍后自动再核验", !!(res.data.verify && res.data.verify.all));
          });
          return;
        }
        act(name, extra);
      });
    });
    const assignForm = document.getElementById("assign-form");
    assignForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      const body = { assignee: assignForm.assignee.value, department: assignForm.department.value.trim() };
      if (!body.assignee && !body.department) { say(msg, "请选择承办人或填写责任单位", false); return; }
      act("assign", body).then(function (res) { if (res.ok) { assignForm.reset(); } });
    });
    const levelForm = document.getElementById("level-form");
    levelForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      const level = levelForm.level.value;
      if (level === inc.level) { say(msg, "级别未改变", false); return; }
      act("level", { level: level }).then(function (res) {
        if (!res.ok) levelForm.level.value = inc.level;  // refused: show the level the incident has
      });
    });
    const form = document.getElementById("draft-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      act("drafts", { title: form.title.value, text: form.text.value, topics: form.topics.value });
    });
    document.getElementById("draft-check").addEventListener("click", function () {
      call(API + "/" + id + "/check", { title: form.title.value, text: form.text.value }).then(function (res) {
        const f = res.data.findings || [];
        say(msg, f.length ? f.map(function (x) { return x.message; }).join("\n") : "未发现冲突", !f.length);
      });
    });
    document.getElementById("note-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      const t = document.getElementById("note-text");
      call(API + "/" + id + "/notes", { text: t.value }).then(function (res) {
        if (res.ok) { t.value = ""; render(res.data); } else { say(msg, res.data.error, false); }
      });
    });
    render(inc);
    desk.socket.on("incident", function (ev) {
      if (ev && ev.incident && String(ev.incident.id) === String(id)) reload();
    });
  }

  // -- the dashboard's 待处置事件 panel ---------------------------------------------------------------
  function panel(box) {
    function render(list) {
      list = list.slice().sort(function (a, b) { return nextDue(a) - nextDue(b) || b.id - a.id; });
      box.replaceChildren();
      if (!list.length) { box.appendChild(el("li", "meta", "暂无待处置事件")); return; }
      list.slice(0, 8).forEach(function (inc) {
        const li = el("li", "inc-item");
        li.dataset.id = inc.id;
        li.dataset.clockRow = "1";
        const head = el("div", "inc-head");
        const a = el("a", null, "#" + inc.id + " " + inc.title);
        a.href = "/incidents/" + inc.id;
        head.appendChild(a);
        head.appendChild(el("span", "lvl", inc.level));
        head.appendChild(el("span", "meta", inc.status_zh + " · " + (inc.department || "未匹配")));
        const tag = el("span", "overdue-tag", "已超时");
        tag.hidden = true;
        head.appendChild(tag);
        li.appendChild(head);
        const clocks = el("div", "inc-clocks");
        inc.clocks.forEach(function (c) { clocks.appendChild(clockNode(c)); });
        li.appendChild(clocks);
        paintRow(li);
        box.appendChild(li);
      });
      if (list.length > 8) {
        const more = el("a", null, "另有 " + (list.length - 8) + " 起，查看全部");
        more.href = "/incidents";
        box.appendChild(li("meta", [more]));
      }
    }
    function li(cls, parts) { const x = el("li", cls); parts.forEach(function (p) { x.appendChild(p); }); return x; }
    function load() {
      fetch(API).then(function (r) { return r.json(); }).then(function (d) { render(d.incidents || []); });
    }
    load();
    desk.socket.on("incident", load);
  }

  const ws = document.getElementById("incident-page");
  if (ws) workspace(ws);
  if (document.getElementById("incidents-page")) listPage();
  const dash = document.getElementById("incident-panel");
  if (dash) panel(dash);
})();
