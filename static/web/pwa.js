/* Every page: registers the service worker that makes LedgerX an installable app (apps/web/pwa_views.py).
 * A page with no one signed in tells it, so the pages it kept for the last person are dropped. */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  const script = document.currentScript;
  const signedIn = Boolean(script.dataset.user);
  navigator.serviceWorker.register(script.dataset.serviceWorker, { scope: "/" }).then(async () => {
    if (signedIn) return;
    const registration = await navigator.serviceWorker.ready;
    if (registration.active) registration.active.postMessage({ type: "signed-out" });
  }).catch(() => {
    // No worker (a private window, an old browser): the pages work online as before.
  });
})();

/* "Notify me of decisions": where the server sends Web Push and the browser has it, subscribe this browser
 * (asked by a click, never on load) and keep the server's copy of the subscription current. */
(function () {
  "use strict";
  const offer = document.getElementById("push-offer");
  if (!offer || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return;
  const { api } = window.LedgerX;
  const button = offer.querySelector("button");
  const status = offer.querySelector("[role=status]");

  function keyBytes(base64url) {
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  }

  async function keep(subscription) {
    const answer = await api("POST", offer.dataset.subscribeApi, subscription.toJSON());
    return answer.ok;
  }

  (async () => {
    const answer = await api("GET", offer.dataset.keyApi);
    if (!answer.ok || !answer.data.public_key || Notification.permission === "denied") return;
    const registration = await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing) {
      await keep(existing); // this person, on this browser, from now on
      return;
    }
    offer.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true, applicationServerKey: keyBytes(answer.data.public_key),
        });
        status.textContent = (await keep(subscription)) ? "Notifications are on." : "Could not turn notifications on.";
        button.hidden = true;
      } catch (error) {
        status.textContent = "Notifications are off in this browser; this page shows every decision.";
      } finally {
        button.disabled = false;
      }
    });
  })().catch(() => {
    // Out of reach or no push here: the page shows every decision anyway.
  });
})();
