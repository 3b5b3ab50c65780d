/* The back office at phone widths: each change-list cell is labelled with its column, so that admin.css
   can stack a row into a card without losing what each value is. */
(function () {
  "use strict";
  function labelCells(table) {
    const headers = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      Array.from(row.children).forEach((cell, index) => {
        if (headers[index] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", headers[index]);
      });
    }
  }
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("#result_list, .stacked-table").forEach(labelCells);
  });
})();
