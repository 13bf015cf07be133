// The pages' small enhancements; without JavaScript every page is complete as served.
// - Print (quotes and invoices): the "Print or save as PDF" button appears and opens the
//   browser's print dialog; the print stylesheet leaves out the forms.
// - Live status (V7): the work-order page listens for status changes and shows them without a
//   reload.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  var badge = document.querySelector("[data-live]");
  if (!badge || !window.EventSource) { return; }
  var source = new EventSource(badge.getAttribute("data-live"));
  source.addEventListener("open", function () {
    badge.setAttribute("data-connected", "true");
  });
  source.addEventListener("status", function (event) {
    var data = JSON.parse(event.data);
    badge.textContent = data.label;
    badge.className = "badge status-" + data.status;
    badge.setAttribute("data-status", data.status);
  });
  source.addEventListener("gone", function () {
    source.close();
    window.location.reload();
  });
})();
