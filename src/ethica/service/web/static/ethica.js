// ethica's one script of its own: label each cell of a stacked table with its column header, so
// a table that becomes a pile of cards on a phone (USWDS's usa-table--stacked) still says what
// each value is. Runs on load and after every htmx swap.
(function () {
  "use strict";
  function labelCells(root) {
    root.querySelectorAll("table.usa-table--stacked").forEach(function (table) {
      var headers = Array.prototype.map.call(
        table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (!cell.hasAttribute("data-label") && headers[index]) {
            cell.setAttribute("data-label", headers[index]);
          }
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { labelCells(document); });
  document.addEventListener("htmx:afterSettle", function (event) { labelCells(event.target); });
})();
