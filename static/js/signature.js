// The signature field: a pad to draw on (signature_pad, vendored) or a typed name.
// On submit the drawing goes into the hidden field as a PNG data URL.
(function () {
  "use strict";

  document.querySelectorAll("[data-signature-form]").forEach(function (form) {
    var canvas = form.querySelector("[data-signature-pad]");
    var hidden = form.querySelector("input[name=signature_image]");
    var drawn = form.querySelector("[data-signature-drawn]");
    var typed = form.querySelector("[data-signature-typed]");
    var pad = new window.SignaturePad(canvas, { penColor: "#0b2a5b", minWidth: 0.8, maxWidth: 2.6 });
    // A drawing that came back from the server (a code sent, a refused submit), as a PNG
    // data URL: the pad holds it as pixels, not strokes, so a resize must paint it again.
    var restored = "";

    function resize() {
      // Match the canvas to its shown size, sharp on high-density screens.
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var data = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (restored) {
        pad.fromDataURL(restored);
      }
      pad.fromData(data, { clear: false });
    }

    function method() {
      var checked = form.querySelector("input[name=method]:checked");
      return checked ? checked.value : "drawn";
    }

    function showMethod() {
      var isDrawn = method() === "drawn";
      drawn.hidden = !isDrawn;
      typed.hidden = isDrawn;
      if (isDrawn) {
        resize();
      }
    }

    form.querySelectorAll("input[name=method]").forEach(function (radio) {
      radio.addEventListener("change", showMethod);
    });
    form.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
      hidden.value = "";
      restored = "";
    });
    form.addEventListener("submit", function () {
      if (method() !== "drawn") {
        hidden.value = "";
      } else if (pad.toData().length > 0) {
        hidden.value = pad.toDataURL("image/png");
      } else {
        hidden.value = restored;
      }
    });
    window.addEventListener("resize", function () {
      if (method() === "drawn") {
        resize();
      }
    });
    showMethod();
    // Back from the server (a code sent, a refused submit): the drawing is shown again from
    // the hidden field, so it need not be drawn twice.
    if (method() === "drawn" && hidden.value.indexOf("data:image/png;base64,") === 0) {
      restored = hidden.value;
      pad.fromDataURL(restored);
    }
  });
})();

// After a failed submit, move the focus (and the screen) to the list of what to correct.
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
})();
