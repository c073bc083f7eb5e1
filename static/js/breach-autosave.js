// Keeps what the coach types in a breach form in this tab's sessionStorage, so that a
// dropped connection or a closed laptop lid loses nothing: on the next visit of the same
// form (same version of the breach) the typed values are filled in again.
// The page after a successful save names the form in data-autosave-done: then it is cleared.
// Loaded as a file (no inline script), so it runs under the app's Content-Security-Policy.
(function () {
  "use strict";

  var PREFIX = "avg-autosave:";
  var storage;
  try {
    storage = window.sessionStorage;
    storage.setItem(PREFIX + "probe", "1");
    storage.removeItem(PREFIX + "probe");
  } catch (error) {
    return; // Storage is off (private mode, policy): the server-side draft still works.
  }

  document.querySelectorAll("[data-autosave-done]").forEach(function (el) {
    storage.removeItem(PREFIX + el.getAttribute("data-autosave-done"));
  });

  function isField(el) {
    return (
      el.name &&
      el.name !== "csrfmiddlewaretoken" &&
      ["submit", "button", "hidden", "file", "password"].indexOf(el.type) === -1
    );
  }

  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var key = PREFIX + form.getAttribute("data-autosave");
    var version = form.getAttribute("data-autosave-version") || "";
    var notice = document.querySelector("[data-autosave-notice]");

    function fields() {
      return Array.prototype.filter.call(form.elements, isField);
    }

    function collect() {
      var values = {};
      fields().forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          values[el.name] = values[el.name] || [];
          if (el.checked) {
            values[el.name].push(el.value);
          }
        } else {
          values[el.name] = el.value;
        }
      });
      return values;
    }

    function save() {
      try {
        storage.setItem(key, JSON.stringify({ version: version, values: collect() }));
      } catch (error) {
        // Storage full: nothing more we can do here.
      }
    }

    function restore(values) {
      var changed = false;
      fields().forEach(function (el) {
        if (!Object.prototype.hasOwnProperty.call(values, el.name)) {
          return;
        }
        var value = values[el.name];
        if (el.type === "checkbox" || el.type === "radio") {
          var checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
          if (el.checked !== checked) {
            el.checked = checked;
            changed = true;
          }
        } else if (typeof value === "string" && el.value !== value) {
          el.value = value;
          changed = true;
        }
      });
      return changed;
    }

    var saved = null;
    try {
      saved = JSON.parse(storage.getItem(key) || "null");
    } catch (error) {
      saved = null;
    }
    // A page with errors already shows what was posted; a newer version of the breach
    // (saved elsewhere meanwhile) must not be overwritten by an older draft.
    var hasErrors = form.querySelector(".is-invalid, .invalid-feedback, .alert-danger");
    if (saved && saved.version === version && saved.values) {
      if (!hasErrors && restore(saved.values) && notice) {
        notice.hidden = false;
      }
    } else if (saved) {
      storage.removeItem(key);
    }

    form.addEventListener("input", save);
    form.addEventListener("change", save);
    // Text typed before this script ran (a slow connection) fired no input event.
    window.addEventListener("pagehide", save);

    if (notice) {
      var discard = notice.querySelector("[data-autosave-discard]");
      if (discard) {
        discard.addEventListener("click", function () {
          storage.removeItem(key);
          form.reset();
          notice.hidden = true;
        });
      }
    }
  });
})();
