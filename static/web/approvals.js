/* The approvals page: each waiting spend is approved or rejected through the API, and its card says the outcome in place. */
(function () {
  "use strict";
  const { api, el, errorMessages, startRefreshing } = window.LedgerX;
  const refreshPanels = startRefreshing(document.getElementById("approvals-panels"));
  const KIND_TEXT = { department_head: "department head", finance_manager: "finance manager", org_admin: "org admin" };

  function outcomeText(approval) {
    if (approval.status === "approved") return ["posted", "Approved", "The spend is posted to the ledger."];
    if (approval.status === "rejected") return ["rejected", "Rejected", "Its hold on the budget is released."];
    const step = `step ${approval.current_level + 1} of ${approval.levels.length}`;
    return ["pending", "Signed", `It now waits for the ${KIND_TEXT[approval.waiting_for] || approval.waiting_for} (${step}).`];
  }

  /* The card becomes a short, focused statement of what happened, so nothing else on the page moves. */
  function showOutcome(card, approval) {
    const [style, label, next] = outcomeText(approval);
    const outcome = el("div", { class: "approval approval-done", role: "status", tabindex: "-1" },
      el("p", {}, el("span", { class: `status status-${style}` }, label), " ", card.dataset.summary, ". ", next));
    card.replaceWith(outcome);
    outcome.focus();
  }

  function setNoteError(card, message) {
    const note = card.querySelector("textarea[name=note]");
    card.querySelector(".field-error").textContent = message || "";
    if (message) {
      note.setAttribute("aria-invalid", "true");
      note.focus();
    } else {
      note.removeAttribute("aria-invalid");
    }
  }

  async function decide(card, decision) {
    const form = card.querySelector("form");
    const note = form.elements.note.value.trim();
    const problem = card.querySelector(".approval-error");
    problem.textContent = "";
    setNoteError(card, "");
    if (decision === "reject" && !note) {
      setNoteError(card, "Say why the spend is rejected; the employee reads it.");
      return;
    }
    const buttons = form.querySelectorAll("button");
    buttons.forEach((button) => { button.disabled = true; });
    let answer;
    try {
      answer = await api("POST", card.dataset[decision], { note });
    } catch (error) {
      problem.textContent = "Could not reach LedgerX; try again.";
      return;
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
    if (answer.ok) {
      showOutcome(card, answer.data);
      refreshPanels();
      return;
    }
    const { message, fields } = errorMessages(answer.data, `LedgerX answered ${answer.status}.`);
    if (fields.note) {
      setNoteError(card, [].concat(fields.note).join(" "));
      return;
    }
    problem.textContent = message;
    if (answer.status === 409) refreshPanels(); // decided meanwhile: the list below shows how
  }

  document.getElementById("approvals-waiting").addEventListener("submit", (event) => {
    event.preventDefault();
    const card = event.target.closest(".approval");
    const decision = event.submitter && event.submitter.value;
    if (card && (decision === "approve" || decision === "reject")) decide(card, decision);
  });
})();
