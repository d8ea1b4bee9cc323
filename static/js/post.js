// 帖子详情 actions: 立案 from this post (POST /api/v1/incidents with its id), or note it on an open incident.
(function () {
  "use strict";
  const desk = window.desk;
  const page = document.getElementById("post-page");
  const openBtn = document.getElementById("open-incident");
  if (!page || !openBtn) return; // a reader without the duty role sees no actions
  const postId = page.dataset.postId;
  const msg = document.getElementById("action-msg");
  const select = document.getElementById("note-incident");
  const form = document.getElementById("note-form");

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

  fetch("/api/v1/incidents").then(function (r) { return r.json(); }).then(function (d) {
    select.textContent = "";
    const incs = d.incidents || [];
    select.appendChild(desk.el("option", null, incs.length ? "选择事件…" : "（没有处置中的事件）")).value = "";
    for (const inc of incs) {
      const o = desk.el("option", null, "#" + inc.id + " " + inc.title + "（" + (inc.status_zh || inc.status) + "）");
      o.value = inc.id;
      select.appendChild(o);
    }
  }).catch(function () { select.textContent = ""; });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    const id = select.value;
    if (!id) { say("请先选择事件", false); return; }
    const text = document.getElementById("post-text").textContent.slice(0, 200);
    post("/api/v1/incidents/" + encodeURIComponent(id) + "/notes",
         { text: "关联帖子 " + window.location.origin + "/posts/" + postId + "：" + text }).then(function (res) {
      if (!res.ok) { say("加入失败：" + (res.d.error || "请重试"), false); return; }
      say("已记入事件 #" + id + " 的备注", true);
    }).catch(function () { say("加入失败：无法连接值班台", false); });
  });
})();
