// Kunding web app: the little JavaScript the pages use beyond htmx. Charts
// are drawn from the JSON in their data-chart attribute, so that no page
// needs an inline script and the Content-Security-Policy can forbid them.
(function () {
  "use strict";

  function drawPurchases(canvas) {
    if (!window.Chart || canvas.dataset.rendered) {
      return;
    }
    var d = JSON.parse(canvas.dataset.chart);
    var num = new Intl.NumberFormat(d.locale, { maximumFractionDigits: 2 });
    new window.Chart(canvas, {
      data: {
        labels: d.labels,
        datasets: [
          { type: "bar", label: d.ordersLabel, data: d.orders, yAxisID: "orders",
            backgroundColor: "#2b59c3", order: 2 },
          { type: "line", label: d.revenueLabel, data: d.revenue, yAxisID: "revenue",
            borderColor: "#a14a00", backgroundColor: "#a14a00", pointRadius: 3, tension: 0, order: 1 }
        ]
      },
      options: {
        locale: d.locale,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          orders: { type: "linear", position: "left", beginAtZero: true,
            ticks: { precision: 0 }, title: { display: true, text: d.ordersLabel } },
          revenue: { type: "linear", position: "right", beginAtZero: true,
            grid: { drawOnChartArea: false }, title: { display: true, text: d.revenueLabel },
            ticks: { callback: function (v) { return num.format(v); } } }
        }
      }
    });
    canvas.dataset.rendered = "true";
  }

  function init(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(drawPurchases);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // Content swapped in by htmx may bring charts too.
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
