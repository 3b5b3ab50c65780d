/* Shared by every page: API calls with the session, money for people, DOM building, in-place refresh. */
(function () {
  "use strict";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /* Calls the JSON API with the session cookie; answers {status, ok, data}. Throws only on network failure. */
  async function api(method, url, body, headers) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
    const response = await fetch(url, options);
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : null;
    return { status: response.status, ok: response.ok, data };
  }

  function newIdempotencyKey() {
    if (window.crypto.randomUUID) return window.crypto.randomUUID();
    // randomUUID exists only in secure contexts; getRandomValues exists everywhere.
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /* "6000.00" USD -> "$6,000", like the server's format_money. Intl formats the decimal string itself. */
  function formatMoney(amount, currency) {
    const text = String(amount);
    const whole = /^-?\d+(\.0+)?$/.test(text);
    try {
      return new Intl.NumberFormat(pageLocale(), {
        style: "currency", currency, minimumFractionDigits: whole ? 0 : undefined,
        maximumFractionDigits: whole ? 0 : undefined,
      }).format(text);
    } catch (error) {
      return `${text} ${currency}`;
    }
  }

  /* The page's locale, from <html lang> (the server renders in it): "en-us" -> "en-US". */
  function pageLocale() {
    const [language, region] = (document.documentElement.lang || "en-us").split("-");
    return region ? `${language}-${region.toUpperCase()}` : language;
  }

  /* An instant as the server writes it (ledgerx/formats), in the organization's timezone, the zone named:
     "Mar 15, 2027, 10:00 EDT". */
  function formatWhen(iso, timeZone) {
    const parts = new Intl.DateTimeFormat(pageLocale(), {
      timeZone: timeZone || "UTC", month: "short", day: "numeric", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
    }).formatToParts(new Date(iso));
    const part = (type) => (parts.find((p) => p.type === type) || {}).value || "";
    return `${part("month")} ${part("day")}, ${part("year")}, ${part("hour")}:${part("minute")} ${part("timeZoneName")}`;
  }

  /* el("p", {class: "x"}, "text", child) — text is always set as text, never parsed as HTML. */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function readJson(id) {
    const script = document.getElementById(id);
    return script ? JSON.parse(script.textContent) : null;
  }

  function errorMessages(body, fallback) {
    const error = body && body.error;
    if (!error) return { message: fallback, fields: {} };
    return { message: error.message || fallback, fields: error.fields || {} };
  }

  /*
   * The region's data-refresh-url serves the same partial the page was rendered with. Each element
   * marked data-swap (with an id) whose content changed is replaced; nothing else is touched, so
   * focus, forms and charts stay put. Returns the refresh function; repeats every
   * data-refresh-seconds when that is set, skipping while the tab is hidden.
   */
  function startRefreshing(region, onSwapped) {
    const url = region.dataset.refreshUrl;
    const seconds = Number(region.dataset.refreshSeconds || 0);
    let running = false;

    async function refresh() {
      if (running) return;
      running = true;
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (response.redirected || response.status === 401 || response.status === 403) {
          window.location.reload(); // the session ended: the page itself sends the person to log in
          return;
        }
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        for (const incoming of fresh.querySelectorAll("[data-swap][id]")) {
          const current = document.getElementById(incoming.id);
          if (current && current.innerHTML !== incoming.innerHTML) current.innerHTML = incoming.innerHTML;
        }
        if (onSwapped) onSwapped();
      } catch (error) {
        // The server was briefly out of reach; the next refresh tries again.
      } finally {
        running = false;
      }
    }

    if (seconds > 0) {
      window.setInterval(() => { if (!document.hidden) refresh(); }, seconds * 1000);
    }
    return refresh;
  }

  window.LedgerX = { api, newIdempotencyKey, formatMoney, formatWhen, el, readJson, errorMessages, startRefreshing };
})();
