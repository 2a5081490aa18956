// The page frame: skip link, header with navigation by role and the language switch, main, footer.
import { NavLink, Link, Outlet } from "react-router-dom";
import { useI18n, type MessageKey } from "../i18n";
import type { Locale } from "../i18n/format";
import { useSession } from "../auth/session";

function Nav({ to, label }: { to: string; label: MessageKey }) {
  const { t } = useI18n();
  return (
    <li>
      <NavLink to={to} end={to === "/"}>
        {t(label)}
      </NavLink>
    </li>
  );
}

function LanguageSwitch() {
  const { locale, setLocale, t } = useI18n();
  const options: { value: Locale; label: string }[] = [
    { value: "ko", label: "한국어" },
    { value: "en", label: "English" },
  ];
  return (
    <div role="group" aria-label={t("nav.language")} className="lang-switch">
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          lang={o.value}
          aria-pressed={locale === o.value}
          onClick={() => setLocale(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}

export function Layout() {
  const { t } = useI18n();
  const session = useSession();
  const { me } = session;
  return (
    <>
      <a className="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          {t("app.name")}
        </Link>
        <nav aria-label={t("nav.main")}>
          <ul>
            <Nav to="/" label="nav.home" />
            <Nav to="/search" label="nav.search" />
            {session.isSeller && <Nav to="/sell/listings" label="nav.myListings" />}
            {session.isSeller && <Nav to="/sell/new" label="nav.newListing" />}
            {session.isSeller && <Nav to="/sell/inquiries" label="nav.inquiries" />}
            {session.isSeller && <Nav to="/buy/demands" label="nav.demands" />}
            {me && <Nav to="/buy/feed" label="nav.feed" />}
            {me && <Nav to="/buy/bookmarks" label="nav.bookmarks" />}
            {me && <Nav to="/saved-searches" label="nav.savedSearches" />}
            {me && <Nav to="/deals" label="nav.deals" />}
            {session.isBroker && <Nav to="/broker" label="nav.broker" />}
          </ul>
        </nav>
        <div className="account">
          <LanguageSwitch />
          {me ? (
            <>
              <span className="muted">{t("nav.account", { name: me.user.displayName })}</span>
              {session.isOperator && <a href="/admin/">{t("nav.admin")}</a>}
              <button type="button" onClick={() => void session.signOut()}>
                {t("nav.signOut")}
              </button>
            </>
          ) : (
            <>
              <Link to="/signin">{t("nav.signIn")}</Link>
              <Link to="/register">{t("nav.register")}</Link>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>{t("footer.data")}</p>
        <p>
          <a href="/admin/">{t("footer.admin")}</a>
        </p>
      </footer>
    </>
  );
}
