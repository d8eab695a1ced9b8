/* lms: the little JavaScript the pages use (the CSP allows only scripts from this site).
   Everything works without it; it only prevents double submits and copies links. */
(function () {
  "use strict";

  // A form sent once disables its submit buttons, so a double click does not send it twice.
  // The server stays idempotent anyway; this spares the person a second round trip.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
    // After the event: disabling first would drop the clicked button's name and value.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
        .forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
        });
    }, 0);
  });

  // Coming back with the Back button (page cache): the buttons work again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("[aria-disabled=true]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-disabled");
      });
    });
  });

  // "Copy the verification link": the Clipboard API where allowed, else select-and-copy.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    copyText(button.dataset.copy).then(function () {
      if (status) status.textContent = "Link copied.";
    }, function () {
      if (status) status.textContent = "Copy failed: select the link and copy it.";
    });
  });

  // Copy buttons are shown only where the script runs.
  document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
    button.hidden = false;
  });
})();
