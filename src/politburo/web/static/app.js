// Keeps a job's progress bar up to date and shows the result when the job is done.
// Polls the app's own JSON API only (the Content-Security-Policy allows nothing else).
"use strict";
(function () {
  function poll(box) {
    var id = box.getAttribute("data-job");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".job-text");
    var tries = 0;
    function tick() {
      tries += 1;
      fetch("/api/jobs/" + encodeURIComponent(id), {headers: {"Accept": "application/json"}})
        .then(function (r) {
          if (r.status === 404) { window.location.reload(); return null; }
          return r.json();
        })
        .then(function (job) {
          if (!job) { return; }
          if (bar) { bar.value = job.progress; }
          if (text && job.total) {
            text.textContent = job.done.toLocaleString("en") + " of " +
              job.total.toLocaleString("en") + " histories";
          }
          if (job.status === "done") { window.location.reload(); return; }
          if (job.status === "failed") {
            box.classList.add("error");
            box.textContent = "That did not work: " + (job.error || "unknown error");
            return;
          }
          window.setTimeout(tick, tries < 20 ? 300 : 1000);
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    }
    window.setTimeout(tick, 200);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll(".job[data-job]");
    for (var i = 0; i < boxes.length; i++) { poll(boxes[i]); }
  });
})();
