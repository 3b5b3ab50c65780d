/* System internals: the panels refresh every few seconds; the throughput chart redraws in place. */
(function () {
  "use strict";
  const { readJson, startRefreshing } = window.LedgerX;
  const { palette, draw } = window.LedgerXCharts;

  function drawThroughput() {
    const data = readJson("system-chart-data");
    if (!data) return;
    draw(document.getElementById("chart-throughput"), {
      type: "bar",
      data: {
        labels: data.throughput.labels,
        datasets: [
          { label: "Accepted", data: data.throughput.accepted, backgroundColor: palette[0] },
          { label: "Settled", data: data.throughput.settled, backgroundColor: palette[1] },
        ],
      },
      options: {
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } },
      },
    });
  }

  startRefreshing(document.getElementById("system-panels"), drawThroughput);
  drawThroughput();
})();
