// downloads/pwa.ts registers the service worker (dist/sw.js, scope "/"),
// which keeps the app shell so the app and its Downloads page open with no
// network; and it picks up this browser's unfinished downloads at start.
import { downloads, hasDevice } from "./manager";

/** registerServiceWorker installs /sw.js when the browser supports it (secure contexts only). */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => {
    console.warn("marquee: the offline app is not available, service worker registration failed:", e);
  });
}

/** resumeDownloads starts the download manager at page load when this
 * browser is a registered download device, so cut downloads continue and
 * queued progress is sent without opening the Downloads page first. */
export function resumeDownloads(): void {
  if (hasDevice()) downloads();
}
