/* Customer health dashboard, Overview tab: the health mix (accounts or ARR per color, by region, TAM, segment or
   priority) and its trend (day by day, from the daily snapshots). The figures come from the page (json_script
   "health-figures"), built by the same functions as GET /api/v1/dashboards/health; Chart.js is vendored.
   htmx swaps the tabs in: charts are drawn whenever the Overview arrives. */
(function () {
  "use strict";
  var COLORS = ["green", "yellow", "red", "none"];
  var LABELS = { green: "Green", yellow: "Yellow", red: "Red", none: "Not scored" };

  function palette() {
    var css = getComputedStyle(document.documentElement);
    function v(name, fallback) { return css.getPropertyValue(name).trim() || fallback; }
    return { green: v("--green", "#1f8a4c"), yellow: v("--yellow", "#a86d00"), red: v("--red", "#c0392b"), none: "#9aa4b2" };
  }

  function amount(cell, metric) {
    return metric === "arr" ? Number(cell.arr || 0) : cell.accounts;
  }

  function money(value) {
    return Math.round(value).toLocaleString();
  }

  function mixConfig(data, dimension, metric, colors) {
    var lines = data.mix[dimension] || [];
    return {
      type: "bar",
      data: {
        labels: lines.map(function (l) { return l.label; }),
        datasets: COLORS.map(function (c) {
          return {
            label: LABELS[c],
            data: lines.map(function (l) { return amount(l.colors[c], metric); }),
            backgroundColor: colors[c] + "cc",
            borderColor: colors[c],
            borderWidth: 1
          };
        })
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true, beginAtZero: true, title: { display: true, text: metric === "arr" ? "ARR" : "accounts" } }, y: { stacked: true } },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + (metric === "arr" ? money(item.raw) : item.raw); } } }
        }
      }
    };
  }

  function trendConfig(data, metric, colors) {
    var points = data.trend || [];
    return {
      type: "line",
      data: {
        labels: points.map(function (p) { return p.day; }),
        datasets: COLORS.map(function (c) {
          return {
            label: LABELS[c],
            data: points.map(function (p) { return metric === "arr" ? Number(p.arr[c] || 0) : p.accounts[c]; }),
            borderColor: colors[c],
            backgroundColor: colors[c] + "55",
            fill: true,
            pointRadius: points.length > 40 ? 0 : 2,
            tension: 0.2
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { stacked: true, beginAtZero: true, title: { display: true, text: metric === "arr" ? "ARR" : "accounts" } }, x: { grid: { display: false } } },
        plugins: { legend: { position: "bottom" } }
      }
    };
  }

  function draw() {
    var source = document.getElementById("health-figures");
    if (!source || typeof Chart === "undefined" || source.dataset.drawn) { return; }
    source.dataset.drawn = "1";
    var data = JSON.parse(source.textContent);
    var colors = palette();
    var state = { mix: "accounts", trend: "accounts", dimension: (data.dimensions[0] || {}).key || "segment" };
    var mixCanvas = document.getElementById("health-mix-chart");
    var trendCanvas = document.getElementById("health-trend-chart");
    var box = document.getElementById("health-mix-box");
    var select = document.querySelector("[data-chart-dimension]");

    function drawMix() {
      if (!mixCanvas) { return; }
      if (mixCanvas.chart) { mixCanvas.chart.destroy(); }
      var bars = (data.mix[state.dimension] || []).length;
      box.style.height = Math.max(200, 60 + bars * 26) + "px";
      mixCanvas.chart = new Chart(mixCanvas, mixConfig(data, state.dimension, state.mix, colors));
    }
    function drawTrend() {
      if (!trendCanvas) { return; }
      if (trendCanvas.chart) { trendCanvas.chart.destroy(); }
      trendCanvas.chart = new Chart(trendCanvas, trendConfig(data, state.trend, colors));
    }
    if (select) {
      select.addEventListener("change", function () { state.dimension = select.value; drawMix(); });
    }
    document.querySelectorAll("#health-tab [data-chart][data-metric]").forEach(function (button) {
      button.addEventListener("click", function () {
        var chart = button.dataset.chart;
        state[chart] = button.dataset.metric;
        document.querySelectorAll('#health-tab [data-chart="' + chart + '"]').forEach(function (b) {
          var on = b === button;
          b.classList.toggle("active", on);
          b.setAttribute("aria-pressed", on ? "true" : "false");
        });
        if (chart === "mix") { drawMix(); } else { drawTrend(); }
      });
    });
    drawMix();
    drawTrend();
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
