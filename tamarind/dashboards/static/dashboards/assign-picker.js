/* Customer onboarding dashboard: the "assign a TAM" pickers of the Unassigned list share one list of options per
   region (a <template id="tam-options-REGION">, written once by the page), copied into a picker when it is first
   used. A hundred rows times the hundreds of TAMs of a large region would otherwise be megabytes of page. */
(function () {
  "use strict";
  function fill(select) {
    if (select.getAttribute("data-filled")) { return; }
    var source = document.getElementById(select.getAttribute("data-tam-options"));
    if (source) { select.appendChild(source.content.cloneNode(true)); }
    select.setAttribute("data-filled", "1");
  }
  ["focusin", "pointerdown", "mousedown", "touchstart", "keydown"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var target = event.target;
      if (target && target.matches && target.matches("select[data-tam-options]")) { fill(target); }
    }, true);
  });
}());
