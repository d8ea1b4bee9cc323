// 信息源 page: the health table, live over the "source" Socket.IO event, with a sparkline of the recent runs.
// Every text from a source (names, errors, notes) is set with textContent, never innerHTML.
(function () {
  "use strict";
  const LABEL = { ok: "正常", failing: "失败", auth: "登录失效", never: "未运行" };
  const SVG = "http://www.w3.org/2000/svg";
  const SLOTS = 30, BAR = 4, GAP = 1, HEIGHT = 22;
  const tbody = document.querySelector("#sources-table tbody");
  const KEYS = ["type", "status", "recent", "last_success", "last_items", "total_items", "failures_in_row",
                "last_error", "last_notes"];

  function cell(tr, k) { return tr.querySelector('[data-k="' + k + '"]'); }

  // One bar per run, newest on the right: height = items (relative to the busiest run), red = failed.
  function sparkline(recent) {
    const runs = (recent || []).slice(-SLOTS);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("width", SLOTS * (BAR + GAP));
    svg.setAttribute("height", HEIGHT);
    const failed = runs.filter(function (r) { return r.error; }).length;
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "最近 " + runs.length + " 次运行：成功 " + (runs.length - failed) + " 次，失败 " + failed + " 次");
    const max = Math.max(1, ...runs.map(function (r) { return r.items || 0; }));
    for (let i = 0; i < SLOTS; i++) {
      const r = runs[i - (SLOTS - runs.length)];
      const rect = document.createElementNS(SVG, "rect");
      let h = 2, cls = "slot";  // a slot without a run yet: a faint baseline
      if (r) {
        cls = r.error ? "bad" : (r.items ? "ok" : "empty");
        h = r.error ? HEIGHT : (r.items ? 6 + Math.round((r.items / max) * (HEIGHT - 6)) : 4);
        const title = document.createElementNS(SVG, "title");
        title.textContent = desk.fmtTime(r.at) + "  " + (r.error ? "失败：" + r.error : r.items + " 条") +
          (r.seconds != null ? "（" + r.seconds + " 秒）" : "");
        rect.appendChild(title);
      }
      rect.setAttribute("class", cls);
      rect.setAttribute("x", i * (BAR + GAP));
      rect.setAttribute("y", HEIGHT - h);
      rect.setAttribute("width", BAR);
      rect.setAttribute("height", h);
      svg.appendChild(rect);
    }
    return svg;
  }

  function newRow(name) {
    const tr = document.createElement("tr");
    tr.dataset.name = name;
    const first = desk.el("td");
    const label = desk.el("span", "label", name);
    label.dataset.k = "label";
    first.appendChild(label);
    tr.appendChild(first);
    KEYS.forEach(function (k) {
      const td = desk.el("td");
      if (k === "status") { const b = desk.el("span", "badge"); b.dataset.k = k; td.appendChild(b); }
      else td.dataset.k = k;
      if (k === "last_items" || k === "total_items" || k === "failures_in_row") td.className = "num";
      if (k === "last_error") td.className = "err";
      if (k === "last_notes") td.className = "notes";
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
    return tr;
  }

  // h: a row of /api/v1/sources (or, when that cannot be fetched, the health record of the event itself)
  function fill(h) {
    const tr = tbody.querySelector('tr[data-name="' + CSS.escape(h.name) + '"]') || newRow(h.name);
    const failures = h.failures_in_row || 0;
    tr.classList.toggle("alerting", failures > 0 && failures >= (h.alert_after || 3));
    if (h.label) cell(tr, "label").textContent = h.label;
    if (h.type_label || h.type) cell(tr, "type").textContent = h.type_label || h.type;
    const st = cell(tr, "status");
    st.className = "badge st-" + h.status;
    st.textContent = LABEL[h.status] || h.status;
    tr.dataset.recent = JSON.stringify(h.recent || []);
    cell(tr, "recent").replaceChildren(sparkline(h.recent));
    cell(tr, "last_success").textContent = h.last_success ? desk.fmtTime(h.last_success) : "从未成功";
    cell(tr, "last_items").textContent = h.last_items || 0;
    cell(tr, "total_items").textContent = h.total_items || 0;
    cell(tr, "failures_in_row").textContent = failures;
    const err = cell(tr, "last_error");
    err.replaceChildren();
    if (failures) {
      err.appendChild(desk.el("div", "reason", h.reason || "采集失败"));
      err.appendChild(desk.el("div", "detail", h.detail !== undefined ? h.detail : (h.last_error || "")));
      if (h.backoff_until) err.appendChild(desk.el("div", "retry", "下次重试 " + desk.fmtTime(h.backoff_until)));
    }
    cell(tr, "last_notes").textContent = (h.last_notes || []).join("；");
    tr.dataset.updated = String(Date.now());
    recount();
  }

  function recount() {
    const counts = { all: 0, ok: 0, failing: 0, auth: 0, never: 0 };
    tbody.querySelectorAll("tr").forEach(function (tr) {
      counts.all++;
      const b = cell(tr, "status");
      const st = b && (b.className.match(/st-(\w+)/) || [])[1];
      if (st in counts) counts[st]++;
    });
    Object.keys(counts).forEach(function (k) {
      const b = document.querySelector('#src-summary [data-c="' + k + '"]');
      if (b) { b.textContent = counts[k]; b.classList.toggle("nz", counts[k] > 0); }
    });
  }

  desk.socket.on("source", function (h) {
    fetch("/api/v1/sources/" + encodeURIComponent(h.name))
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(fill)
      .catch(function () { fill(h); });
  });

  // the server-rendered rows: local times and sparklines
  tbody.querySelectorAll("tr").forEach(function (tr) {
    let recent = [];
    try { recent = JSON.parse(tr.dataset.recent || "[]"); } catch (e) { recent = []; }
    cell(tr, "recent").replaceChildren(sparkline(recent));
  });
  document.querySelectorAll("#sources-table [data-t]").forEach(function (el) {
    if (!el.dataset.t) return;
    el.textContent = (el.classList.contains("retry") ? "下次重试 " : "") + desk.fmtTime(el.dataset.t);
  });
})();
