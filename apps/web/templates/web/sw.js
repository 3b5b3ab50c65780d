/* LedgerX's service worker, version {{ version }} (apps/web/pwa_views.py renders it at /sw.js).
 *
 * Static files: from the cache, kept at install. The employee's and approver's pages and their panels:
 * from the network, each answer kept, so the last-known page (with its budget) opens offline; any other
 * page offline shows /offline/. The API is never cached. A Background Sync sends the outbox; a push
 * shows its notice. */
"use strict";
importScripts("{{ idb_url|escapejs }}", "{{ outbox_url|escapejs }}");

const SHELL_CACHE = "ledgerx-shell-{{ version }}";
const PAGES_CACHE = "ledgerx-pages";
const SHELL = [{% for url in shell_assets %}"{{ url|escapejs }}", {% endfor %}"{% url 'pwa-offline' %}"];
const OFFLINE_PAGE = "{% url 'pwa-offline' %}";
const KEPT_PAGES = new Set(["{% url 'home' %}", "{% url 'home-panels' %}", "{% url 'approvals' %}", "{% url 'approvals-panels' %}"]);
const NOTICE_ICON = "{{ notice_icon|escapejs }}";
const STATIC_PREFIX = "{{ static_prefix|escapejs }}";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("ledgerx-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function keptPage(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    // A redirect (to sign in) or an error is not the page: keep the last good one.
    if (response.ok && !response.redirected) {
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(url.pathname, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(url.pathname, { cacheName: PAGES_CACHE });
    if (kept) return kept;
    if (request.mode === "navigate") return caches.match(OFFLINE_PAGE, { cacheName: SHELL_CACHE });
    throw error;
  }
}

async function otherPage(request) {
  try {
    return await fetch(request);
  } catch (error) {
    return caches.match(OFFLINE_PAGE, { cacheName: SHELL_CACHE });
  }
}

async function staticFile(request) {
  const kept = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (KEPT_PAGES.has(url.pathname)) event.respondWith(keptPage(request));
  else if (url.pathname.startsWith(STATIC_PREFIX)) event.respondWith(staticFile(request));
  else if (request.mode === "navigate") event.respondWith(otherPage(request));
});

async function tellPages(message) {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage(message);
}

self.addEventListener("sync", (event) => {
  if (event.tag !== LedgerXOutbox.SYNC_TAG) return;
  event.waitUntil(LedgerXOutbox.flush().then(async (entries) => {
    await tellPages({ type: "outbox-changed" });
    // Still waiting: fail the sync, so the browser tries again later.
    if (entries.some((entry) => entry.state === "waiting")) throw new Error("spends still waiting to send");
  }));
});

// A decision told by Web Push (apps/push): shown as a notification that opens its page.
self.addEventListener("push", (event) => {
  const notice = event.data ? event.data.json() : { title: "LedgerX", body: "", url: "/", tag: "ledgerx" };
  event.waitUntil(self.registration.showNotification(notice.title, {
    body: notice.body, tag: notice.tag, data: { url: notice.url }, icon: NOTICE_ICON,
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url, self.location.origin).href;
  event.waitUntil((async () => {
    for (const client of await self.clients.matchAll({ type: "window" })) {
      if (client.url === url) return client.focus();
    }
    return self.clients.openWindow(url);
  })());
});

self.addEventListener("message", (event) => {
  // Signed out: the kept pages are that person's, so they go, and nothing is sent until someone signs in.
  if (event.data && event.data.type === "signed-out") {
    event.waitUntil(Promise.all([caches.delete(PAGES_CACHE), LedgerXOutbox.rememberSession({})]));
  }
});
