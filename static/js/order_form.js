// Order form: add/remove line rows, pick a customer from the HTMX lookup. No inline scripts (CSP).
(function () {
  "use strict";

  function setValue(id, value) {
    var input = document.getElementById(id);
    if (input && !input.disabled) {
      input.value = value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function addRow(button) {
    var prefix = button.dataset.formsetAdd;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var template = document.getElementById(prefix + "-empty-form");
    var body = document.getElementById(prefix + "-rows");
    if (!total || !template || !body) {
      return;
    }
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) {
      return;
    }
    body.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    var row = body.lastElementChild;
    if (window.htmx) {
      window.htmx.process(row);
    }
    var first = row.querySelector("input");
    if (first) {
      first.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-formset-add]");
    if (add) {
      event.preventDefault();
      addRow(add);
      return;
    }
    var remove = event.target.closest("[data-formset-remove]");
    if (remove) {
      event.preventDefault();
      // Rows keep their index (the formset counts them); an emptied row is ignored on save.
      var row = remove.closest("tr");
      row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      row.classList.add("d-none");
      return;
    }
    var pick = event.target.closest("[data-customer-email]");
    if (pick) {
      event.preventDefault();
      setValue("id_customer_name", pick.dataset.customerName || "");
      setValue("id_customer_email", pick.dataset.customerEmail || "");
      setValue("id_customer_phone", pick.dataset.customerPhone || "");
      var results = document.getElementById("customer-results");
      if (results) {
        results.innerHTML = "";
      }
    }
  });
})();
