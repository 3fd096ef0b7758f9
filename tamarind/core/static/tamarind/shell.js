// The layout's few behaviours, no build step: on a narrow screen the menu button opens and closes the sidebar
// (Escape, the backdrop or following a link closes it); an error page's "Previous page" goes back in history.
(function () {
  var shell = document.querySelector(".shell");
  var button = document.querySelector(".menu-toggle");
  var backdrop = document.querySelector(".nav-backdrop");
  function setOpen(open) {
    shell.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (backdrop) backdrop.hidden = !open;
  }
  if (shell && button) {
    button.addEventListener("click", function () { setOpen(!shell.classList.contains("nav-open")); });
    if (backdrop) backdrop.addEventListener("click", function () { setOpen(false); });
    shell.querySelectorAll(".menu-close").forEach(function (b) { b.addEventListener("click", function () { setOpen(false); }); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
    shell.querySelectorAll(".sidebar a").forEach(function (a) { a.addEventListener("click", function () { setOpen(false); }); });
  }
  document.querySelectorAll("[data-history-back]").forEach(function (b) {
    if (window.history.length > 1) {
      b.hidden = false;
      b.addEventListener("click", function () { window.history.back(); });
    }
  });
})();
