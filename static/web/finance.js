/* The finance dashboard: charts, fraud alerts and questions, refreshed in place. */
(function () {
  "use strict";
  const { api, el, formatMoney, readJson, errorMessages, startRefreshing } = window.LedgerX;
  const { palette, draw, compactMoney } = window.LedgerXCharts;

  function drawCharts() {
    const data = readJson("finance-chart-data");
    if (!data) return;
    const currency = data.currency;
    const money = (values) => (context) => formatMoney(values[context.dataIndex], currency);
    draw(document.getElementById("chart-per-day"), {
      type: "bar",
      data: {
        labels: data.per_day.labels,
        datasets: [{ label: "Posted spend", data: data.per_day.values.map(Number), backgroundColor: palette[0] }],
      },
      options: {
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: money(data.per_day.values) } } },
        scales: { y: { beginAtZero: true, ticks: { callback: compactMoney(currency) } }, x: { grid: { display: false } } },
      },
    });
    const categoryCanvas = document.getElementById("chart-category");
    categoryCanvas.parentElement.hidden = data.by_category.values.length === 0;
    draw(categoryCanvas, {
      type: "doughnut",
      data: {
        labels: data.by_category.labels,
        datasets: [{ label: "Spend", data: data.by_category.values.map(Number), backgroundColor: palette }],
      },
      options: {
        plugins: { legend: { position: "right" }, tooltip: { callbacks: { label: money(data.by_category.values) } } },
      },
    });
  }

  const alertsBox = document.getElementById("fraud-alerts");
  let alertsShown = null;

  function showAlerts(signature, ...nodes) {
    if (signature === alertsShown) return; // unchanged: leave the live region quiet
    alertsShown = signature;
    alertsBox.replaceChildren(...nodes);
  }

  async function loadFraudAlerts() {
    let answer;
    try {
      answer = await api("GET", alertsBox.dataset.api);
    } catch (error) {
      showAlerts("offline", el("p", { class: "unavailable" }, "Fraud alerts could not be loaded: the server is out of reach."));
      return;
    }
    if (answer.status === 404) {
      showAlerts("absent", el("p", { class: "unavailable" }, "Fraud alerts are not available on this installation."));
      return;
    }
    if (!answer.ok) {
      showAlerts(`error-${answer.status}`, el("p", { class: "unavailable" }, `Fraud alerts could not be loaded (${answer.status}).`));
      return;
    }
    const alerts = Array.isArray(answer.data) ? answer.data : answer.data.results || [];
    if (!alerts.length) {
      showAlerts("none", el("p", { class: "muted" }, "No open alerts."));
      return;
    }
    showAlerts(JSON.stringify(alerts), el("ul", { class: "workers" }, alerts.map((alert) => el("li", {},
      el("span", { class: "status status-rejected" }, alert.rule || "alert"), " ",
      el("strong", {}, `score ${alert.score}`), " ",
      typeof alert.detail === "string" ? alert.detail : JSON.stringify(alert.detail), " ",
      el("span", { class: "muted small" }, `· transaction ${String(alert.transaction).slice(0, 8)} · ${new Date(alert.created_at).toLocaleString()}`),
    ))));
  }

  const nlqForm = document.getElementById("nlq-form");
  const nlqAnswer = document.getElementById("nlq-answer");

  function answerTable(columns, rows) {
    return el("div", { class: "table-scroll answer-table", role: "region", "aria-label": "Answer", tabindex: "0" },
      el("table", { class: "compact" },
        el("thead", {}, el("tr", {}, columns.map((column) => el("th", { scope: "col" }, column)))),
        el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell === null ? "—" : cell)))))));
  }

  nlqForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = nlqForm.elements.q.value.trim();
    if (!question) {
      nlqAnswer.replaceChildren(el("p", { class: "reason" }, "Type a question first."));
      return;
    }
    const button = nlqForm.querySelector('button[type="submit"]');
    button.disabled = true;
    nlqAnswer.replaceChildren(el("p", { class: "muted" }, "Working it out…"));
    let answer;
    try {
      answer = await api("POST", nlqForm.dataset.api, { q: question });
    } catch (error) {
      nlqAnswer.replaceChildren(el("p", { class: "reason" }, "The server is out of reach; try again."));
      return;
    } finally {
      button.disabled = false;
    }
    if (answer.status === 404) {
      nlqAnswer.replaceChildren(el("p", { class: "unavailable" }, "Questions in plain language are not available on this installation."));
      return;
    }
    if (!answer.ok) {
      const { message, fields } = errorMessages(answer.data, `The question could not be answered (${answer.status}).`);
      const hints = Object.values(fields).flat().filter((hint) => typeof hint === "string");
      nlqAnswer.replaceChildren(el("p", { class: "reason" }, message),
        hints.length ? el("ul", {}, hints.map((hint) => el("li", {}, hint))) : null);
      return;
    }
    const body = answer.data;
    nlqAnswer.replaceChildren(
      el("p", { class: "muted small" }, `${body.rows.length} row${body.rows.length === 1 ? "" : "s"} · answered by ${body.source}${body.cached ? " (cached)" : ""}`),
      answerTable(body.columns, body.rows),
      el("details", {}, el("summary", {}, "How the question was understood"), el("pre", {}, JSON.stringify(body.interpretation, null, 2))));
  });

  startRefreshing(document.getElementById("finance-panels"), () => { drawCharts(); loadFraudAlerts(); });
  drawCharts();
  loadFraudAlerts();
})();
