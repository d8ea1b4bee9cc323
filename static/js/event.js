// 事件传播路径: the repost graph (ECharts force layout) and the time axis, from /api/v1/events/<id>/propagation.
(function () {
  "use strict";
  const page = document.getElementById("event-page");
  const topic = page.dataset.topicId;
  const COLORS = ["#b91c1c", "#9ca3af", "#d1d5db", "#1d4ed8"];
  const CATS = [{ name: "首发" }, { name: "转发/回复" }, { name: "转发链上的用户" }, { name: "政务" }];
  const VIA = { chain: "//@ 转发链", repost: "转发", reply: "回复" };
  const graphEl = document.getElementById("propagation-graph");
  const timeEl = document.getElementById("propagation-time");
  const graph = echarts.init(graphEl);
  const time = echarts.init(timeEl);
  window.addEventListener("resize", function () { graph.resize(); time.resize(); });

  function drawGraph(d) {
    const nodes = d.nodes.map(function (n) {
      return { id: n.id, name: n.name, value: n.value, symbolSize: n.size, category: n.category,
               label: { show: d.nodes.length <= 60 || n.category === 0 || n.children > 0 }, tooltip: { formatter: function () {
                 return [n.name, n.time, "传播量 " + n.value, n.text].filter(Boolean).map(escape).join("<br>");
               } }, postId: n.id.charAt(0) === "@" ? "" : n.id };
    });
    const links = d.edges.map(function (e) { return { source: e.source, target: e.target, via: VIA[e.via] || e.via }; });
    graph.setOption({
      animation: false,
      color: COLORS,
      tooltip: {},
      legend: [{ data: CATS.map(function (c) { return c.name; }), top: 0, type: "scroll" }],
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true, categories: CATS, data: nodes, links: links,
        top: 36, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 7,
        zoom: nodes.length < 40 && graphEl.clientWidth > 600 ? 1.6 : 1,
        force: { repulsion: nodes.length < 40 ? 260 : 120, edgeLength: nodes.length < 40 ? [50, 110] : [30, 90],
                 gravity: 0.06 },
        label: { position: "right", fontSize: 11 }, lineStyle: { color: "#9ca3af", opacity: 0.8, curveness: 0.1 },
      }],
    });
    graph.on("click", function (ev) {
      if (ev.dataType === "node" && ev.data.postId) window.location.href = "/posts/" + encodeURIComponent(ev.data.postId);
    });
    graphEl.dataset.nodes = String(nodes.length);
    graphEl.dataset.edges = String(links.length);
  }

  function drawTime(d) {
    time.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: ["新增", "累计"], top: 0 },
      grid: { left: 40, right: 40, top: 30, bottom: 28 },
      xAxis: { type: "category", data: d.timeline.map(function (b) { return b.t; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", minInterval: 1 }],
      series: [
        { name: "新增", type: "bar", data: d.timeline.map(function (b) { return b.n; }), itemStyle: { color: "#c23531" } },
        { name: "累计", type: "line", yAxisIndex: 1, data: d.timeline.map(function (b) { return b.total; }) },
      ],
    });
  }

  function escape(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  fetch("/api/v1/events/" + encodeURIComponent(topic) + "/propagation").then(function (r) { return r.json(); })
    .then(function (d) {
      drawGraph(d);
      drawTime(d);
      document.body.dataset.drawn = "1";
    })
    .catch(function () { graphEl.textContent = "传播路径加载失败，请刷新重试。"; });
})();
