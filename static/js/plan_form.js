/* The new-plan page: pick a customer from the search results, add item rows. The schedule preview itself is
   htmx (hx-post on #schedule-preview), refreshed whenever an input of the form changes. */
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) {
    return;
  }
  var customerInput = form.querySelector("input[name=customer]");
  var chosen = document.getElementById("customer-chosen");
  var search = document.getElementById("customer-search");

  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-customer-id]");
    if (pick) {
      customerInput.value = pick.dataset.customerId;
      chosen.querySelector("[data-chosen-name]").textContent = pick.dataset.customerName;
      chosen.classList.remove("d-none");
      search.classList.add("d-none");
      chosen.querySelector("[data-customer-clear]").focus();
      return;
    }
    if (event.target.closest("[data-customer-clear]")) {
      customerInput.value = "";
      chosen.classList.add("d-none");
      search.classList.remove("d-none");
      document.getElementById("customer-q").focus();
    }
  });

  var addButton = document.getElementById("add-item");
  addButton.addEventListener("click", function () {
    var total = form.querySelector("input[name=items-TOTAL_FORMS]");
    var index = Number(total.value);
    var html = document.getElementById("item-template").innerHTML.replace(/__prefix__/g, String(index));
    document.getElementById("item-rows").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var rows = document.querySelectorAll("#item-rows .item-row");
    var first = rows[rows.length - 1].querySelector("select, input");
    if (first) {
      first.focus();
    }
    document.body.dispatchEvent(new Event("items-changed"));
  });
})();
