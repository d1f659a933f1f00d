// downloads/pwa.ts registers the service worker (dist/sw.js, scope "/"),
// which keeps the app shell so the app and its Downloads page open with no
// network.

/** registerServiceWorker installs /sw.js when the browser supports it (secure contexts only). */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => {
    console.warn("marquee: the offline app is not available, service worker registration failed:", e);
  });
}
