/* Customer onboarding dashboard: median time to first value per month of contract start, against the target.
   Data comes from the page (json_script "ttfv-data"); Chart.js is vendored (no CDN). */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("ttfv-chart");
    var source = document.getElementById("ttfv-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var css = getComputedStyle(document.documentElement);
    var accent = css.getPropertyValue("--accent").trim() || "#2d5bd7";
    var red = css.getPropertyValue("--red").trim() || "#c0392b";
    var green = css.getPropertyValue("--green").trim() || "#1f8a4c";
    var colours = data.medians.map(function (m) { return m !== null && m > data.target ? red : green; });
    canvas.chart = new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: "Median days to first value",
            data: data.medians,
            backgroundColor: colours.map(function (c) { return c + "b3"; }),
            borderColor: colours,
            borderWidth: 1,
            order: 2
          },
          {
            type: "line",
            label: "Target (" + data.target + " days)",
            data: data.labels.map(function () { return data.target; }),
            borderColor: accent,
            borderDash: [6, 4],
            borderWidth: 2,
            pointRadius: 0,
            fill: false,
            order: 1
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, title: { display: true, text: "days" } },
          x: { grid: { display: false } }
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              afterBody: function (items) {
                var i = items[0].dataIndex;
                if (!data.reached[i]) { return "no first value reached"; }
                return data.met[i] + " of " + data.reached[i] + " within target";
              }
            }
          }
        }
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
