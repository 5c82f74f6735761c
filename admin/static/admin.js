/* Staff admin: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function text(el, value) { if (el) { el.textContent = value; } }

  function make(tag, className, content) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (content !== undefined && content !== null) { el.textContent = content; }
    return el;
  }

  /* Forms that ask before doing something that cannot be undone. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("[data-print]")) { window.print(); }
  });

  /* ---- campaign wizard ------------------------------------------------------------------ */
  function wizard(form) {
    var message = form.querySelector("#message");
    var template = form.querySelector("#template");
    var lang = form.querySelector("#lang");
    var shippedEl = document.getElementById("shipped-templates");
    var shipped = shippedEl ? JSON.parse(shippedEl.textContent) : {};

    function fill() {
      var texts = shipped[lang.value] || {};
      if (template.value !== "custom" && texts[template.value]) { message.value = texts[template.value]; }
    }
    template.addEventListener("change", fill);
    lang.addEventListener("change", fill);
    message.addEventListener("input", function () {
      var texts = shipped[lang.value] || {};
      if (template.value !== "custom" && message.value !== texts[template.value]) { template.value = "custom"; }
    });

    form.querySelectorAll("[data-insert]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        var word = chip.getAttribute("data-insert");
        var start = message.selectionStart || message.value.length, end = message.selectionEnd || start;
        message.value = message.value.slice(0, start) + word + message.value.slice(end);
        message.focus();
        message.selectionStart = message.selectionEnd = start + word.length;
        message.dispatchEvent(new Event("input"));
      });
    });

    var button = document.getElementById("preview-button");
    var status = document.getElementById("preview-status");
    var audio = document.getElementById("preview-audio");
    var said = document.getElementById("preview-text");
    button.addEventListener("click", function () {
      button.disabled = true;
      text(status, button.getAttribute("data-busy") || "…");
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok) {
          text(status, result.data.error || result.data.message || "error");
          status.className = "field-error";
          return;
        }
        status.className = "muted small";
        text(status, result.data.account);
        said.hidden = false;
        text(said, result.data.text);
        audio.hidden = false;
        audio.src = result.data.audio;
        audio.play().catch(function () { /* autoplay may be refused; the controls remain */ });
      }).catch(function (err) {
        text(status, String(err));
      }).finally(function () { button.disabled = false; });
    });
  }

  /* ---- live view -------------------------------------------------------------------------- */
  function live(root) {
    var url = root.getAttribute("data-state-url");
    var seen = {};
    root.querySelectorAll("#live-latest tr[data-attempt]").forEach(function (tr) {
      seen[tr.getAttribute("data-attempt")] = tr.textContent;
    });
    var updated = document.getElementById("live-updated");

    function outcomes(list) {
      var ul = document.getElementById("live-outcomes");
      ul.textContent = "";
      if (!list.length) {
        var tpl = document.getElementById("live-empty-outcomes");
        ul.appendChild(tpl.content.cloneNode(true));
        return;
      }
      var peak = Math.max.apply(null, list.map(function (o) { return o.count; })) || 1;
      list.forEach(function (o) {
        var li = make("li");
        li.appendChild(make("span", "bar-label", o.label));
        var meter = make("meter", "tone-" + o.tone);
        meter.min = 0; meter.max = peak; meter.value = o.count;
        li.appendChild(meter);
        li.appendChild(make("span", "bar-count", String(o.count)));
        ul.appendChild(li);
      });
    }

    function latest(rows) {
      var body = document.getElementById("live-latest");
      if (!rows.length) { return; }
      body.textContent = "";
      rows.forEach(function (a) {
        var tr = make("tr");
        tr.setAttribute("data-attempt", a.id);
        tr.appendChild(make("td", "nowrap", a.time));
        var where = make("td");
        var link = make("a", "", a.room);
        link.href = a.account_url;
        where.appendChild(link);
        where.appendChild(document.createTextNode(" "));
        where.appendChild(make("span", "muted", a.owner));
        tr.appendChild(where);
        tr.appendChild(make("td", "mono", a.number));
        var result = make("td");
        if (a.disposition) { result.appendChild(make("span", "badge tone-" + a.tone, a.disposition_label)); }
        else { result.appendChild(make("span", "badge tone-info", a.status_label)); }
        if (a.promised_date) { result.appendChild(make("span", "small", " " + a.promised_date)); }
        tr.appendChild(result);
        tr.appendChild(make("td", "mono", a.keys || "—"));
        var key = String(a.id);
        if (seen[key] !== tr.textContent) { tr.className = "fresh"; }
        seen[key] = tr.textContent;
        body.appendChild(tr);
      });
    }

    function apply(s) {
      text(document.getElementById("live-in-progress"), s.in_progress);
      text(document.getElementById("live-done"), s.done);
      text(document.getElementById("live-remaining"), s.remaining);
      text(document.getElementById("live-promised"), s.promised);
      text(document.getElementById("live-awaiting"), s.awaiting);
      text(document.getElementById("live-percent"), s.percent + "%");
      var bar = document.getElementById("live-progress");
      bar.max = s.total || 1; bar.value = s.done;
      var badge = document.getElementById("live-status");
      badge.className = "badge status-" + s.status;
      text(badge, s.status_label);
      outcomes(s.outcomes);
      latest(s.latest);
      text(updated, (updated.getAttribute("data-label") || "") + " " + s.updated);
      root.setAttribute("data-done", s.done);
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (s) {
          apply(s);
          var finished = s.status === "completed" || s.status === "cancelled";
          window.setTimeout(poll, finished ? 15000 : 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("campaign-form");
    if (form) { wizard(form); }
    var root = document.getElementById("live");
    if (root) { live(root); }
  });
})();
