// 检索 page: reads the form's query string, asks /api/v1/search, lists the posts (each linking to its detail page
// and its original), pages through them and offers the same search as CSV.
(function () {
  "use strict";
  const desk = window.desk;
  const LABELS = { pos: "正面", neg: "负面", neutral: "中性" };
  const AUTHOR = { gov: "政务", media: "媒体", verified: "认证用户", user: "普通用户" };
  const list = document.getElementById("search-results");
  const total = document.getElementById("search-total");
  const msg = document.getElementById("search-msg");
  const pager = document.getElementById("search-pager");
  const exportLink = document.getElementById("search-export");
  const form = document.getElementById("search-form");

  function params() {
    const p = new URLSearchParams(window.location.search);
    for (const [k, v] of Array.from(p.entries())) if (!v) p.delete(k);
    return p;
  }

  function item(p) {
    const li = desk.el("li", "post s-" + (p.sentiment_label || "none"));
    li.dataset.id = p.id;
    const meta = desk.el("div", "meta");
    meta.appendChild(desk.el("span", "time", p.local_time));
    meta.appendChild(desk.el("span", "src", desk.sourceName(p.source)));
    if (p.author) meta.appendChild(desk.el("span", "author", p.author + (p.author_type ? "（" + (AUTHOR[p.author_type] || p.author_type) + "）" : "")));
    if (p.sentiment_label) meta.appendChild(desk.el("span", "tag " + p.sentiment_label, LABELS[p.sentiment_label] || p.sentiment_label));
    desk.signalTags(p).forEach(function (t) { meta.appendChild(t); });
    meta.appendChild(desk.el("span", "reach", "传播量 " + p.reach));
    if (p.topic_id) {
      const a = desk.el("a", "topic", "事件：" + (p.topic_label || p.topic_id));
      a.href = "/events/" + encodeURIComponent(p.topic_id);
      meta.appendChild(a);
    }
    li.appendChild(meta);
    if (p.title) li.appendChild(desk.el("div", "title", p.title));
    const text = desk.el("a", "text", p.text);
    text.href = "/posts/" + encodeURIComponent(p.id);
    li.appendChild(text);
    const links = desk.el("div", "links");
    const detail = desk.el("a", "detail", "详情与证据");
    detail.href = "/posts/" + encodeURIComponent(p.id);
    links.appendChild(detail);
    if (/^https?:\/\//i.test(p.url || "")) {
      const orig = desk.el("a", "orig", "原文链接");
      orig.href = p.url; orig.target = "_blank"; orig.rel = "noopener noreferrer";
      links.appendChild(orig);
    }
    li.appendChild(links);
    return li;
  }

  function pageLink(label, page, current) {
    const p = params();
    p.set("page", String(page));
    const a = desk.el("a", current ? "current" : null, label);
    a.href = "/search?" + p.toString();
    if (current) a.setAttribute("aria-current", "page");
    return a;
  }

  // the store counts a search up to 10,000 posts (as search engines do): past that, "约 1万+ 条"
  function countText(d) {
    if (d.exact !== false) return "共 " + d.total + " 条";
    return "约 " + (d.total >= 10000 && d.total % 10000 === 0 ? d.total / 10000 + "万" : d.total) + "+ 条";
  }

  function renderPager(d) {
    pager.textContent = "";
    if (d.pages <= 1) return;
    if (d.page > 1) pager.appendChild(pageLink("上一页", d.page - 1, false));
    const lo = Math.max(1, d.page - 2), hi = Math.min(d.pages, d.page + 2);
    for (let i = lo; i <= hi; i++) pager.appendChild(pageLink(String(i), i, i === d.page));
    if (d.page < d.pages) pager.appendChild(pageLink("下一页", d.page + 1, false));
  }

  function load() {
    const p = params();
    const exportParams = new URLSearchParams(p);
    exportParams.delete("page");
    exportLink.href = "/search/export.csv" + (exportParams.toString() ? "?" + exportParams.toString() : "");
    msg.textContent = "检索中…";
    msg.className = "";
    fetch("/api/v1/search?" + p.toString()).then(function (r) {
      return r.json().then(function (d) { return { ok: r.ok, d: d }; });
    }).then(function (res) {
      list.textContent = "";
      if (!res.ok) {
        msg.textContent = "检索条件有误：" + (res.d.reason || res.d.error || "请检查");
        msg.className = "msg err";
        total.textContent = "";
        pager.textContent = "";
        return;
      }
      const d = res.d;
      const wider = d.range && d.range !== "all" && d.range !== "custom";
      msg.textContent = d.total ? "" : "没有找到符合条件的信息。" + (wider ? "（当前为" + d.range_label + "，可在「时间范围」选全部时间）" : "");
      total.textContent = "（" + (wider ? d.range_label + "，" : "") + countText(d) + "，第 " + d.page + "/" + d.pages + " 页）";
      for (const p of d.posts) list.appendChild(item(p));
      renderPager(d);
      document.body.dataset.searched = "1";
    }).catch(function () {
      msg.textContent = "检索失败：无法连接值班台，请稍后重试。";
      msg.className = "msg err";
    });
  }

  // a changed filter searches at once (the words wait for 检索 / Enter)
  form.addEventListener("change", function (e) {
    if (e.target.name === "range" && e.target.value !== "custom") {  // a range chosen replaces typed times
      form.elements.since.value = "";
      form.elements.until.value = "";
    }
    if (e.target.name && e.target.name !== "q") form.requestSubmit();
  });
  load();
})();
