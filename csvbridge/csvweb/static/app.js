// scimbridge console: small progressive enhancements. Every page works
// without this script (a refresh tag follows running jobs).
(function () {
  "use strict";

  // Live progress: poll the job's JSON and reload when its state changes.
  function follow(el) {
    var url = el.getAttribute("data-job"), state = el.getAttribute("data-state");
    if (state !== "validating" && state !== "committing") return;
    var bar = document.getElementById("progress"), text = document.getElementById("progress-text");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) return setTimeout(tick, 2000);
          if (job.state !== state) { window.location.reload(); return; }
          if (bar && job.progress) { bar.max = job.progress.total || 1; bar.value = job.progress.done; }
          if (text && job.progress) { text.textContent = job.progress.done + " of " + job.progress.total + " rows"; }
          setTimeout(tick, 700);
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    setTimeout(tick, 300);
  }

  // Select-all for the exclude checkboxes.
  function selectAll(box) {
    box.hidden = false;
    box.addEventListener("change", function () {
      document.querySelectorAll('input[name="exclude"]').forEach(function (c) { c.checked = box.checked; });
    });
  }

  // Upload progress: send the form with XMLHttpRequest to show how much of
  // the file has gone, then show the page the server answered (the
  // preview after its redirect, or the form with its error).
  function uploading(form) {
    form.addEventListener("submit", function (ev) {
      if (!window.FormData || !window.XMLHttpRequest) return;
      ev.preventDefault();
      var s = document.getElementById("upload-status"), b = document.getElementById("upload"),
        bar = document.getElementById("upload-progress");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round(100 * e.loaded / e.total);
        bar.hidden = false; bar.value = pct; bar.textContent = pct + "%";
        s.textContent = pct < 100 ? "Uploading: " + pct + "%" : "Uploaded; checking the file…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL && xhr.responseURL !== form.action) {
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open(); document.write(xhr.responseText); document.close();
      });
      xhr.addEventListener("error", function () {
        s.textContent = "The upload failed (connection lost); your file is unchanged, try again.";
        b.disabled = false;
      });
      b.disabled = true;
      s.textContent = "Uploading…";
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var job = document.getElementById("job");
    if (job) follow(job);
    var all = document.getElementById("exclude-all");
    if (all) selectAll(all);
    var up = document.getElementById("upload-form");
    if (up) uploading(up);
  });
})();
