// The backup codes page: print the codes, or save them as a text file. Without JavaScript
// the codes are on the page to copy or print with the browser.
(function () {
  "use strict";
  var sheet = document.querySelector("[data-backup-codes]");
  if (!sheet) {
    return;
  }
  var codes = Array.prototype.map.call(sheet.querySelectorAll("li"), function (item) {
    return item.textContent.trim();
  });
  var print = document.querySelector("[data-backup-codes-print]");
  var download = document.querySelector("[data-backup-codes-download]");
  print.hidden = false;
  download.hidden = false;
  print.addEventListener("click", function () {
    window.print();
  });
  download.addEventListener("click", function () {
    var intro = sheet.querySelector("p").textContent.trim();
    var file = new Blob([intro + "\n\n" + codes.join("\n") + "\n"], { type: "text/plain" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(file);
    link.download = sheet.getAttribute("data-filename");
    document.body.appendChild(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(link.href);
  });
})();
