import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type Account, type User } from "../api";
import { navigate } from "../router";
import { ErrorNote } from "../ui";

/** safeNext keeps redirects on this site. */
function safeNext(next: string): string {
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** linkNotice explains why a one-time sign-in link was refused (?link=<API error code>). */
function linkNotice(code: string): string {
  const what =
    code === "link_used"
      ? "This sign-in link was already used: each link works once."
      : code === "expired"
        ? "This sign-in link has expired."
        : code === "too_many_attempts"
          ? "Too many sign-in attempts from here. Wait a few minutes."
          : "This sign-in link is not valid. Check that you copied all of it.";
  return `${what} Sign in with your username and password below, or ask an admin for a new link (on the server: ./bin/api login-link --user NAME).`;
}

/**
 * SignIn signs in with a password, or switches to another account already
 * signed in on this browser (the server keeps them all in the session cookie).
 */
export function SignIn({ onSignedIn, next, current, link }: { onSignedIn: (u: User) => void; next: string; current: User | null; link?: string | null }) {
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.accounts().then(setAccounts, () => setAccounts([]));
  }, []);

  const done = (u: User) => {
    onSignedIn(u);
    navigate(safeNext(next), true);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      done(await api.login(username.trim(), password));
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(status === 401 || status === 403 || status === 404 ? "Wrong username or password." : `Could not sign in: ${(err as Error).message}`);
      setBusy(false);
    }
  };

  const pick = async (a: Account) => {
    setError("");
    try {
      done(a.active ? await api.me() : await api.switchAccount(a.id));
    } catch (err) {
      setError(`Could not switch to ${a.displayName || a.username}: ${(err as Error).message}. Sign in again below.`);
      setUsername(a.username);
    }
  };

  const people = accounts.filter((a) => a.role !== "guest");
  return (
    <main class="signin-page">
      <div class="signin-card">
        <div class="brand big" aria-hidden="true">
          <span class="brand-mark">▶</span> Marquee
        </div>
        <h1>{people.length ? "Choose an account" : "Sign in"}</h1>
        <p class="muted">Watch together, in sync.</p>
        {link && (
          <p class="link-notice" role="alert" data-testid="link-notice">
            {linkNotice(link)}
          </p>
        )}
        {people.length > 0 && (
          <div class="account-switcher" role="group" aria-label="Accounts signed in on this browser">
            {people.map((a) => (
              <div class={`account-chip${a.active || a.id === current?.id ? " selected" : ""}`} key={a.id}>
                <button type="button" class="account-pick" aria-label={`Continue as ${a.displayName || a.username}`} onClick={() => void pick(a)}>
                  <span class="avatar" aria-hidden="true">
                    {(a.displayName || a.username).slice(0, 1).toUpperCase()}
                  </span>
                  <span>
                    <strong>{a.displayName || a.username}</strong>
                    <small>
                      {a.username}
                      {a.active ? " · active" : ""}
                    </small>
                  </span>
                </button>
              </div>
            ))}
            <p class="muted small divider">or sign in to another account</p>
          </div>
        )}
        <form onSubmit={submit} class="stack">
          <label>
            Username
            <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required autofocus />
          </label>
          <label>
            Password
            <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
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
