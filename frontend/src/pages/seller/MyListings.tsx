// My listings (/sell/listings): every listing of the seller's organisations, with its status, the
// coach's score, the inquiries it drew, and what can be done with it next.
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { useSession } from "../../auth/session";
import { FormErrors, type ApiError } from "../../components/FormErrors";
import { Loading, QueryError } from "../../components/Status";
import {
  MyListingsDealsDocument,
  MyListingsListDocument,
  MyListingsPublishDocument,
  MyListingsWithdrawDocument,
  type ListingStatus,
  type MyListingsListQuery,
} from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDate, formatNumber } from "../../i18n/format";
import { SellerGate, sellerOrgs } from "./SellerGate";
import { inquiryCounts } from "./sellerLogic";
import { scoreGrade } from "./wizardLogic";
import "./seller.css";

type Row = NonNullable<NonNullable<NonNullable<MyListingsListQuery["listings"]>["edges"][number]>["node"]>;

const EDITABLE: ListingStatus[] = ["DRAFT", "PUBLISHED"];
const WITHDRAWABLE: ListingStatus[] = ["DRAFT", "PUBLISHED", "UNDER_NEGOTIATION"];

export default function MyListings() {
  const { t } = useI18n();
  return (
    <section aria-labelledby="my-listings-title" className="seller-page">
      <div className="page-head">
        <h1 id="my-listings-title">{t("seller.listings.title")}</h1>
        <Link className="button primary" to="/sell/new">
          {t("seller.listings.new")}
        </Link>
      </div>
      <SellerGate>
        <ListingsTable />
      </SellerGate>
    </section>
  );
}

function ListingsTable() {
  const { t, te, locale } = useI18n();
  const { me } = useSession();
  const severalOrgs = sellerOrgs(me).length > 1;
  const [{ data, fetching, error }, reexecute] = useQuery({ query: MyListingsListDocument, variables: { first: 100 } });
  // A separate query: the counts are extra, a failure there must not hide the listings.
  const [deals] = useQuery({ query: MyListingsDealsDocument, variables: { first: 100 } });
  const counts = useMemo(
    () => (deals.data?.myDeals ? inquiryCounts(deals.data.myDeals.edges.flatMap((e) => (e?.node ? [e.node] : []))) : null),
    [deals.data],
  );
  const [, publish] = useMutation(MyListingsPublishDocument);
  const [, withdraw] = useMutation(MyListingsWithdrawDocument);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [confirmId, setConfirmId] = useState<string | null>(null);
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [notice, setNotice] = useState("");

  if (fetching && !data) return <Loading />;
  if (error && !data) return <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />;
  const rows: Row[] = (data?.listings?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));

  async function act(row: Row, action: "publish" | "withdraw") {
    setBusyId(row.id);
    setErrors([]);
    setNotice("");
    const result = action === "publish" ? await publish({ id: row.id }) : await withdraw({ id: row.id });
    const payload = result.data && ("publishListing" in result.data ? result.data.publishListing : result.data.withdrawListing);
    setBusyId(null);
    setConfirmId(null);
    if (result.error || !payload) {
      setErrors([{ code: "NETWORK", message: t("common.error", { message: result.error?.message ?? "" }) }]);
    } else if (payload.errors.length) {
      setErrors(payload.errors.map((e) => ({ ...e, field: null, message: `${row.title}: ${e.message}` })));
    } else {
      setNotice(t(action === "publish" ? "seller.listings.published" : "seller.listings.withdrawn", { title: row.title }));
    }
  }

  return (
    <>
      <p aria-live="polite" className={notice ? "alert alert-ok" : "visually-hidden"}>
        {notice}
      </p>
      <FormErrors errors={errors} />
      {rows.length === 0 ? (
        <div className="alert">
          <p>{t("seller.listings.empty")}</p>
          <Link to="/sell/new">{t("seller.listings.new")}</Link>
        </div>
      ) : (
        <div className="table-scroll">
          <table className="seller-table" data-testid="my-listings">
            <caption className="visually-hidden">{t("seller.listings.caption", { count: rows.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t("seller.listings.colTitle")}</th>
                <th scope="col">{t("seller.listings.colStatus")}</th>
                <th scope="col">{t("seller.listings.colQuality")}</th>
                <th scope="col">{t("seller.listings.colInquiries")}</th>
                <th scope="col">{t("seller.listings.colUpdated")}</th>
                <th scope="col">{t("seller.listings.colActions")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-testid={`listing-row-${row.id}`}>
                  <th scope="row" className="title-cell">
                    <Link to={`/listings/${row.id}`}>{row.title}</Link>
                    <span className="muted small block">
                      {t("seller.listings.patents", { count: row.patents.length })}
                      {severalOrgs && ` · ${row.seller.name}`}
                    </span>
                  </th>
                  <td>
                    <span className={`badge status-${row.status.toLowerCase()}`}>{te("ListingStatus", row.status)}</span>
                  </td>
                  <td>
                    {row.quality ? (
                      <span>
                        {formatNumber(row.quality.score, locale)}
                        <span className="muted">/100</span>{" "}
                        <span className={`badge grade-${scoreGrade(row.quality.score)}`}>
                          {t(`seller.coach.grade.${scoreGrade(row.quality.score)}`)}
                        </span>
                      </span>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td>{counts ? formatNumber(counts.get(row.id) ?? 0, locale) : "—"}</td>
                  <td>{formatDate(row.updatedAt, locale)}</td>
                  <td>
                    <ul className="row-actions">
                      {EDITABLE.includes(row.status) && (
                        <li>
                          <Link to={`/sell/listings/${row.id}/edit`}>
                            {t("seller.listings.edit")}
                            <span className="visually-hidden"> {row.title}</span>
                          </Link>
                        </li>
                      )}
                      {row.status === "DRAFT" && (
                        <li>
                          <button type="button" disabled={busyId === row.id} onClick={() => void act(row, "publish")}>
                            {t("seller.listings.publish")}
                            <span className="visually-hidden"> {row.title}</span>
                          </button>
                        </li>
                      )}
                      {WITHDRAWABLE.includes(row.status) &&
                        (confirmId === row.id ? (
                          <li className="confirm">
                            <span>{t("seller.listings.confirmWithdraw")}</span>{" "}
                            <button type="button" disabled={busyId === row.id} onClick={() => void act(row, "withdraw")}>
                              {t("seller.listings.confirmYes")}
                              <span className="visually-hidden"> {row.title}</span>
                            </button>{" "}
                            <button type="button" onClick={() => setConfirmId(null)}>
                              {t("seller.listings.confirmNo")}
                            </button>
                          </li>
                        ) : (
                          <li>
                            <button type="button" disabled={busyId === row.id} onClick={() => setConfirmId(row.id)}>
                              {t("seller.listings.withdraw")}
                              <span className="visually-hidden"> {row.title}</span>
                            </button>
                          </li>
                        ))}
                      <li>
                        <Link to={`/sell/listings/${row.id}/buyers`}>
                          {t("seller.listings.buyers")}
                          <span className="visually-hidden"> {row.title}</span>
                        </Link>
                      </li>
                      <li>
                        <Link to={`/listings/${row.id}`}>
                          {t("seller.listings.view")}
                          <span className="visually-hidden"> {row.title}</span>
                        </Link>
                      </li>
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data?.listings && data.listings.totalCount > rows.length && (
        <p className="muted">{t("seller.listings.more", { shown: rows.length, total: data.listings.totalCount })}</p>
      )}
      <p className="muted">
        <Link to="/sell/inquiries">{t("seller.listings.toInquiries")}</Link>
      </p>
    </>
  );
}
