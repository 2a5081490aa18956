// Seller pages need a signed-in member of a selling (non-broker) organisation.
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { useSession } from "../../auth/session";
import { Loading, SignInNeeded } from "../../components/Status";
import type { MeFieldsFragment } from "../../gql/graphql";
import { useI18n } from "../../i18n";

export type SellerOrg = MeFieldsFragment["memberships"][number]["organization"];

export function sellerOrgs(me: MeFieldsFragment | null): SellerOrg[] {
  return (me?.memberships ?? []).map((m) => m.organization).filter((o) => o.kind !== "BROKER_FIRM");
}

/** Renders the children only for sellers; otherwise what the visitor should do (under the page's h1). */
export function SellerGate({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const session = useSession();
  if (session.loading) return <Loading />;
  if (!session.me) return <SignInNeeded />;
  if (!session.isSeller) {
    return (
      <div className="alert">
        <p>{t("seller.gate.notSeller")}</p>
        <Link to="/search">{t("seller.gate.search")}</Link>
      </div>
    );
  }
  return <>{children}</>;
}
