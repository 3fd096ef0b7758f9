/* An account's usage page: active users against licenses per month (json_script "usage-data"; Chart.js vendored). */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("usage-chart");
    var source = document.getElementById("usage-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var css = getComputedStyle(document.documentElement);
    var accent = css.getPropertyValue("--accent").trim() || "#2d5bd7";
    var muted = css.getPropertyValue("--muted").trim() || "#888888";
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Active users", data: data.active, borderColor: accent, backgroundColor: accent, spanGaps: true },
          { label: "Licenses", data: data.licenses, borderColor: muted, borderDash: [6, 4], pointRadius: 0, spanGaps: true }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
