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
