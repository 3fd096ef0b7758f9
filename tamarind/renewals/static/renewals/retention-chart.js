/* Retention page: gross and net retention per month against their targets. Data comes from the page
   (json_script "retention-data"); Chart.js is vendored (no CDN). */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("retention-chart");
    var source = document.getElementById("retention-data");
    if (!canvas || !source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var css = getComputedStyle(document.documentElement);
    var accent = css.getPropertyValue("--accent").trim() || "#2d5bd7";
    var green = css.getPropertyValue("--green").trim() || "#1f8a4c";
    function flat(value) { return data.labels.map(function () { return value; }); }
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Gross retention %", data: data.gross, borderColor: accent, backgroundColor: accent, spanGaps: true },
          { label: "Net retention %", data: data.net, borderColor: green, backgroundColor: green, spanGaps: true },
          { label: "Gross target (" + data.gross_target + "%)", data: flat(data.gross_target), borderColor: accent,
            borderDash: [6, 4], pointRadius: 0, borderWidth: 1 },
          { label: "Net target (" + data.net_target + "%)", data: flat(data.net_target), borderColor: green,
            borderDash: [6, 4], pointRadius: 0, borderWidth: 1 }
        ]
      },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { title: { display: true, text: "%" } } } }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
