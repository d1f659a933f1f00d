import { useRef, useState } from "preact/hooks";
import { ApiError, api, type User } from "../api";
import { forget, remember, remembered } from "../accounts";
import { navigate } from "../router";
import { ErrorNote } from "../ui";

/** SignIn is the sign-in page with a switcher of accounts used here before. */
export function SignIn({ onSignedIn, next, current }: { onSignedIn: (u: User) => void; next: string; current: User | null }) {
  const [accounts, setAccounts] = useState(remembered);
  const [username, setUsername] = useState(accounts[0]?.username ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const pw = useRef<HTMLInputElement>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      if (current) await api.logout().catch(() => undefined);
      const u = await api.login(username.trim(), password);
      const user = u && typeof u === "object" && "username" in u ? u : await api.me();
      remember({ username: user.username, displayName: user.displayName || user.username });
      onSignedIn(user);
      navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/", true);
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 403) ? "Wrong username or password." : `Could not sign in: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const pick = (name: string) => {
    setUsername(name);
    setPassword("");
    pw.current?.focus();
  };

  return (
    <main class="signin-page">
      <div class="signin-card">
        <div class="brand big" aria-hidden="true">
          <span class="brand-mark">▶</span> Marquee
        </div>
        <h1>Sign in</h1>
        <p class="muted">Watch together, in sync.</p>
        {current && (
          <p class="muted small">
            Signed in as <strong>{current.username}</strong>.{" "}
            <a href="/">Continue to the library</a>, or pick another account.
          </p>
        )}
        {accounts.length > 0 && (
          <div class="account-switcher" role="group" aria-label="Accounts used on this device">
            {accounts.map((a) => (
              <div class={`account-chip${a.username === username ? " selected" : ""}`} key={a.username}>
                <button type="button" class="account-pick" aria-label={`Sign in as ${a.displayName}`} onClick={() => pick(a.username)}>
                  <span class="avatar" aria-hidden="true">
                    {a.displayName.slice(0, 1).toUpperCase()}
                  </span>
                  <span>
                    <strong>{a.displayName}</strong>
                    <small>{a.username}</small>
                  </span>
                </button>
                <button
                  type="button"
                  class="forget"
                  aria-label={`Forget ${a.username} on this device`}
                  onClick={() => {
                    forget(a.username);
                    setAccounts(remembered());
                  }}
                >
                  ×
                </button>
              </div>
            ))}
          </div>
        )}
        <form onSubmit={submit} class="stack">
          <label>
            Username
            <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required autofocus={!username} />
          </label>
          <label>
            Password
            <input
              ref={pw}
              name="password"
              type="password"
              autocomplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              required
              autofocus={!!username}
            />
          </label>
          {error && <ErrorNote>{error}</ErrorNote>}
          <button type="submit" class="btn primary wide" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      </div>
    </main>
  );
}
