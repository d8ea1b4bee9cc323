// 帖子详情 actions: 立案 from this post (POST /api/v1/incidents with its id), add it to an open incident
// (POST /api/v1/posts/<id>/incident) or mark it as one's official answer (POST /api/v1/posts/<id>/official-answer).
(function () {
  "use strict";
  const desk = window.desk;
  const page = document.getElementById("post-page");
  const openBtn = document.getElementById("open-incident");
  if (!page || !openBtn) return; // a reader without the duty role sees no actions
  const postId = page.dataset.postId;
  const msg = document.getElementById("action-msg");

  function say(text, ok) { msg.textContent = text; msg.className = "msg " + (ok ? "ok" : "err"); }
  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, d: d }; }); });
  }

  openBtn.addEventListener("click", function () {
    openBtn.disabled = true;
    post("/api/v1/incidents", { title: page.dataset.title, post_ids: [postId] }).then(function (res) {
      if (!res.ok) { openBtn.disabled = false; say("立案失败：" + (res.d.error || "请重试"), false); return; }
      say("已立案：事件 #" + res.d.id + "，正在打开…", true);
      window.location.href = "/incidents/" + res.d.id;
    }).catch(function () { openBtn.disabled = false; say("立案失败：无法连接值班台", false); });
  });

  const select = document.getElementById("attach-incident");
  const form = document.getElementById("attach-form");
  const answerBtn = document.getElementById("official-answer");
  fetch("/api/v1/incidents").then(function (r) { return r.json(); }).then(function (d) {
    select.textContent = "";
    const incs = (d.incidents || []).filter(function (inc) { return inc.status !== "closed"; });
    select.appendChild(desk.el("option", null, incs.length ? "选择事件…" : "（没有处置中的事件）")).value = "";
    for (const inc of incs) {
      const o = desk.el("option", null, "#" + inc.id + " " + inc.title + "（" + (inc.status_zh || inc.status) + "）");
      o.value = inc.id;
      select.appendChild(o);
    }
  }).catch(function () { select.textContent = ""; });

  function act(path, done, btn) {
    const id = select.value;
    if (!id) { say("请先选择事件", false); return; }
    btn.disabled = true;
    post("/api/v1/posts/" + encodeURIComponent(postId) + path, { incident_id: Number(id) }).then(function (res) {
      btn.disabled = false;
      if (!res.ok) { say("未完成：" + (res.d.error || "请重试"), false); return; }
      say(done(id, res.d), true);
    }).catch(function () { btn.disabled = false; say("未完成：无法连接值班台", false); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    act("/incident", function (id) { return "已加入事件 #" + id + "，证据快照已留存"; },
        document.getElementById("add-to-incident"));
  });
  answerBtn.addEventListener("click", function () {
    act("/official-answer", function (id, d) {
      return "已登记为事件 #" + id + " 的官方回应" + (d.published ? "（两个渠道均已发布）" : "");
    }, answerBtn);
  });
})();
