// Live status (V7): the work-order page listens for status changes and shows them without a
// reload. Without JavaScript the page is complete as served.
(function () {
  "use strict";
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
