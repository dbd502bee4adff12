// The importance–performance matrix (Martilla & James 1977), drawn from the
// JSON in data-matrix: a scatter of the touchpoints with the quadrant
// borders at the means, the quadrant names in the corners, tooltips with
// the recommendation, arrows from the comparison period's position, and a
// click on a point opens the touchpoint. Everything is also in the table.
(function () {
  "use strict";
  var colours = { 0: "#8a1c1c", 1: "#14532d", 2: "#555d6b", 3: "#92400e" };
  function draw(canvas) {
    var d = JSON.parse(canvas.dataset.matrix);
    var num = new Intl.NumberFormat(d.locale, { maximumFractionDigits: 2 });
    var pts = d.points || [];
    var names = d.quadrants;
    function colour(p) { var i = names.indexOf(p.quadrant); return colours[i] || "#2b59c3"; }
    var borders = {
      id: "borders",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x, y = chart.scales.y, c = chart.ctx, a = chart.chartArea;
        c.save();
        c.strokeStyle = "#8b93a1"; c.setLineDash([6, 4]); c.lineWidth = 1;
        var px = x.getPixelForValue(d.xMean), py = y.getPixelForValue(d.yMean);
        c.beginPath(); c.moveTo(px, a.top); c.lineTo(px, a.bottom); c.moveTo(a.left, py); c.lineTo(a.right, py); c.stroke();
        c.setLineDash([]);
        c.font = "600 12px system-ui, sans-serif"; c.fillStyle = "#555d6b";
        c.textAlign = "left"; c.fillText(names[0], a.left + 6, a.top + 14);
        c.textAlign = "right"; c.fillText(names[1], a.right - 6, a.top + 14);
        c.textAlign = "left"; c.fillText(names[2], a.left + 6, a.bottom - 6);
        c.textAlign = "right"; c.fillText(names[3], a.right - 6, a.bottom - 6);
        // Arrows from the earlier period's position.
        c.strokeStyle = "#2b59c3"; c.fillStyle = "#2b59c3"; c.lineWidth = 1.5;
        pts.forEach(function (p) {
          if (!p.prev) { return; }
          var x0 = x.getPixelForValue(p.prev[0]), y0 = y.getPixelForValue(p.prev[1]);
          var x1 = x.getPixelForValue(p.x), y1 = y.getPixelForValue(p.y);
          if (Math.abs(x1 - x0) + Math.abs(y1 - y0) < 2) { return; }
          c.beginPath(); c.moveTo(x0, y0); c.lineTo(x1, y1); c.stroke();
          var ang = Math.atan2(y1 - y0, x1 - x0);
          c.beginPath(); c.moveTo(x1, y1);
          c.lineTo(x1 - 9 * Math.cos(ang - 0.4), y1 - 9 * Math.sin(ang - 0.4));
          c.lineTo(x1 - 9 * Math.cos(ang + 0.4), y1 - 9 * Math.sin(ang + 0.4));
          c.closePath(); c.fill();
        });
        c.restore();
      }
    };
    var xs = pts.map(function (p) { return p.x; }).concat([d.xMean]);
    var ys = pts.map(function (p) { return p.y; }).concat([d.yMean]);
    pts.forEach(function (p) { if (p.prev) { xs.push(p.prev[0]); ys.push(p.prev[1]); } });
    function pad(v, lo, hi) {
      var mn = Math.min.apply(null, v), mx = Math.max.apply(null, v), s = (mx - mn) || 1;
      // Round outwards to a tenth of the scale, so that the ticks are even.
      var step = hi > 10 ? 10 : 0.1;
      return { min: Math.max(lo, Math.floor((mn - 0.1 * s) / step) * step), max: Math.min(hi, Math.ceil((mx + 0.1 * s) / step) * step) };
    }
    var xr = pad(xs, 0, 100), yr = d.yLabel && Math.max.apply(null, ys) > 1.5 ? pad(ys, 0, 100) : pad(ys, -1, 1);
    new window.Chart(canvas, {
      type: "scatter",
      data: { datasets: [{ data: pts, pointRadius: 7, pointHoverRadius: 9,
        backgroundColor: pts.map(colour), borderColor: pts.map(colour) }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) {
            var p = ctx.raw;
            var lines = [p.name + ": " + d.xLabel + " " + num.format(p.x) + ", " + d.yLabel + " " + num.format(p.y), p.quadrant + " — " + p.advice];
            if (p.prev) { lines.push(d.previousLabel + ": " + num.format(p.prev[0]) + " / " + num.format(p.prev[1])); }
            return lines;
          } } }
        },
        scales: {
          x: { min: xr.min, max: xr.max, title: { display: true, text: d.xLabel } },
          y: { min: yr.min, max: yr.max, title: { display: true, text: d.yLabel } }
        },
        onClick: function (e, els) {
          if (els.length) { window.location.href = "/touchpoints/" + encodeURIComponent(pts[els[0].index].id); }
        },
        onHover: function (e, els) { e.native.target.style.cursor = els.length ? "pointer" : "default"; }
      },
      plugins: [borders]
    });
  }
  function init() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-matrix]").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", init);
})();
