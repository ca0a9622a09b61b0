// Similar existing ideas while an author writes an idea: after a pause in typing the title,
// summary, description or keywords, the form asks the server (POST JSON, CSRF header) and lists
// the ideas that look alike, in any language. Without JavaScript the form's "Check for similar
// ideas" button does the same. No inline script: the address and texts come from data attributes.
(function () {
  "use strict";
  var PAUSE_MS = 700;
  var MIN_CHARS = 12;

  function start() {
    var box = document.getElementById("similar-live");
    if (!box || !window.fetch || !window.AbortController) {
      return;
    }
    var form = box.closest("form") || document.querySelector("form[method=post]");
    var csrf = form ? form.querySelector("input[name=csrf_token]") : null;
    var fields = ["title", "summary", "description", "keywords", "language", "kind"];
    var timer = null;
    var inFlight = null;
    var lastSent = "";

    function value(name) {
      var el = form.querySelector("[name=" + name + "]");
      return el ? el.value : "";
    }

    function render(answer) {
      var list = box.querySelector("ul");
      var note = box.querySelector("p");
      list.textContent = "";
      note.textContent = answer.message || "";
      (answer.items || []).forEach(function (item) {
        var li = document.createElement("li");
        li.className = "mb-2";
        var badge = document.createElement("span");
        badge.className = "badge match-band-" + item.likeness + " me-1";
        badge.textContent = item.likeness_label;
        var link = document.createElement("a");
        link.href = item.url;
        link.lang = item.language;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = item.title;
        var meta = document.createElement("span");
        meta.className = "small text-muted";
        meta.textContent = " · " + item.kind + " · " + item.language_label;
        li.appendChild(badge);
        li.appendChild(link);
        li.appendChild(meta);
        list.appendChild(li);
      });
      box.hidden = false;
    }

    function ask() {
      var body = {};
      fields.forEach(function (name) { body[name] = value(name); });
      if ((body.title + " " + body.summary).trim().length < MIN_CHARS) {
        return;
      }
      if (box.dataset.exclude) {
        body.exclude_id = parseInt(box.dataset.exclude, 10);
      }
      var sent = JSON.stringify(body);
      if (sent === lastSent) {
        return;
      }
      lastSent = sent;
      if (inFlight) {
        inFlight.abort();
      }
      inFlight = new AbortController();
      box.setAttribute("aria-busy", "true");
      fetch(box.dataset.url, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : ""},
        body: sent,
        credentials: "same-origin",
        signal: inFlight.signal
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (answer) {
        if (answer) {
          render(answer);
        }
      }).catch(function () {
        // aborted by a newer question, or offline: the button still works
      }).finally(function () {
        box.removeAttribute("aria-busy");
      });
    }

    form.addEventListener("input", function (event) {
      if (fields.indexOf(event.target.name) < 0) {
        return;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, PAUSE_MS);
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
