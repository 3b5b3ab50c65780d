/*
 * The employee's new-spend form. Every spend goes through the outbox (outbox.js): recorded on this device
 * with its Idempotency-Key first, then sent. Sent at once when there is a connection, and followed until
 * it settles; kept as "waiting to send" when there is none, and sent when the connection returns (the
 * service worker's Background Sync, this page's "online" event, or the next time the page opens).
 */
(function () {
  "use strict";
  const { api, el, formatMoney, newIdempotencyKey, startRefreshing } = window.LedgerX;
  const Outbox = window.LedgerXOutbox;
  const form = document.getElementById("spend-form");
  if (!form) return;
  const result = document.getElementById("spend-result");
  const outbox = document.getElementById("outbox");
  const outboxList = document.getElementById("outbox-list");
  const button = form.querySelector('button[type="submit"]');
  const refreshPanels = startRefreshing(document.getElementById("employee-panels"));
  const FIELDS = ["amount", "currency", "merchant", "category", "description"];
  const STATUS_TEXT = {
    pending: "Pending", awaiting_approval: "Awaiting approval", posted: "Posted", rejected: "Rejected", reversed: "Reversed",
  };
  const FOLLOW_FOR_MS = 60000;
  const ANY_SPEND = "00000000-0000-0000-0000-000000000000";
  const session = {
    userId: form.dataset.user,
    csrfToken: document.querySelector('meta[name="csrf-token"]').content,
  };
  const following = new Set();

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

  function transactionLines(transaction) {
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
    return lines;
  }

  const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

  /* Asks for the spend until it leaves "pending" (or a minute passes); `show` draws each state. */
  async function follow(transaction, show) {
    show(transaction);
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
    show(current);
    refreshPanels();
    return current;
  }

  /* The spends recorded on this device that the form's own answer did not cover: waiting, or sent
   * later (after a reload, on reconnecting). A sent one is followed until it settles, then forgotten:
   * the list of spends below has it from then on. A refused one stays, with its reason, until dismissed. */
  function entryItem(entry) {
    const what = `${formatMoney(entry.body.amount, entry.body.currency)} at ${entry.body.merchant}`;
    const item = el("li", { "data-key": entry.key });
    if (entry.state === "waiting") {
      item.append(el("p", {}, el("span", { class: "status status-pending" }, "Waiting to send"), " ", what));
    } else if (entry.state === "refused") {
      item.append(
        el("p", {}, el("span", { class: "status status-rejected" }, "Refused"), " ", what),
        el("p", { class: "reason" }, entry.reason.message),
        el("button", { type: "button", class: "button-plain", "data-dismiss": entry.key }, "Dismiss"),
      );
    } else {
      item.append(...transactionLines(entry.transaction));
      if (!entry.photoSent) item.append(el("p", { class: "muted" }, "Its receipt photo is waiting to send."));
    }
    if (entry.receiptProblem) item.append(el("p", { class: "reason" }, `Receipt photo: ${entry.receiptProblem}`));
    return item;
  }

  function drawEntry(entry) {
    const item = entryItem(entry);
    const shown = outboxList.querySelector(`li[data-key="${entry.key}"]`);
    if (shown) shown.replaceWith(item);
    else outboxList.append(item);
    outbox.hidden = false;
  }

  async function followEntry(entry) {
    if (following.has(entry.key)) return;
    following.add(entry.key);
    const settled = await follow(entry.transaction, (transaction) => drawEntry({ ...entry, transaction }));
    following.delete(entry.key);
    if (settled.status !== "pending" && entry.photoSent) await Outbox.forget(entry.key);
  }

  function drawOutbox(entries) {
    for (const entry of entries) {
      if (!following.has(entry.key)) drawEntry(entry);
      if (entry.state === "sent") followEntry(entry);
    }
  }

  async function sendWaiting() {
    drawOutbox(await Outbox.flush(session));
  }

  async function askForBackgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    try {
      const registration = await navigator.serviceWorker.ready;
      if (registration.sync) await registration.sync.register(Outbox.SYNC_TAG);
    } catch (error) {
      // No Background Sync here: the "online" event and the next open send it.
    }
  }

  async function submitted(entry) {
    if (entry.state === "waiting") {
      form.reset();
      showMessage("info", "No connection: saved on this device, waiting to send. It is sent when the connection returns.");
      drawEntry(entry);
      askForBackgroundSync();
      return;
    }
    if (entry.state === "refused") {
      await Outbox.forget(entry.key);
      showMessage("error", entry.reason.message);
      showFieldErrors(entry.reason.fields);
      return;
    }
    form.reset();
    if (entry.photoSent) await Outbox.forget(entry.key);
    else drawEntry(entry);
    await follow(entry.transaction, (transaction) => result.replaceChildren(...transactionLines(transaction)));
    if (entry.receiptProblem) result.append(el("p", { class: "reason" }, `Receipt photo: ${entry.receiptProblem}`));
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
    button.disabled = true;
    showMessage("info", "Sending…");
    try {
      const recorded = await Outbox.record({
        key: newIdempotencyKey(),
        userId: session.userId,
        api: form.dataset.api,
        receiptsApi: form.dataset.receiptsApi.replace(ANY_SPEND, "{id}"),
        body,
        photo: form.elements.photo.files[0],
      });
      following.add(recorded.key); // this form's answer shows it
      const entries = await Outbox.flush(session);
      following.delete(recorded.key);
      drawOutbox(entries.filter((entry) => entry.key !== recorded.key));
      await submitted(entries.find((entry) => entry.key === recorded.key));
    } finally {
      button.disabled = false;
    }
  });

  outboxList.addEventListener("click", async (event) => {
    const key = event.target.dataset && event.target.dataset.dismiss;
    if (!key) return;
    await Outbox.forget(key);
    event.target.closest("li").remove();
    if (!outboxList.children.length) outbox.hidden = true;
  });

  window.addEventListener("online", sendWaiting);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", async (event) => {
      if (event.data && event.data.type === "outbox-changed") drawOutbox(await Outbox.entries(session.userId));
    });
  }
  Outbox.rememberSession(session).then(sendWaiting);
})();
