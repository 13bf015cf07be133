// The pages' small enhancements; without JavaScript every page is complete as served.
// - Print (quotes and invoices): the "Print or save as PDF" button appears and opens the
//   browser's print dialog; the print stylesheet leaves out the forms.
// - Live status (V7): the work-order page listens for status changes and shows them without a
//   reload.
// - Signature pad (C7): on a contract to sign, a canvas to draw the signature with a mouse,
//   finger or pen; the drawing travels as a PNG in the form's `drawing` field. Without it the
//   typed name and the tick sign alone.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-signature-form]"), function (form) {
    var pad = form.querySelector("[data-signature-pad]");
    var canvas = pad && pad.querySelector("canvas");
    var field = form.querySelector("input[name=drawing]");
    if (!canvas || !field || !canvas.getContext) { return; }
    pad.hidden = false;
    var ctx = canvas.getContext("2d");
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    var drawing = false;
    var drawn = false;
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * canvas.width / box.width,
        y: (event.clientY - box.top) * canvas.height / box.height
      };
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(p.x + 0.1, p.y + 0.1);
      ctx.stroke();
      drawn = true;
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      event.preventDefault();
    });
    function stop() { drawing = false; }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);
    var clear = pad.querySelector("[data-signature-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        field.value = "";
      });
    }
    form.addEventListener("submit", function () {
      field.value = drawn ? canvas.toDataURL("image/png") : "";
    });
  });
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
    if (badge.hasAttribute("data-reload") && data.status !== badge.getAttribute("data-status")) {
      // An invoice's amounts and payment box follow its status: show them as they now are.
      source.close();
      window.location.reload();
      return;
    }
    badge.textContent = data.label;
    badge.className = "badge status-" + data.status;
    badge.setAttribute("data-status", data.status);
  });
  source.addEventListener("gone", function () {
    source.close();
    window.location.reload();
  });
})();
