package api

import (
	"html/template"
	"net/http"
)

// loginPageTmpl signs in with a one-time link. The secret is only spent by
// the script's POST, so link previewers and prefetchers that merely GET the
// page cannot burn it. A refused link goes to the app's sign-in page with
// the reason (link_used, expired, invalid_credentials, too_many_attempts),
// which explains it beside the password form.
var loginPageTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="dark">
<title>Marquee sign-in</title></head>
<body style="font-family:system-ui,sans-serif;background:#0c0d12;color:#eceef4;max-width:32rem;margin:4rem auto;padding:0 1rem">
<h1>Marquee</h1><p id="msg">Signing you in…</p>
<script>
fetch("/api/auth/link", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: {{.}}})})
  .then(async (r) => {
    if (r.ok) { location.replace("/"); return; }
    const e = await r.json().catch(() => ({}));
    location.replace("/signin?link=" + encodeURIComponent(e.code || String(r.status)));
  }, () => {
    document.getElementById("msg").textContent = "Could not reach the server. Reload this page to try again.";
  });
</script></body></html>`))

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, _ *caller) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	return loginPageTmpl.Execute(w, r.PathValue("token"))
}
