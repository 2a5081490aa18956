// Loading, failure and "sign in first" states, announced to screen readers.
import type { CombinedError } from "urql";
import { Link, useLocation } from "react-router-dom";
import { useI18n } from "../i18n";

export function Loading() {
  const { t } = useI18n();
  return (
    <p role="status" aria-live="polite" className="muted">
      {t("common.loading")}
    </p>
  );
}

export function QueryError({ error, retry }: { error: CombinedError; retry?: () => void }) {
  const { t } = useI18n();
  return (
    <div role="alert" className="alert alert-error">
      <p>{t("common.error", { message: error.graphQLErrors[0]?.message ?? error.message })}</p>
      {retry && (
        <button type="button" onClick={retry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}

export function SignInNeeded() {
  const { t } = useI18n();
  const location = useLocation();
  return (
    <div className="alert">
      <p>{t("common.signInNeeded")}</p>
      <Link to={`/signin?next=${encodeURIComponent(location.pathname + location.search)}`}>{t("nav.signIn")}</Link>
    </div>
  );
}

export function NotFound() {
  const { t } = useI18n();
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">{t("common.notFound")}</h1>
      <p>{t("common.notFoundText")}</p>
    </section>
  );
}
