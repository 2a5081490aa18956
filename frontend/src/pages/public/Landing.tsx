// Landing "/": the tagline, a search box (to /search?q=...) and live market figures with charts.
import { lazy, Suspense } from "react";
import { Link, useNavigate } from "react-router-dom";
import { useQuery } from "urql";
import { Loading, QueryError } from "../../components/Status";
import { LandingMarketStatsDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatNumber } from "../../i18n/format";
import { SearchBox } from "./SearchBox";
import { searchHref, emptyState } from "./searchState";
import "./public.css";

const Charts = lazy(() => import("./LandingCharts"));

const MONTHS = 12;
const EXAMPLES = ["배터리", "battery", "반도체", "solar cell"];

export default function Landing() {
  const { t, locale } = useI18n();
  const navigate = useNavigate();
  const [{ data, error }, reexecute] = useQuery({ query: LandingMarketStatsDocument, variables: { months: MONTHS } });
  const stats = data?.marketStats;
  const dealsInPeriod = stats?.dealsPerMonth.reduce((sum, m) => sum + m.deals, 0) ?? 0;
  const sectorsWithListings = stats?.listingsBySector.filter((c) => c.count > 0).length ?? 0;

  return (
    <div className="landing">
      <section className="hero" aria-labelledby="landing-title">
        <h1 id="landing-title">{t("app.tagline")}</h1>
        <p className="lead">{t("public.landing.lead")}</p>
        <SearchBox value="" onSearch={(q) => navigate(searchHref({ ...emptyState(), q }))} />
        <div className="try">
          <span className="muted">{t("public.landing.try")}</span>
          <ul>
            {EXAMPLES.map((q) => (
              <li key={q}>
                <Link to={searchHref({ ...emptyState(), q })} lang={/[가-힣]/.test(q) ? "ko" : "en"}>
                  {q}
                </Link>
              </li>
            ))}
          </ul>
        </div>
      </section>

      <section aria-labelledby="landing-market">
        <h2 id="landing-market">{t("public.landing.market")}</h2>
        {error && !stats && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
        {!stats && !error && <Loading />}
        {stats && (
          <>
            <dl className="headline">
              <div>
                <dt>{t("public.landing.published")}</dt>
                <dd>{formatNumber(stats.publishedListings, locale)}</dd>
              </div>
              <div>
                <dt>{t("public.landing.deals", { months: MONTHS })}</dt>
                <dd>{formatNumber(dealsInPeriod, locale)}</dd>
              </div>
              <div>
                <dt>{t("public.landing.sectors")}</dt>
                <dd>{formatNumber(sectorsWithListings, locale)}</dd>
              </div>
            </dl>
            <Suspense fallback={<Loading />}>
              <Charts stats={stats} />
            </Suspense>
          </>
        )}
        <p>
          <Link to="/search">{t("public.landing.browse")}</Link>
        </p>
      </section>

      <section className="roles" aria-labelledby="landing-roles">
        <h2 id="landing-roles">{t("public.landing.how")}</h2>
        <ul className="grid plain-list">
          <li className="card">
            <h3>{t("public.landing.buyersTitle")}</h3>
            <p>{t("public.landing.buyersText")}</p>
          </li>
          <li className="card">
            <h3>{t("public.landing.sellersTitle")}</h3>
            <p>{t("public.landing.sellersText")}</p>
          </li>
          <li className="card">
            <h3>{t("public.landing.brokersTitle")}</h3>
            <p>{t("public.landing.brokersText")}</p>
          </li>
        </ul>
      </section>
    </div>
  );
}
