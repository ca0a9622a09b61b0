// "Print / save as PDF": shows the buttons marked data-print (hidden without JavaScript, since they need it)
// and prints the page. Before any print, from the button or the browser's menu, closed <details> open so
// that folded sections (the passages that match best) are on paper; they close again afterwards.
(function () {
  "use strict";
  var opened = [];

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
  window.addEventListener("beforeprint", function () {
    opened = Array.prototype.slice.call(document.querySelectorAll("details:not([open])"));
    opened.forEach(function (details) { details.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
  });
})();
