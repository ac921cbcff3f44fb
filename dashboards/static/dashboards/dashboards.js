// Draws each table's chart (Chart.js, served from our own static files) from the
// JSON the page carries beside the table; no inline script, as the CSP requires.
(function () {
  "use strict";

  var PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#dc2626", "#0891b2"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") {
      return null;
    }
    var spec = JSON.parse(source.textContent);
    spec.datasets.forEach(function (dataset, index) {
      var colour = PALETTE[index % PALETTE.length];
      dataset.backgroundColor = colour;
      dataset.borderColor = colour;
      dataset.pointRadius = 0;
    });
    var horizontal = spec.type === "bar" && spec.labels.length > 12;
    // Tall enough for every label of a long horizontal chart.
    canvas.parentNode.style.height = horizontal ? 60 + spec.labels.length * 22 + "px" : "320px";
    return new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        locale: document.documentElement.lang || "vi",
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var charts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = draw(canvas);
      if (chart) {
        charts.push(chart);
        canvas.dataset.drawn = "true";
      }
    });
    // Redraw at the paper's width, and back.
    window.addEventListener("beforeprint", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
    window.addEventListener("afterprint", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
})();
