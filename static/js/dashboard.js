// The live dashboard: feed of new posts, volume per minute (ECharts), sentiment counts and hot words.
(function () {
  "use strict";
  const desk = window.desk;
  const FEED_MAX = 200;
  const LABELS = { pos: "正面", neg: "负面", neutral: "中性", "": "未知" };
  const feed = document.getElementById("feed");
  const feedCount = document.getElementById("feed-count");
  let seen = 0;

  function postItem(p) {
    const li = desk.el("li", "post s-" + (p.sentiment_label || "none"));
    li.dataset.id = p.id;
    const meta = desk.el("div", "meta");
    meta.appendChild(desk.el("span", "time", desk.fmtTime(p.created_at)));
    meta.appendChild(desk.el("span", "src", desk.sourceName(p.source) + (p.platform ? " · " + desk.platformName(p.platform) : "")));
    if (p.author) meta.appendChild(desk.el("span", "author", p.author));
    meta.appendChild(desk.el("span", "tag " + (p.sentiment_label || ""), LABELS[p.sentiment_label || ""] || p.sentiment_label));
    desk.signalTags(p).forEach(function (t) { meta.appendChild(t); });
    // the event's label, as a rule's 对象 (query_key: topic) names it; the topic's own label churns as it grows
    const label = p.event_label || p.topic_label;
    if (label) meta.appendChild(desk.el("span", "topic", "事件：" + label));
    li.appendChild(meta);
    if (p.time_unknown) meta.appendChild(desk.el("span", "tag flag", "时间未知"));
    if (p.truncated) meta.appendChild(desk.el("span", "tag flag", "正文不全"));
    if (p.title) li.appendChild(desk.el("div", "title", p.title));
    const text = desk.el("a", "text", p.text); // the post's detail page: analysis, evidence, 立案
    text.href = "/posts/" + encodeURIComponent(p.id);
    li.appendChild(text);
    if (p.images && p.images.length) li.appendChild(imageStrip(p.images));
    const links = desk.el("div", "links");
    const detail = desk.el("a", "detail", "详情");
    detail.href = text.href;
    links.appendChild(detail);
    if (/^https?:\/\//i.test(p.url || "")) {
      const orig = desk.el("a", "orig", "原文");
      orig.href = p.url; orig.target = "_blank"; orig.rel = "noopener noreferrer";
      links.appendChild(orig);
    }
    li.appendChild(links);
    return li;
  }

  // a post's pictures (a notice posted as an image): one link each, named by its alt text, opening the original
  // (the desk's CSP loads no image from other sites, and a desk on an intranet may not reach them at all)
  function imageStrip(images) {
    const box = desk.el("div", "images");
    images.forEach(function (im, i) {
      if (!/^https?:\/\//i.test(im.url || "")) return; // never a javascript: or data: link
      const a = desk.el("a", "image", "图" + (i + 1) + (im.alt ? "：" + im.alt : ""));
      a.href = im.url; a.target = "_blank"; a.rel = "noopener noreferrer"; a.title = im.url;
      box.appendChild(a);
    });
    return box;
  }

  function addPosts(posts, prepend) {
    for (const p of posts) {
      if (feed.querySelector('li[data-id="' + CSS.escape(p.id) + '"]')) continue;
      const li = postItem(p);
      if (prepend) feed.insertBefore(li, feed.firstChild); else feed.appendChild(li);
      seen += 1;
    }
    while (feed.children.length > FEED_MAX) feed.removeChild(feed.lastChild);
    feedCount.textContent = "（本页已接收 " + seen + " 条）";
  }

  // volume chart: one bar per minute over the last hour
  const chart = echarts.init(document.getElementById("volume-chart"));
  const buckets = new Map(); // minute epoch ms -> count
  function minuteKey(iso) { const t = new Date(iso).getTime(); return t - (t % 60000); }
  function render() {
    const now = Date.now(), start = now - (now % 60000) - 59 * 60000;
    const xs = [], ys = [];
    for (let t = start; t <= now; t += 60000) {
      xs.push(new Date(t).toLocaleTimeString("zh-CN", { hour12: false, hour: "2-digit", minute: "2-digit", timeZone: desk.tz }));
      ys.push(buckets.get(t) || 0);
    }
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 16, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: xs },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: "信息量", type: "bar", data: ys, itemStyle: { color: "#c23531" } }],
    });
  }
  window.addEventListener("resize", function () { chart.resize(); });

  const sentiment = { pos: 0, neg: 0, neutral: 0 };
  function renderSentiment() {
    for (const k of Object.keys(sentiment)) {
      document.querySelector('#sentiment-summary b[data-k="' + k + '"]').textContent = sentiment[k];
    }
  }
  function loadHotWords() {
    fetch("/api/v1/stats/top?field=keywords&n=10&minutes=60").then(r => r.json()).then(function (d) {
      const ol = document.getElementById("hot-words");
      ol.textContent = "";
      for (const [term, n] of d.terms || []) ol.appendChild(desk.el("li", null, term + "（" + n + "）"));
    }).catch(function () {});
  }

  function load() {
    fetch("/api/v1/posts?size=50&minutes=1440").then(r => r.json()).then(function (d) { addPosts(d.posts || [], false); });
    fetch("/api/v1/stats/volume?interval=1m&minutes=60").then(r => r.json()).then(function (d) {
      for (const [t, n] of d.buckets || []) buckets.set(minuteKey(t), n);
      render();
    });
    fetch("/api/v1/stats/top?field=sentiment_label&n=5&minutes=60").then(r => r.json()).then(function (d) {
      for (const [k, n] of d.terms || []) if (k in sentiment) sentiment[k] = n;
      renderSentiment();
    });
    loadHotWords();
  }

  desk.socket.on("posts", function (posts) {
    addPosts(posts, true);
    for (const p of posts) {
      const k = minuteKey(p.created_at);
      buckets.set(k, (buckets.get(k) || 0) + 1);
      if (p.sentiment_label in sentiment) sentiment[p.sentiment_label] += 1;
    }
    render();
    renderSentiment();
  });
  render();
  load();
  document.addEventListener("desk:resync", function () { feed.textContent = ""; load(); }); // missed too much live
  setInterval(render, 30000);
  setInterval(loadHotWords, 60000);
})();
