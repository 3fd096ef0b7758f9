// The health model editor: the weights' total as you type, and each color select tinted by its color.
(function () {
  "use strict";
  var form = document.getElementById("health-model-form");
  if (!form) return;
  var weights = form.querySelectorAll("input[data-weight]");
  var sum = document.getElementById("hm-weight-sum");
  function total() {
    var t = 0;
    weights.forEach(function (w) { var v = parseFloat(w.value); if (!isNaN(v)) t += v; });
    sum.textContent = Math.round(t * 100) / 100;
    sum.classList.toggle("off", Math.abs(t - 100) > 1e-9);
    weights.forEach(function (w) {
      var cell = form.querySelector('[data-share-for="' + w.name + '"]');
      var v = parseFloat(w.value);
      if (cell) cell.textContent = t > 0 && !isNaN(v) ? Math.round(v * 1000 / t) / 10 + "%" : "";
    });
  }
  function tint(select) {
    select.classList.remove("green", "yellow", "red");
    if (select.value) select.classList.add(select.value);
  }
  weights.forEach(function (w) { w.addEventListener("input", total); });
  form.querySelectorAll(".hm-cell select").forEach(function (s) {
    tint(s);
    s.addEventListener("change", function () { tint(s); });
  });
  total();
})();
