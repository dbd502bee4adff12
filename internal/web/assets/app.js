// Kunding web app: the little JavaScript the pages use beyond htmx. Charts
// are drawn from the JSON in their data-chart attribute, so that no page
// needs an inline script and the Content-Security-Policy can forbid them.
(function () {
  "use strict";

  function drawPurchases(canvas, d) {
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

  // drawTracking draws cumulative repeat transactions: the actual line
  // solid, each model's forecast dashed, the calibration end as a vertical
  // dashed line.
  function drawTracking(canvas, d) {
    var colors = ["#a14a00", "#2e7d32", "#7b1fa2"];
    var num = new Intl.NumberFormat(d.locale, { maximumFractionDigits: 1 });
    var datasets = d.series.map(function (s, i) {
      var c = s.actual ? "#2b59c3" : colors[(i - 1 + colors.length) % colors.length];
      return { type: "line", label: s.label, data: s.data, borderColor: c, backgroundColor: c,
        borderWidth: s.actual ? 3 : 2, borderDash: s.actual ? [] : [6, 4], pointRadius: 0, tension: 0 };
    });
    var calEnd = {
      id: "calibrationEnd",
      afterDatasetsDraw: function (chart) {
        if (d.calibrationIndex < 0) {
          return;
        }
        var x = chart.scales.x.getPixelForValue(d.calibrationIndex), area = chart.chartArea, ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#555";
        ctx.fillStyle = "#333";
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        ctx.fillText(d.calibrationLabel, x + 4, area.top + 12);
        ctx.restore();
      }
    };
    new window.Chart(canvas, {
      data: { labels: d.labels, datasets: datasets },
      plugins: [calEnd],
      options: {
        locale: d.locale,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { title: { display: true, text: d.xLabel }, ticks: { maxTicksLimit: 14 } },
          y: { beginAtZero: true, title: { display: true, text: d.yLabel },
            ticks: { callback: function (v) { return num.format(v); } } }
        }
      }
    });
  }

  function draw(canvas) {
    if (!window.Chart || canvas.dataset.rendered) {
      return;
    }
    var d = JSON.parse(canvas.dataset.chart);
    if (d.kind === "tracking") {
      drawTracking(canvas, d);
      canvas.dataset.rendered = "true";
      return;
    }
    drawPurchases(canvas, d);
  }

  function init(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // Content swapped in by htmx may bring charts too.
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
