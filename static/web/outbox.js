/*
 * The outbox: spends recorded on this device, kept in IndexedDB (through the vendored idb) until LedgerX
 * has answered them. Shared by the employee page and the service worker, which both send from it.
 *
 * Each spend keeps the Idempotency-Key made when it was recorded, so sending it again (after a lost
 * answer, from the page and the worker at once, on the next open) makes at most one transaction: a
 * replay is answered 202 like the first time and counts as sent.
 *
 * States: "waiting" (not answered yet), "sent" (accepted; its transaction kept), "refused" (its reason kept).
 */
(function (scope) {
  "use strict";
  const SYNC_TAG = "ledgerx-outbox";
  // Answers that say nothing was decided about the spend: the session or its CSRF token is stale, a second
  // factor is due, or the server was busy. The spend stays waiting and is sent again later.
  const NOT_DECIDED = new Set(["unauthenticated", "csrf_failed", "second_factor_required", "second_factor_enrollment_required"]);
  let opened = null;

  function database() {
    if (!opened) {
      opened = scope.idb.openDB("ledgerx", 1, {
        upgrade(db) {
          db.createObjectStore("spends", { keyPath: "key" });
          db.createObjectStore("session");
        },
      });
    }
    return opened;
  }

  /* Who is signed in on this device and their CSRF token, for the worker's sends. */
  async function rememberSession(session) {
    await (await database()).put("session", session, "current");
  }

  async function currentSession() {
    return (await database()).get("session", "current");
  }

  async function record({ key, userId, api, receiptsApi, body, photo }) {
    const entry = {
      key, userId: String(userId), api, receiptsApi, body, state: "waiting", recordedAt: Date.now(),
      photo: photo || null, photoName: photo ? photo.name || "receipt.jpg" : null, photoSent: !photo,
      transaction: null, reason: null, receiptProblem: null,
    };
    await (await database()).put("spends", entry);
    return entry;
  }

  async function entries(userId) {
    const all = await (await database()).getAll("spends");
    return all.filter((entry) => entry.userId === String(userId)).sort((a, b) => a.recordedAt - b.recordedAt);
  }

  async function save(entry) {
    await (await database()).put("spends", entry);
    return entry;
  }

  async function forget(key) {
    await (await database()).delete("spends", key);
  }

  async function readJson(response) {
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : null;
  }

  function undecided(status, data) {
    if (status === 408 || status === 409 || status === 429 || status >= 500) return true;
    const code = data && data.error && data.error.code;
    return (status === 401 || status === 403) && (!code || NOT_DECIDED.has(code));
  }

  function reasonOf(status, data) {
    const error = data && data.error;
    if (!error) return { message: `LedgerX answered ${status}.`, fields: {} };
    return { message: error.message || `LedgerX answered ${status}.`, fields: error.fields || {} };
  }

  async function submit(entry, csrfToken) {
    let response;
    try {
      response = await scope.fetch(entry.api, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json", "Content-Type": "application/json",
          "Idempotency-Key": entry.key, "X-CSRFToken": csrfToken,
        },
        body: JSON.stringify(entry.body),
      });
    } catch (error) {
      return entry; // no connection: still waiting
    }
    const data = await readJson(response);
    if (response.status === 202 && data) {
      return save({ ...entry, state: "sent", transaction: data });
    }
    if (undecided(response.status, data)) return entry;
    return save({ ...entry, state: "refused", reason: reasonOf(response.status, data) });
  }

  async function attachReceipt(entry, csrfToken) {
    const form = new FormData();
    form.append("file", entry.photo, entry.photoName);
    let response;
    try {
      response = await scope.fetch(entry.receiptsApi.replace("{id}", entry.transaction.id), {
        method: "POST", credentials: "same-origin", headers: { Accept: "application/json", "X-CSRFToken": csrfToken }, body: form,
      });
    } catch (error) {
      return entry;
    }
    const data = await readJson(response);
    // 409 is this very file attached by an earlier send whose answer was lost, or a spend that takes no
    // receipt any more: either way nothing is left to send.
    if (response.status === 201 || response.status === 409) {
      return save({ ...entry, photo: null, photoSent: true, receiptProblem: response.status === 409 ? reasonOf(409, data).message : null });
    }
    if (undecided(response.status, data)) return entry;
    return save({ ...entry, photo: null, photoSent: true, receiptProblem: reasonOf(response.status, data).message });
  }

  async function send(entry, csrfToken) {
    let current = entry;
    if (current.state === "waiting") current = await submit(current, csrfToken);
    if (current.state === "sent" && !current.photoSent) current = await attachReceipt(current, csrfToken);
    return current;
  }

  async function flushOnce(session) {
    const who = session || (await currentSession());
    if (!who || !who.userId) return [];
    for (const entry of await entries(who.userId)) {
      if (entry.state === "waiting" || (entry.state === "sent" && !entry.photoSent)) await send(entry, who.csrfToken);
    }
    return entries(who.userId);
  }

  /* Sends every spend of the signed-in person still waiting (or whose receipt is), one flush after
   * another in each page or worker; a page and the worker flushing at once is safe (the key decides). */
  let queue = Promise.resolve();
  function flush(session) {
    const next = queue.then(() => flushOnce(session));
    queue = next.catch(() => undefined);
    return next;
  }

  scope.LedgerXOutbox = { SYNC_TAG, rememberSession, currentSession, record, entries, save, forget, flush };
})(self);
