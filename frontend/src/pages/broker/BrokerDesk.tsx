// /broker: a broker's profile, the deals they are assigned to with the commission shares, and for the
// lead broker of a deal an editor of its co-brokers and shares (assignBrokers).
import { useId, useMemo, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery } from "urql";
import { useSession } from "../../auth/session";
import { FormErrors } from "../../components/FormErrors";
import { Loading, QueryError, SignInNeeded } from "../../components/Status";
import {
  BrokerDeskAssignDocument,
  BrokerDeskBrokersDocument,
  BrokerDeskMineDocument,
  type BrokerDeskDealBrokerFragment,
  type BrokerDeskMineQuery,
} from "../../gql/graphql";
import { useI18n } from "../../i18n";
import { formatDateTime, formatNumber } from "../../i18n/format";
import { brokersEditable, buyerLabel } from "../buyer/deals";
import {
  basisPointsToPercent,
  rowsFromDeal,
  splitEvenly,
  totalBasisPoints,
  validateShares,
  TOTAL_BASIS_POINTS,
  type ShareProblem,
  type ShareRow,
} from "./shares";
import "../buyer/buyer.css";
import "./broker.css";

type DeskDeal = NonNullable<NonNullable<NonNullable<BrokerDeskMineQuery["myDeals"]>["edges"][number]>["node"]>;
type DirectoryBroker = { id: string; displayName: string; firm: { name: string } };

function usePercent() {
  const { t, locale } = useI18n();
  return (bp: number) => t("broker.percent", { value: formatNumber(bp / 100, locale) });
}

function SharesTable({ brokers, myBrokerId, caption }: { brokers: readonly BrokerDeskDealBrokerFragment[]; myBrokerId: string; caption: string }) {
  const { t } = useI18n();
  const percent = usePercent();
  if (!brokers.length) return <p className="muted">{t("broker.deal.noBrokers")}</p>;
  return (
    <table className="shares-table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{t("broker.shares.broker")}</th>
          <th scope="col">{t("broker.shares.role")}</th>
          <th scope="col" className="num">
            {t("broker.shares.share")}
          </th>
        </tr>
      </thead>
      <tbody>
        {brokers.map((b, i) => {
          const mine = !!b.broker && b.broker.id === myBrokerId;
          return (
            <tr key={b.broker?.id ?? i} className={mine ? "mine" : undefined}>
              <td>
                {b.displayName}
                {b.broker && <span className="muted"> · {b.broker.firm.name}</span>}
                {mine && <strong> {t("broker.shares.you")}</strong>}
              </td>
              <td>{b.isLead ? t("broker.shares.lead") : t("broker.shares.coBroker")}</td>
              <td className="num">{percent(b.shareBasisPoints)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function problemText(t: ReturnType<typeof useI18n>["t"], problem: ShareProblem, percent: (bp: number) => string): string {
  switch (problem.code) {
    case "NO_BROKERS":
      return t("broker.editor.noBrokers");
    case "BROKER_REQUIRED":
      return t("broker.editor.brokerRequired", { row: problem.row + 1 });
    case "DUPLICATE_BROKER":
      return t("broker.editor.duplicate", { row: problem.row + 1 });
    case "INVALID_PERCENT":
      return t("broker.editor.invalidPercent", { row: problem.row + 1 });
    case "SHARES_MUST_SUM_TO_100":
      return t("broker.editor.sum", { total: percent(problem.totalBasisPoints) });
    case "ONE_LEAD_BROKER":
      return t("broker.editor.oneLead");
  }
}

function CoBrokerEditor({
  deal,
  myBrokerId,
  directory,
  onDone,
}: {
  deal: DeskDeal;
  myBrokerId: string;
  directory: readonly DirectoryBroker[];
  onDone: (saved: boolean) => void;
}) {
  const { t } = useI18n();
  const percent = usePercent();
  const uid = useId();
  const [rows, setRows] = useState<ShareRow[]>(() => rowsFromDeal(deal.brokers));
  const [problems, setProblems] = useState<ShareProblem[]>([]);
  const [{ data, fetching, error }, assign] = useMutation(BrokerDeskAssignDocument);
  const serverErrors = data?.assignBrokers?.errors;
  const total = totalBasisPoints(rows);
  const lead = rows.find((r) => r.isLead);

  function update(i: number, change: Partial<ShareRow>) {
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : change.isLead ? { ...r, isLead: false } : r)));
  }

  function splitEven() {
    const shares = splitEvenly(rows.length);
    setRows((rs) => rs.map((r, i) => ({ ...r, percent: basisPointsToPercent(shares[i]) })));
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    const checked = validateShares(rows);
    if (!checked.ok) {
      setProblems(checked.problems);
      return;
    }
    setProblems([]);
    const result = await assign({ dealId: deal.id, brokers: checked.shares });
    if (result.data?.assignBrokers?.deal && !result.data.assignBrokers.errors.length) onDone(true);
  }

  return (
    <form className="co-broker-editor" onSubmit={save} noValidate>
      <fieldset>
        <legend>{t("broker.editor.legend", { title: deal.listing.title })}</legend>
        {problems.length > 0 && (
          <div role="alert" className="alert alert-error">
            <ul>
              {problems.map((p, i) => (
                <li key={i} data-code={p.code}>
                  {problemText(t, p, percent)}
                </li>
              ))}
            </ul>
          </div>
        )}
        <FormErrors errors={serverErrors} />
        {error && (
          <p role="alert" className="alert alert-error">
            {t("common.error", { message: error.graphQLErrors[0]?.message ?? error.message })}
          </p>
        )}
        <table className="editor-table">
          <thead>
            <tr>
              <th scope="col">{t("broker.shares.broker")}</th>
              <th scope="col">{t("broker.editor.percentColumn")}</th>
              <th scope="col">{t("broker.shares.lead")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("broker.editor.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => {
              const n = i + 1;
              const taken = new Set(rows.filter((_, j) => j !== i).map((r) => r.brokerId));
              return (
                <tr key={i} data-testid="share-row">
                  <td>
                    <label htmlFor={`${uid}-b${i}`} className="visually-hidden">
                      {t("broker.editor.brokerLabel", { n })}
                    </label>
                    <select id={`${uid}-b${i}`} value={row.brokerId} onChange={(e) => update(i, { brokerId: e.target.value })}>
                      <option value="">{t("broker.editor.choose")}</option>
                      {directory.map((b) => (
                        <option key={b.id} value={b.id} disabled={taken.has(b.id)}>
                          {t("broker.editor.option", { name: b.displayName, firm: b.firm.name })}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <label htmlFor={`${uid}-p${i}`} className="visually-hidden">
                      {t("broker.editor.percentLabel", { n })}
                    </label>
                    <span className="percent-input">
                      <input
                        id={`${uid}-p${i}`}
                        inputMode="decimal"
                        autoComplete="off"
                        value={row.percent}
                        onChange={(e) => update(i, { percent: e.target.value })}
                        aria-invalid={problems.some((p) => p.code === "INVALID_PERCENT" && p.row === i)}
                      />
                      <span aria-hidden="true">%</span>
                    </span>
                  </td>
                  <td>
                    <input
                      type="radio"
                      id={`${uid}-l${i}`}
                      name={`${uid}-lead`}
                      checked={row.isLead}
                      onChange={() => update(i, { isLead: true })}
                    />
                    <label htmlFor={`${uid}-l${i}`} className="visually-hidden">
                      {t("broker.editor.leadLabel", { n })}
                    </label>
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={`${t("broker.editor.remove")}: ${t("broker.editor.brokerLabel", { n })}`}
                      onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
                    >
                      {t("broker.editor.remove")}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p aria-live="polite" className={total === TOTAL_BASIS_POINTS ? "total ok" : "total"}>
          {total === TOTAL_BASIS_POINTS
            ? t("broker.editor.totalOk", { total: percent(total) })
            : t("broker.editor.totalOff", { total: percent(total) })}
        </p>
        {lead && lead.brokerId && lead.brokerId !== myBrokerId && (
          <p className="alert">{t("broker.editor.handOver")}</p>
        )}
        <div className="editor-actions">
          <button type="button" onClick={() => setRows((rs) => [...rs, { brokerId: "", percent: "", isLead: false }])}>
            {t("broker.editor.add")}
          </button>
          <button type="button" onClick={splitEven} disabled={!rows.length}>
            {t("broker.editor.split")}
          </button>
          <button type="submit" className="primary" disabled={fetching}>
            {t("broker.editor.save")}
          </button>
          <button type="button" onClick={() => onDone(false)}>
            {t("common.cancel")}
          </button>
        </div>
      </fieldset>
    </form>
  );
}

function DealCard({
  deal,
  myBrokerId,
  directory,
  onSaved,
}: {
  deal: DeskDeal;
  myBrokerId: string;
  directory: readonly DirectoryBroker[];
  onSaved: (title: string) => void;
}) {
  const { t, te, locale } = useI18n();
  const percent = usePercent();
  const [editing, setEditing] = useState(false);
  const me = deal.brokers.find((b) => b.broker?.id === myBrokerId);
  const canEdit = !!me?.isLead && brokersEditable(deal.state);
  const dealPath = `/deals/${encodeURIComponent(deal.id)}`;
  return (
    <article className="card broker-deal" data-testid="broker-deal">
      <h3>
        <Link to={dealPath}>{deal.listing.title}</Link>
      </h3>
      <dl className="facts">
        <div>
          <dt>{t("broker.deal.state")}</dt>
          <dd>
            <span className="badge">{te("DealState", deal.state)}</span>
          </dd>
        </div>
        <div>
          <dt>{t("broker.deal.seller")}</dt>
          <dd>{deal.listing.seller.name}</dd>
        </div>
        <div>
          <dt>{t("broker.deal.buyer")}</dt>
          <dd>{buyerLabel(deal)}</dd>
        </div>
        <div>
          <dt>{t("broker.deal.myShare")}</dt>
          <dd>{me ? `${percent(me.shareBasisPoints)} · ${me.isLead ? t("broker.shares.lead") : t("broker.shares.coBroker")}` : "—"}</dd>
        </div>
        <div>
          <dt>{t("broker.deal.updated")}</dt>
          <dd>
            <time dateTime={deal.updatedAt}>{formatDateTime(deal.updatedAt, locale)}</time>
          </dd>
        </div>
      </dl>
      <SharesTable brokers={deal.brokers} myBrokerId={myBrokerId} caption={t("broker.shares.caption")} />
      <div className="card-actions">
        <Link to={dealPath} className="button" aria-label={`${t("broker.deal.openRoom")}: ${deal.listing.title}`}>
          {t("broker.deal.openRoom")}
        </Link>
        {canEdit && !editing && (
          <button
            type="button"
            aria-label={`${t("broker.deal.editCoBrokers")}: ${deal.listing.title}`}
            onClick={() => setEditing(true)}
          >
            {t("broker.deal.editCoBrokers")}
          </button>
        )}
      </div>
      {canEdit && editing && (
        <CoBrokerEditor
          deal={deal}
          myBrokerId={myBrokerId}
          directory={directory}
          onDone={(saved) => {
            setEditing(false);
            if (saved) onSaved(deal.listing.title);
          }}
        />
      )}
    </article>
  );
}

export default function BrokerDesk() {
  const { t, te } = useI18n();
  const session = useSession();
  const context = useMemo(() => ({ additionalTypenames: ["Deal"] }), []);
  const [{ data, fetching, error }, reexecute] = useQuery({ query: BrokerDeskMineDocument, context, pause: !session.isBroker });
  const [brokersResult] = useQuery({ query: BrokerDeskBrokersDocument, pause: !session.isBroker });
  const [notice, setNotice] = useState<string | null>(null);
  const directory = useMemo(
    () => (brokersResult.data?.brokers?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : [])),
    [brokersResult.data],
  );

  if (session.loading) return <Loading />;
  const heading = <h1 id="broker-title">{t("broker.title")}</h1>;
  if (!session.me)
    return (
      <section aria-labelledby="broker-title">
        {heading}
        <SignInNeeded />
      </section>
    );
  if (!session.isBroker)
    return (
      <section aria-labelledby="broker-title">
        {heading}
        <p className="alert">{t("broker.notBroker")}</p>
      </section>
    );

  const profile = data?.me?.broker;
  const myBrokerId = profile?.id ?? session.me.broker?.id ?? "";
  const deals = (data?.myDeals?.edges ?? []).flatMap((e) => (e?.node ? [e.node] : []));

  return (
    <section aria-labelledby="broker-title" className="broker-page">
      {heading}
      {fetching && !data && <Loading />}
      {error && <QueryError error={error} retry={() => reexecute({ requestPolicy: "network-only" })} />}
      {profile && (
        <section aria-labelledby="broker-profile-title" className="card broker-profile">
          <h2 id="broker-profile-title">{t("broker.profile.title")}</h2>
          <dl className="facts">
            <div>
              <dt>{t("broker.profile.name")}</dt>
              <dd>{profile.displayName}</dd>
            </div>
            <div>
              <dt>{t("broker.profile.firm")}</dt>
              <dd>{profile.firm.name}</dd>
            </div>
            <div>
              <dt>{t("broker.profile.certification")}</dt>
              <dd>{profile.certificationNumber || "—"}</dd>
            </div>
          </dl>
          <div className="tags">
            <span className="muted">{t("broker.profile.sectors")}</span>
            <ul>
              {profile.sectors.map((s) => (
                <li key={s} className="badge">
                  {te("Sector", s.toUpperCase())}
                </li>
              ))}
            </ul>
          </div>
          {profile.bio && <p className="bio">{profile.bio}</p>}
        </section>
      )}
      <section aria-labelledby="assigned-deals-title">
        <h2 id="assigned-deals-title">{t("broker.deals.title")}</h2>
        <div role="status" aria-live="polite">
          {notice && <p className="alert alert-ok">{notice}</p>}
        </div>
        {brokersResult.error && <QueryError error={brokersResult.error} />}
        {data && (
          <p className="muted">
            {deals.length < (data.myDeals?.totalCount ?? 0)
              ? t("broker.deals.countPartial", { shown: deals.length, count: data.myDeals?.totalCount ?? 0 })
              : t("broker.deals.count", { count: data.myDeals?.totalCount ?? 0 })}
          </p>
        )}
        {data && !deals.length && <p className="alert">{t("broker.deals.none")}</p>}
        {deals.length > 0 && (
          <ul className="card-list">
            {deals.map((deal) => (
              <li key={deal.id}>
                <DealCard
                  deal={deal}
                  myBrokerId={myBrokerId}
                  directory={directory}
                  onSaved={(title) => setNotice(t("broker.deals.saved", { title }))}
                />
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  );
}
