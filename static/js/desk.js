// Shared by every desk page: the Socket.IO connection to /desk, the connection badge and the clock.
(function () {
  "use strict";
  const desk = (window.desk = window.desk || {});
  // Times are shown in the desk's zone ([desk] timezone), which the server puts in <meta name="desk-tz">.
  const tzMeta = document.querySelector('meta[name="desk-tz"]');
  desk.tz = (tzMeta && tzMeta.content) || "Asia/Shanghai";
  desk.tzLabel = (tzMeta && tzMeta.dataset.label) || "北京时间";
  // Names a person reads (opinion_desk/display.py): 微博 for "weibo", a source's title for its slug.
  const namesEl = document.getElementById("desk-names");
  desk.names = namesEl ? JSON.parse(namesEl.textContent) : { platforms: {}, sources: {} };
  desk.platformName = function (slug) { return slug ? (desk.names.platforms[slug] || slug) : ""; };
  desk.sourceName = function (name) { return name ? (desk.names.sources[name] || name) : ""; };
  desk.fmtTime = function (iso, opts) {
    const d = new Date(iso);
    return d.toLocaleString("zh-CN", Object.assign({ hour12: false }, opts || {}, { timeZone: desk.tz }));
  };
  // Text from posts is untrusted: always set it with textContent, never innerHTML.
  desk.el = function (tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  // A post's signal tags in every list: 诉求 (a complaint or request to answer, analyzers/rumour.py appeal cues)
  // comes first and is never also a rumour; one post's text score is only a 谣言线索 (a cue) — 疑似谣言 is the
  // event-level judgement of the rumour rule (spread, doubt replies, no official answer), shown on its alert.
  desk.RUMOUR_CUE = 0.7; // as the shipped rumour rule (rules/30-rumour.yaml threshold)
  desk.APPEAL = 0.5; // as the rumour rule's appeal_threshold
  desk.signalTags = function (p) {
    const tags = [];
    if (typeof p.complaint_score === "number" && p.complaint_score >= desk.APPEAL) {
      tags.push(desk.el("span", "tag appeal", "诉求"));
    } else if (typeof p.rumour_score === "number" && p.rumour_score >= desk.RUMOUR_CUE && p.author_type !== "gov") {
      const t = desk.el("span", "tag rumour", "谣言线索 " + Math.round(p.rumour_score * 100) + "%");
      const why = (p.rumour_reasons && p.rumour_reasons.length ? p.rumour_reasons : p.rumour_cues) || [];
      if (why.length) t.title = "依据：" + why.map(function (r) { return typeof r === "string" ? r : JSON.stringify(r); }).join("；");
      tags.push(t);
    }
    return tags;
  };
  // Every state-changing fetch from a page carries the session's CSRF token (see opinion_desk/web/auth.py).
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  desk.csrf = csrfMeta ? csrfMeta.content : "";
  const rawFetch = window.fetch.bind(window);
  window.fetch = desk.fetch = function (url, opts) {
    opts = Object.assign({ credentials: "same-origin" }, opts || {});
    const method = (opts.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      opts.headers = new Headers(opts.headers || {});
      if (!opts.headers.has("X-CSRF-Token")) opts.headers.set("X-CSRF-Token", desk.csrf);
    }
    return rawFetch(url, opts);
  };
  desk.socket = io("/desk", { transports: ["websocket", "polling"] });
  // Replay after a reconnect (opinion_desk/livefeed.py): every live event ends with {seq, epoch}; a reconnect sends
  // the last one seen and gets what it missed, in order. "resync" (gap too old, or the desk restarted) fires the
  // document event "desk:resync", on which pages reload their data through the REST API.
  (function () {
    let last = null;
    function note(m) { if (m && typeof m.seq === "number" && m.epoch) last = { epoch: m.epoch, seq: m.seq }; }
    desk.socket.auth = function (cb) { cb(last ? { epoch: last.epoch, seq: last.seq } : {}); };
    desk.socket.onAny(function () { note(arguments[arguments.length - 1]); });
    desk.socket.on("resync", function () { document.dispatchEvent(new CustomEvent("desk:resync")); });
    desk.livePosition = function () { return last; };
  })();
  const conn = document.getElementById("conn");
  desk.socket.on("connect", function () {
    conn.textContent = "● 实时连接";
    conn.className = "conn on";
    document.body.dataset.live = "1";
  });
  desk.socket.on("disconnect", function () {
    conn.textContent = "● 连接中断";
    conn.className = "conn off";
    document.body.dataset.live = "0";
  });
  const clock = document.getElementById("clock");
  function tick() { clock.textContent = desk.fmtTime(Date.now()); }
  if (clock) clock.title = desk.tzLabel;
  tick();
  setInterval(tick, 1000);
})();
