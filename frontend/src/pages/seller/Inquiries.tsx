// Incoming inquiries (/sell/inquiries): deals on the listings of the seller's organisations, newest
// first. While a broker relays, the buyer is known only by its alias (Deal.buyer is null then).
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { useQuery } from "urql";
import { Loading, QueryError } from "../../components/Status";
import { InquiriesDealsDocument, type DealState, type InquiriesDealsQuery } from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDateTime } from "../../i18n/format";
import { SellerGate } from "./SellerGate";
import { excerpt, incomingInquiries } from "./sellerLogic";
import "./seller.css";

type Deal = NonNullable<NonNullable<NonNullable<InquiriesDealsQuery["myDeals"]>["edges"][number]>["node"]>;

const STATES: DealState[] = [
  "INQUIRY",
  "NDA_PENDING",
  "NDA_SIGNED",
  "NEGOTIATING",
  "AGREED",
  "IN_ESCROW",
  "SETTLED",
  "CANCELLED",
  "DISPUTED",
  "RESOLVED",
];
const PAGE = 100;

export default function Inquiries() {
  const { t } = useI18n();
  return (
    <section aria-labelledby="inquiries-title" className="seller-page">
      <h1 id="inquiries-title">{t("seller.inquiries.title")}</h1>
      <p className="muted">{t("seller.inquiries.intro")}</p>
      <SellerGate>
        <InquiryList />
      </SellerGate>
    </section>
  );
}

function InquiryList() {
  const { t, te, locale } = useI18n();
  const [state, setState] = useState<DealState | "">("");
  const [{ data, fetching, error }, reexecute] = useQuery({
    query: InquiriesDealsDocument,
    variables: { state: state || null, first: PAGE },
  });
  const deals = useMemo(
    () => incomingInquiries((data?.myDeals?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []))),
    [data],
  );

  return (
    <>
      <div className="filter-bar">
        <label htmlFor="inq-state">{t("seller.inquiries.stateFilter")}</label>
        <select id="inq-state" value={state} onChange={(e) => setState(e.target.value as DealState | "")}>
          <option value="">{t("seller.inquiries.allStates")}</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {te("DealState", s)}
            </option>
          ))}
        </select>
      </div>
      {fetching && !data ? (
        <Loading />
      ) : error && !data?.myDeals ? (
        <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />
      ) : deals.length === 0 ? (
        <p className="alert">{t(state ? "seller.inquiries.noneInState" : "seller.inquiries.none")}</p>
      ) : (
        <>
          <p aria-live="polite" className="muted">
            {t("seller.inquiries.count", { count: deals.length })}
          </p>
          <div className="table-scroll">
            <table className="seller-table" data-testid="inquiries">
              <caption className="visually-hidden">{t("seller.inquiries.caption")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("seller.inquiries.colDate")}</th>
                  <th scope="col">{t("seller.inquiries.colListing")}</th>
                  <th scope="col">{t("seller.inquiries.colBuyer")}</th>
                  <th scope="col">{t("seller.inquiries.colState")}</th>
                  <th scope="col">{t("seller.inquiries.colMessage")}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t("seller.inquiries.colOpen")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {deals.map((deal) => (
                  <InquiryRow key={deal.id} deal={deal} locale={locale} />
                ))}
              </tbody>
            </table>
          </div>
          {data?.myDeals && data.myDeals.totalCount >= PAGE && <p className="muted">{t("seller.inquiries.limited", { count: PAGE })}</p>}
        </>
      )}
    </>
  );
}

function InquiryRow({ deal, locale }: { deal: Deal; locale: "ko" | "en" }) {
  const { t, te } = useI18n();
  const buyer = deal.buyer?.name ?? deal.buyerAlias;
  const lead = deal.brokers.find((b) => b.isLead);
  const short = excerpt(deal.message);
  return (
    <tr data-testid={`inquiry-row-${deal.id}`}>
      <td className="nowrap">{formatDateTime(deal.createdAt, locale)}</td>
      <th scope="row">
        <Link to={`/listings/${deal.listing.id}`}>{deal.listing.title}</Link>
      </th>
      <td>
        {buyer}
        {!deal.buyer && (
          <span className="muted small block">
            {lead ? t("seller.inquiries.relayedBy", { name: lead.displayName }) : t("seller.inquiries.relayed")}
          </span>
        )}
      </td>
      <td>
        <span className={`badge deal-${deal.state.toLowerCase()}`}>{te("DealState", deal.state)}</span>
      </td>
      <td className="message-cell">
        {!deal.message.trim() ? (
          <span className="muted">{t("seller.inquiries.noMessage")}</span>
        ) : short === deal.message.replace(/\s+/g, " ").trim() ? (
          <span className="prewrap">{deal.message}</span>
        ) : (
          <details>
            <summary>{short}</summary>
            <p className="prewrap">{deal.message}</p>
          </details>
        )}
      </td>
      <td>
        <Link to={`/deals/${deal.id}`} className="nowrap">
          {t("seller.inquiries.open")}
          <span className="visually-hidden">
            {" "}
            {t("seller.inquiries.openContext", { listing: deal.listing.title, buyer })}
          </span>
        </Link>
      </td>
    </tr>
  );
}
