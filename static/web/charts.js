/* Chart.js defaults for LedgerX, and one way to draw or redraw a chart in place. */
(function () {
  "use strict";
  const palette = ["#0a58ca", "#1a7f37", "#bf8700", "#8250df", "#cf222e", "#1b7c83", "#953800", "#57606a"];

  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.color = "#57606a";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  /* Creates the chart on first call; afterwards swaps its data and redraws without a flicker. */
  function draw(canvas, config) {
    const existing = Chart.getChart(canvas);
    if (!existing) return new Chart(canvas, config);
    existing.data.labels = config.data.labels;
    config.data.datasets.forEach((dataset, index) => {
      if (existing.data.datasets[index]) existing.data.datasets[index].data = dataset.data;
    });
    existing.update("none");
    return existing;
  }

  function compactMoney(currency) {
    const format = new Intl.NumberFormat("en-US", { style: "currency", currency, notation: "compact" });
    return (value) => format.format(value);
  }

  window.LedgerXCharts = { palette, draw, compactMoney };
})();
