// Charts of the survey page, drawn from the JSON in data-survey-chart:
// the trend with its 95% interval as a band, and the distribution of
// scores. Everything is also on the page as tables.
(function () {
  "use strict";
  function trend(canvas, d) {
    var num = new Intl.NumberFormat(d.locale, { maximumFractionDigits: 1 });
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: d.labels,
        datasets: [
          { label: d.band, data: d.high, borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(43,89,195,0.18)", fill: "+1", spanGaps: true },
          { label: d.band + " ", data: d.low, borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(43,89,195,0.18)", fill: false, spanGaps: true },
          { label: d.label, data: d.value, borderColor: "#2b59c3", backgroundColor: "#2b59c3", borderWidth: 3, pointRadius: 3, fill: false, spanGaps: true }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { filter: function (item) { return item.datasetIndex !== 1; } } } },
        scales: { y: { min: d.yMin, max: d.yMax, ticks: { callback: function (v) { return num.format(v); } } } }
      }
    });
  }
  function dist(canvas, d) {
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: d.label, data: d.value, backgroundColor: "#2b59c3" }] },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  function init() {
    if (!window.Chart) {
      return;
    }
    document.querySelectorAll("canvas[data-survey-chart]").forEach(function (c) {
      var d = JSON.parse(c.dataset.surveyChart);
      if (d.kind === "trend") { trend(c, d); } else { dist(c, d); }
      c.dataset.rendered = "true";
    });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
