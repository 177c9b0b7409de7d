/* Taqsit pages: small behaviours shared by every page (no framework: htmx does the live parts). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // The language menu changes the language as soon as a language is picked (its button stays for keyboards
  // and for browsers without JavaScript).
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) {
      event.target.form.submit();
    }
  });

  // A form whose submit button says data-once is sent once: a second click while the page is loading does
  // nothing (the server also refuses a replay: the form's token is the payment's idempotency key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "true") {
      event.preventDefault();
      return;
    }
    if (form.querySelector("[data-once]")) {
      form.dataset.submitted = "true";
      form.querySelectorAll("[data-once]").forEach(function (button) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("disabled");
      });
    }
  });

  // A page shown again from the browser's back/forward cache can be submitted again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("[data-once]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
        button.classList.remove("disabled");
      });
    });
  });

  // Print buttons.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
})();
