/* The question box: a question in plain language, answered in a sentence, a table and a chart. */
(function () {
  "use strict";
  const { api, el, formatMoney, errorMessages } = window.LedgerX;
  const form = document.getElementById("nlq-form");
  const box = document.getElementById("nlq-answer");
  if (!form || !box) return;
  const currency = form.dataset.currency || "USD";

  function table(headers, rows) {
    return el("div", { class: "table-scroll answer-table", role: "region", "aria-label": "Answer", tabindex: "0" },
      el("table", { class: "compact" },
        el("thead", {}, el("tr", {}, headers.map((header) => el("th", { scope: "col" }, header)))),
        el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell)))))));
  }

  function chart(spec, sentence) {
    if (!spec || !window.LedgerXCharts || !window.Chart) return null;
    const { palette, draw, compactMoney } = window.LedgerXCharts;
    const canvas = el("canvas", { role: "img", "aria-label": sentence });
    const holder = el("div", { class: "chart chart-small answer-chart" }, canvas);
    const values = spec.values.map((value) => (value === null ? null : Number(value)));
    const shown = (value) => (spec.unit === "money" ? formatMoney(value, currency) : spec.unit === "percent" ? `${value}%` : String(value));
    requestAnimationFrame(() => draw(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: [{ data: values, backgroundColor: palette[0], borderColor: palette[0] }] },
      options: {
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (context) => shown(spec.values[context.dataIndex]) } } },
        scales: {
          y: { beginAtZero: true, ticks: spec.unit === "money" ? { callback: compactMoney(currency) } : {} },
          x: { grid: { display: false } },
        },
      },
    }));
    return holder;
  }

  function showAnswer(body) {
    const answer = body.answer;
    const single = answer.value !== null;
    box.replaceChildren(...[
      el("p", { class: single ? "answer-sentence answer-value" : "answer-sentence" }, answer.sentence),
      answer.empty ? el("p", { class: "muted" }, answer.empty) : null,
      chart(answer.chart, answer.sentence),
      !single && answer.rows.length ? table(answer.headers, answer.rows) : null,
      el("p", { class: "muted small" }, `answered by ${body.source}${body.cached ? " (cached)" : ""}`),
    ].filter(Boolean));
  }

  function showRefusal(answer) {
    const { message, fields } = errorMessages(answer.data, `The question could not be answered (${answer.status}).`);
    const examples = Array.isArray(fields.examples) ? fields.examples : [];
    box.replaceChildren(...[
      el("p", { class: "reason" }, message),
      typeof fields.understood_text === "string" ? el("p", { class: "muted" }, fields.understood_text) : null,
      examples.length ? el("p", {}, "Questions like these can be answered:") : null,
      examples.length ? el("ul", { class: "examples" }, examples.map((example) => el("li", {},
        el("button", { type: "button", class: "link-button", "data-example": example }, example)))) : null,
    ].filter(Boolean));
  }

  async function ask(question) {
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    box.replaceChildren(el("p", { class: "muted" }, "Working it out…"));
    let answer;
    try {
      answer = await api("POST", form.dataset.api, { q: question });
    } catch (error) {
      box.replaceChildren(el("p", { class: "reason" }, "The server is out of reach; try again."));
      return;
    } finally {
      button.disabled = false;
    }
    if (answer.status === 404) {
      box.replaceChildren(el("p", { class: "unavailable" }, "Questions in plain language are not available on this installation."));
    } else if (!answer.ok) {
      showRefusal(answer);
    } else {
      showAnswer(answer.data);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = form.elements.q.value.trim();
    if (!question) {
      box.replaceChildren(el("p", { class: "reason" }, "Type a question first."));
      return;
    }
    ask(question);
  });

  box.addEventListener("click", (event) => {
    const example = event.target.closest("[data-example]");
    if (!example) return;
    form.elements.q.value = example.dataset.example;
    ask(example.dataset.example);
  });
})();
