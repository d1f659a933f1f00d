package api

import (
	"html/template"
	"net/http"
)

// loginPageTmpl signs in with a one-time link. The secret is only spent by
// the script's POST, so link previewers and prefetchers that merely GET the
// page cannot burn it.
var loginPageTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Marquee sign-in</title></head>
<body style="font-family:system-ui;max-width:32rem;margin:4rem auto">
<h1>Marquee</h1><p id="msg">Signing you in…</p>
<script>
fetch("/api/auth/link", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: {{.}}})})
  .then(async (r) => {
    if (r.ok) { location.replace("/"); return; }
    const e = await r.json().catch(() => ({}));
    document.getElementById("msg").textContent = "This link cannot be used: " + (e.message || r.status) +
      ". Ask an admin for a new one (cmd/api login-link).";
  });
</script></body></html>`))

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, _ *caller) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	return loginPageTmpl.Execute(w, r.PathValue("token"))
}
