// Adds a row to a Django formset from its <template id="PREFIX-empty">.
// Loaded as a file (no inline script), so it runs under the app's Content-Security-Policy.
(function () {
  "use strict";

  function renumber(rows) {
    rows.querySelectorAll("[data-row-number]").forEach(function (span, index) {
      span.textContent = String(index + 1);
    });
  }

  document.querySelectorAll("[data-formset-add]").forEach(function (button) {
    var prefix = button.getAttribute("data-formset-add");
    var rows = document.querySelector('[data-formset-rows="' + prefix + '"]');
    var template = document.getElementById(prefix + "-empty");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    if (!rows || !template || !total) {
      return;
    }
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) {
        button.disabled = true;
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      renumber(rows);
      var added = rows.lastElementChild;
      var first = added && added.querySelector("textarea, input:not([type=hidden])");
      if (first) {
        first.focus();
      }
    });
  });
})();
