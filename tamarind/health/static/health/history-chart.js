/* Account page: the health score by day (json_script "health-data"), coloured by its band. Chart.js is vendored.
   Runs on page load and again when htmx swaps the panel in. */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("health-chart");
    var source = document.getElementById("health-data");
    if (!canvas || !source || typeof Chart === "undefined" || canvas.chart) { return; }
    var data = JSON.parse(source.textContent);
    var css = getComputedStyle(document.documentElement);
    var palette = {
      green: css.getPropertyValue("--green").trim() || "#1f8a4c",
      yellow: css.getPropertyValue("--yellow").trim() || "#a86d00",
      red: css.getPropertyValue("--red").trim() || "#c0392b"
    };
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Health score",
          data: data.scores,
          borderColor: "#8892a6",
          pointBackgroundColor: data.colors.map(function (c) { return palette[c]; }),
          pointBorderColor: data.colors.map(function (c) { return palette[c]; }),
          pointRadius: 3,
          stepped: true
        }]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { min: 0, max: 100, ticks: { stepSize: 25 } } }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
  document.addEventListener("htmx:afterSettle", draw);
})();
