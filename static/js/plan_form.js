/* The new-plan page: pick a customer from the search results, add and remove item rows, show a picked product's
   price. The schedule preview itself is htmx (hx-post on #schedule-preview), refreshed whenever an input of the
   form changes. */
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
      document.body.dispatchEvent(new Event("customer-changed"));
      return;
    }
    if (event.target.closest("[data-customer-clear]")) {
      customerInput.value = "";
      chosen.classList.add("d-none");
      search.classList.remove("d-none");
      document.getElementById("customer-q").focus();
      document.body.dispatchEvent(new Event("customer-changed"));
    }
  });

  var itemRows = document.getElementById("item-rows");
  var total = form.querySelector("input[name=items-TOTAL_FORMS]");
  var LINKED = ["name", "id", "for", "aria-describedby"];

  // The formset reads items-0-... to items-(TOTAL_FORMS - 1)-...: after a removal the rows are numbered again.
  function renumber() {
    var rows = itemRows.querySelectorAll(".item-row");
    rows.forEach(function (row, index) {
      row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (element) {
        LINKED.forEach(function (attribute) {
          var value = element.getAttribute(attribute);
          if (value) {
            element.setAttribute(attribute, value.replace(/items-\d+-/g, "items-" + index + "-"));
          }
        });
      });
    });
    total.value = String(rows.length);
  }

  // A picked product's price: under the picker, and as the unit price used when none is typed.
  function showPrice(select) {
    var row = select.closest(".item-row");
    var option = select.options[select.selectedIndex];
    var input = row.querySelector("input[name$='-unit_price']");
    if (input.dataset.placeholder === undefined) {
      input.dataset.placeholder = input.placeholder;
    }
    input.placeholder = (option && option.dataset.price) || input.dataset.placeholder;
    row.querySelector("[data-product-price]").textContent = (option && option.dataset.priceLabel) || "";
  }

  function prepare(row) {
    row.querySelector("[data-item-remove]").hidden = false;
    var select = row.querySelector("select[name$='-product']");
    if (select) {
      showPrice(select);
    }
  }

  itemRows.querySelectorAll(".item-row").forEach(prepare);

  form.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='-product']")) {
      showPrice(event.target);
    }
  });

  var addButton = document.getElementById("add-item");
  itemRows.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-item-remove]");
    if (!remove) {
      return;
    }
    remove.closest(".item-row").remove();
    renumber();
    addButton.focus();
    document.body.dispatchEvent(new Event("items-changed"));
  });

  addButton.addEventListener("click", function () {
    var index = Number(total.value);
    var html = document.getElementById("item-template").innerHTML.replace(/__prefix__/g, String(index));
    itemRows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var rows = itemRows.querySelectorAll(".item-row");
    var added = rows[rows.length - 1];
    prepare(added);
    var first = added.querySelector("select, input");
    if (first) {
      first.focus();
    }
    document.body.dispatchEvent(new Event("items-changed"));
  });
})();
