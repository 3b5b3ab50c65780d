/* A spend's receipts page: while a receipt is processing, refresh the list until its thumbnail shows. */
(function () {
  "use strict";
  const region = document.getElementById("receipt-panels");
  if (!region) return;
  const refresh = window.LedgerX.startRefreshing(region);
  const POLL_MS = 1500;
  const timer = window.setInterval(() => {
    if (!region.querySelector("[data-processing]")) {
      window.clearInterval(timer);
      return;
    }
    refresh();
  }, POLL_MS);
})();
