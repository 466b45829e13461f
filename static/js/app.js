// SCOMS portal behaviour. Loaded as a file (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  // Elements with data-confirm ask before submitting (bulk cancel, etc.).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // "Select all" checkboxes for bulk actions: <input type="checkbox" data-select-all="name">.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.dataset && box.dataset.selectAll) {
      document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (item) {
        item.checked = box.checked;
      });
    }
  });
})();
