// /deals: every deal I take part in (as the seller's or the buyer's member, or as a broker), latest
// activity first, filtered by state (?state=NEGOTIATING keeps the filter in the address).
import { useMemo } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { useQuery } from "urql";
import { useSession } from "../../auth/session";
import { Loading, QueryError, SignInNeeded } from "../../components/Status";
import { DealsMineDocument } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDateTime } from "../../i18n/format";
import { counterparty } from "../buyer/deals";
import { DEAL_STATES, isDealState } from "../../api/enums";
import "./Deals.css";

export default function Deals() {
  const { t, te, locale } = useI18n();
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const raw = params.get("state") ?? "";
  const state = isDealState(raw) ? raw : null;
  const context = useMemo(() => ({ additionalTypenames: ["Deal"] }), []);
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: DealsMineDocument,
    variables: { state },
    context,
    pause: !session.me,
  });
  const deals = (data?.myDeals?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));
  const total = data?.myDeals?.totalCount ?? 0;

  function choose(value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set("state", value);
    else next.delete("state");
    setParams(next, { replace: true });
  }

  if (session.loading) return <Loading />;
  return (
    <section aria-labelledby="deals-title" className="deals-page">
      <h1 id="deals-title">{t("buyer.deals.title")}</h1>
      {!session.me ? (
        <SignInNeeded />
      ) : (
        <>
          <div className="deals-toolbar">
            <label htmlFor="deals-state">{t("buyer.deals.filter")}</label>
            <select id="deals-state" value={state ?? ""} onChange={(e) => choose(e.target.value)}>
              <option value="">{t("buyer.deals.allStates")}</option>
              {DEAL_STATES.map((s) => (
                <option key={s} value={s}>
                  {te("DealState", s)}
                </option>
              ))}
            </select>
          </div>
          <p role="status" aria-live="polite" className="muted">
            {data
              ? deals.length < total
                ? t("buyer.deals.countPartial", { shown: deals.length, count: total })
                : t("buyer.deals.count", { count: total })
              : ""}
          </p>
          {fetching && !data && <Loading />}
          {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
          {data && !deals.length && (
            <p className="alert">{state ? t("buyer.deals.noneInState") : t("buyer.deals.none")}</p>
          )}
          {deals.length > 0 && (
            <div className="table-scroll">
              <table className="deals-table">
                <caption className="visually-hidden">
                  {state ? t("buyer.deals.captionState", { state: te("DealState", state) }) : t("buyer.deals.caption")}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{t("buyer.deals.colListing")}</th>
                    <th scope="col">{t("buyer.deals.colSide")}</th>
                    <th scope="col">{t("buyer.deals.colCounterparty")}</th>
                    <th scope="col">{t("buyer.deals.colState")}</th>
                    <th scope="col">{t("buyer.deals.colUpdated")}</th>
                  </tr>
                </thead>
                <tbody>
                  {deals.map((deal) => {
                    const other = counterparty(deal);
                    return (
                      <tr key={deal.id} data-testid="deal-row" data-state={deal.state}>
                        <td>
                          <Link to={`/deals/${encodeURIComponent(deal.id)}`}>{deal.listing.title}</Link>
                        </td>
                        <td>{deal.viewerSide ? te("Side", deal.viewerSide) : t("buyer.deals.sideBroker")}</td>
                        <td>
                          {other.kind === "one"
                            ? other.name
                            : t("buyer.deals.bothParties", { seller: other.seller, buyer: other.buyer })}
                        </td>
                        <td>
                          <span className={`badge state state-${deal.state.toLowerCase()}`}>{te("DealState", deal.state)}</span>
                        </td>
                        <td>
                          <time dateTime={deal.updatedAt}>{formatDateTime(deal.updatedAt, locale)}</time>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
