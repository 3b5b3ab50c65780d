/* The finance dashboard: charts and fraud alerts, refreshed in place (the question box: question.js). */
(function () {
  "use strict";
  const { api, el, formatMoney, formatWhen, readJson, startRefreshing } = window.LedgerX;
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
    // Each alert in words: the rule's name, its score, what it saw, when (in the organization's time), and a
    // link to the spend's page in the back office, which tells its whole story; never an id.
    const ruleLabels = readJson("fraud-rule-labels") || {};
    const timeZone = alertsBox.dataset.timeZone;
    showAlerts(JSON.stringify(alerts), el("ul", { class: "workers" }, alerts.map((alert) => el("li", {},
      el("span", { class: "status status-rejected" }, ruleLabels[alert.rule] || "Alert"), " ",
      el("strong", {}, `score ${Number(alert.score).toFixed(2)}`), " ",
      typeof alert.detail === "string" ? alert.detail : JSON.stringify(alert.detail), " ",
      el("span", { class: "muted small" }, `· ${formatWhen(alert.created_at, timeZone)} · `),
      el("a", { href: `${alertsBox.dataset.spendPages}${encodeURIComponent(alert.transaction)}/change/` }, "Review the spend"),
    ))));
  }

  startRefreshing(document.getElementById("finance-panels"), () => { drawCharts(); loadFraudAlerts(); });
  drawCharts();
  loadFraudAlerts();
})();
