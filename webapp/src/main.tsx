// main.tsx mounts the app: it loads the signed-in user once, then routes.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type User } from "./api";
import { navigate, onLinkClick, useRoute } from "./router";
import { Header } from "./pages/Header";
import { SignIn } from "./pages/SignIn";
import { LibraryPage } from "./pages/Library";
import { ItemPage } from "./pages/ItemDetail";
import { WatchPage } from "./player/Player";
import { JoinPage } from "./pages/Join";
import { PartyPage } from "./pages/Party";
import { PasswordPrompt } from "./pages/Password";
import { OptimizePage } from "./pages/Optimize";
import { CdnNodesPage } from "./pages/CdnNodes";
import { Spinner } from "./ui";
import { DownloadsPage } from "./downloads/DownloadsPage";
import { registerServiceWorker, resumeDownloads } from "./downloads/pwa";
import "./styles.css";

function App() {
  const route = useRoute();
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [passwordOpen, setPasswordOpen] = useState(false);

  useEffect(() => {
    api.me().then(setUser, (err) => {
      if (!(err instanceof ApiError) || err.status !== 401) console.warn("marquee: /api/me", err);
      setUser(null);
    });
  }, []);

  const needsUser = route.name === "library" || route.name === "item" || route.name === "watch" || route.name === "optimize" || route.name === "cdnnodes";
  useEffect(() => {
    if (user === null && needsUser) {
      navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`, true);
    }
  }, [user, needsUser]);

  if (route.name === "join") {
    return (
      <>
        <Header user={user ?? null} onUser={setUser} />
        <JoinPage token={route.params.token} user={user ?? null} onJoined={setUser} />
      </>
    );
  }
  if (user === undefined) {
    return (
      <main class="center-page">
        <Spinner />
      </main>
    );
  }
  let page;
  switch (route.name) {
    case "signin":
      page = <SignIn onSignedIn={setUser} next={route.query.get("next") ?? "/"} current={user} link={route.query.get("link")} />;
      break;
    case "library":
      page = user ? <LibraryPage user={user} /> : null;
      break;
    case "item":
      page = user ? <ItemPage id={Number(route.params.id)} /> : null;
      break;
    case "watch":
      page = user ? <WatchPage id={Number(route.params.id)} /> : null;
      break;
    case "optimize":
      page = user ? <OptimizePage query={route.query} /> : null;
      break;
    case "cdnnodes":
      page = user ? <CdnNodesPage /> : null;
      break;
    case "party":
      page = <PartyPage partyId={route.params.id} user={user} />;
      break;
    case "downloads":
      // no user needed: offline, /api/me fails and the stored copies still list and play
      page = <DownloadsPage />;
      break;
    default:
      page = (
        <main class="center-page">
          <h1>Not found</h1>
          <p>
            <a href="/">Back to the library</a>
          </p>
        </main>
      );
  }
  return (
    <>
      {route.name !== "signin" && <Header user={user} onUser={setUser} onPassword={() => setPasswordOpen(true)} />}
      {user && route.name !== "signin" && (route.name !== "party" || passwordOpen) && (
        <PasswordPrompt user={user} open={passwordOpen} onClose={() => setPasswordOpen(false)} onUser={setUser} />
      )}
      {page}
    </>
  );
}

document.addEventListener("click", onLinkClick);
registerServiceWorker();
resumeDownloads();
render(<App />, document.getElementById("app")!);
