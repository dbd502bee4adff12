// Cases: the status form shows the field a move needs (resolution note to
// solve, reason to reject, target to merge) and makes it required; the
// figures page draws its charts from the JSON in data-case-chart.
(function () {
  "use strict";

  function moveForm(root) {
    root.querySelectorAll("#move-status").forEach(function (sel) {
      var form = sel.form;
      function sync() {
        form.querySelectorAll(".when").forEach(function (box) {
          var on = box.dataset.when === sel.value;
          box.hidden = !on;
          box.querySelectorAll("textarea, input").forEach(function (f) { f.required = on; });
        });
      }
      sel.addEventListener("change", sync);
      sync();
    });
  }

  var colors = ["#2b59c3", "#2e7d32", "#7b1fa2", "#a14a00", "#00838f", "#8a1c1c"];

  function series(canvas, d) {
    var datasets = d.sets.map(function (s, i) {
      var c = colors[i % colors.length];
      return { type: s.type, label: s.label, data: s.data, yAxisID: s.axis, borderColor: c, backgroundColor: s.type === "bar" ? "rgba(43,89,195,0.35)" : c,
        pointRadius: 2, tension: 0, order: s.type === "bar" ? 2 : 1 };
    });
    new window.Chart(canvas, {
      data: { labels: d.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: d.axes.count } },
          share: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: d.axes.share } },
          hours: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: d.axes.hours } }
        }
      }
    });
  }

  function backlog(canvas, d) {
    var shades = ["#9ec5fe", "#6ea8fe", "#3d8bfd", "#0a58ca", "#052c65"];
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: d.labels, datasets: d.sets.map(function (s, i) { return { label: s.label, data: s.data, backgroundColor: shades[i % shades.length] }; }) },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: d.axes.count } } }
      }
    });
  }

  function charts(root) {
    if (!window.Chart) {
      return;
    }
    root.querySelectorAll("canvas[data-case-chart]").forEach(function (c) {
      if (c.dataset.rendered) {
        return;
      }
      var d = JSON.parse(c.dataset.caseChart);
      if (d.kind === "backlog") { backlog(c, d); } else { series(c, d); }
      c.dataset.rendered = "true";
    });
  }

  function init(root) { moveForm(root); charts(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
