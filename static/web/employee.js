/* The employee's new-spend form: submits through the API and follows the spend until it settles. */
(function () {
  "use strict";
  const { api, el, formatMoney, newIdempotencyKey, errorMessages, startRefreshing } = window.LedgerX;
  const form = document.getElementById("spend-form");
  if (!form) return;
  const result = document.getElementById("spend-result");
  const button = form.querySelector('button[type="submit"]');
  const refreshPanels = startRefreshing(document.getElementById("employee-panels"));
  const FIELDS = ["amount", "currency", "merchant", "category", "description"];
  const STATUS_TEXT = {
    pending: "Pending", awaiting_approval: "Awaiting approval", posted: "Posted", rejected: "Rejected", reversed: "Reversed",
  };
  const FOLLOW_FOR_MS = 60000;

  // One key per attempt. It is kept while the same body is sent again after a failure whose outcome is
  // unknown (network down, 409 in flight, 5xx), so a retry is answered with the first result, never charged twice.
  let attempt = null;

  function setFieldError(name, message) {
    const input = form.elements[name];
    const holder = document.getElementById(`spend-${name}-error`);
    if (holder) holder.textContent = message || "";
    if (input) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  function clearErrors() {
    FIELDS.forEach((name) => setFieldError(name, ""));
  }

  function readBody() {
    return {
      amount: form.elements.amount.value.trim(),
      currency: form.elements.currency.value,
      merchant: form.elements.merchant.value.trim(),
      category: form.elements.category.value.trim(),
      description: form.elements.description.value.trim(),
    };
  }

  function checkLocally(body) {
    const problems = {};
    if (!body.amount) problems.amount = "Enter an amount, such as 6000.00.";
    else if (!/^\d+(\.\d+)?$/.test(body.amount)) problems.amount = "Use digits and an optional decimal point, such as 6000.00.";
    if (!body.merchant) problems.merchant = "Enter the merchant.";
    if (!body.category) problems.category = "Enter a category, such as equipment.";
    return problems;
  }

  function showFieldErrors(problems) {
    const names = Object.keys(problems).filter((name) => FIELDS.includes(name));
    names.forEach((name) => setFieldError(name, [].concat(problems[name]).join(" ")));
    if (names.length) form.elements[names[0]].focus();
  }

  function showMessage(kind, text) {
    result.replaceChildren(el("p", { class: kind === "error" ? "reason" : null }, text));
  }

  function showTransaction(transaction) {
    const status = transaction.status;
    const lines = [
      el("p", {},
        el("span", { class: `status status-${status}` }, STATUS_TEXT[status] || status), " ",
        `${formatMoney(transaction.amount, transaction.currency)} at ${transaction.merchant}`),
    ];
    if (transaction.original_currency !== transaction.currency) {
      lines.push(el("p", { class: "muted" },
        `${formatMoney(transaction.original_amount, transaction.original_currency)} at ${transaction.fx_rate} ` +
        `${transaction.currency} per ${transaction.original_currency} (rate of ${transaction.fx_rate_date}).`));
    }
    if (status === "pending") lines.push(el("p", { class: "muted" }, "Accepted; waiting for settlement…"));
    if (status === "awaiting_approval") {
      lines.push(el("p", {}, "It needs approval. Its amount is held from your department's budget until the approvers decide."));
    }
    if (status === "posted") lines.push(el("p", {}, "Posted to the ledger. Your department's budget is updated."));
    if (status === "rejected") lines.push(el("p", { class: "reason" }, transaction.rejection_reason));
    result.replaceChildren(...lines);
  }

  const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

  async function follow(transaction) {
    showTransaction(transaction);
    let current = transaction;
    let delay = 250;
    const deadline = Date.now() + FOLLOW_FOR_MS;
    while (current.status === "pending" && Date.now() < deadline) {
      await sleep(delay);
      delay = Math.min(delay * 1.5, 2000);
      try {
        const answer = await api("GET", `${form.dataset.api}/${current.id}`);
        if (answer.ok) current = answer.data;
      } catch (error) {
        // Out of reach for a moment; keep asking until the deadline.
      }
    }
    showTransaction(current);
    if (current.status === "pending") {
      result.append(el("p", { class: "muted" }, "Still pending. It will settle shortly; your list below will show it."));
    }
    refreshPanels();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = readBody();
    const problems = checkLocally(body);
    if (Object.keys(problems).length) {
      showFieldErrors(problems);
      return;
    }
    const fingerprint = JSON.stringify(body);
    if (!attempt || attempt.fingerprint !== fingerprint) attempt = { key: newIdempotencyKey(), fingerprint };

    button.disabled = true;
    showMessage("info", "Sending…");
    let answer;
    try {
      answer = await api("POST", form.dataset.api, body, { "Idempotency-Key": attempt.key });
    } catch (error) {
      button.disabled = false;
      showMessage("error", "Could not reach LedgerX. Submitting again is safe: the spend is never counted twice.");
      return;
    }
    button.disabled = false;
    if (answer.status === 202) {
      attempt = null;
      form.reset();
      await follow(answer.data);
      return;
    }
    const outcomeUnknown = answer.status === 409 || answer.status >= 500;
    if (!outcomeUnknown) attempt = null;
    const { message, fields } = errorMessages(answer.data, `LedgerX answered ${answer.status}.`);
    showMessage("error", outcomeUnknown ? `${message} Submitting again is safe.` : message);
    showFieldErrors(fields);
  });
})();
