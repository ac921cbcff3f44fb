// Follows an import's progress and reloads its page when the work is done.
// A script file, not inline: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  function follow(bar) {
    var text = document.getElementById("import-progress-text");
    var status = document.getElementById("import-status");
    function poll() {
      fetch(bar.dataset.progressUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (!data.running) { window.location.reload(); return; }
          if (data.total) {
            bar.max = data.total;
            bar.value = data.done;
            if (text) { text.textContent = data.done + " / " + data.total; }
          } else {
            bar.removeAttribute("value"); // not counted in rows: a moving bar
          }
          if (status) { status.textContent = data.status_label; }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var bar = document.getElementById("import-progress");
    if (bar) { follow(bar); }
  });
})();
