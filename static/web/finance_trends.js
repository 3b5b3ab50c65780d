/* The finance page's trends: six months of spend, and a department's budget burn-down (spent so far, the
   forecast to month end at that pace, and the limit), drawn with the vendored Chart.js through charts.js.
   The figures are also in the tables beside them, so the page reads the same without the charts. */
(function () {
  "use strict";
  const { formatMoney, readJson } = window.LedgerX;
  const { palette, draw, compactMoney } = window.LedgerXCharts;
  const data = readJson("finance-trends-data");
  if (!data) return;
  const currency = data.currency;
  const numbers = (values) => values.map((value) => (value === null ? null : Number(value)));
  const moneyLabel = (context) => `${context.dataset.label}: ${formatMoney(context.raw, currency)}`;
  const moneyAxis = { beginAtZero: true, ticks: { callback: compactMoney(currency) } };

  draw(document.getElementById("chart-months"), {
    type: "bar",
    data: {
      labels: data.months.labels,
      datasets: [{ label: "Spend", data: numbers(data.months.values), backgroundColor: palette[0] }],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: moneyLabel } } },
      scales: { y: moneyAxis, x: { grid: { display: false } } },
    },
  });

  const canvas = document.getElementById("chart-burn-down");
  const picker = document.getElementById("burn-department");
  if (!canvas || !picker) return;

  function drawBurnDown() {
    const line = data.burn_down[Number(picker.value)];
    draw(canvas, {
      type: "line",
      data: {
        labels: data.days,
        datasets: [
          { label: "Spent", data: numbers(line.spent), borderColor: palette[0], backgroundColor: palette[0], pointRadius: 0 },
          {
            label: "Forecast", data: numbers(line.projected), borderColor: palette[2], backgroundColor: palette[2],
            borderDash: [6, 4], pointRadius: 0,
          },
          {
            label: "Limit", data: data.days.map(() => Number(line.limit)), borderColor: palette[4],
            backgroundColor: palette[4], pointRadius: 0, borderWidth: 1,
          },
        ],
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label: moneyLabel } } },
        scales: { y: moneyAxis, x: { grid: { display: false }, ticks: { maxTicksLimit: 8 } } },
      },
    });
  }

  picker.addEventListener("change", drawBurnDown);
  drawBurnDown();
})();
