// Who is signed in, and what they may do in the app (the API decides; this only shapes navigation).
import { createContext, useCallback, useContext, useMemo, type ReactNode } from "react";
import { useMutation, useQuery } from "urql";
import { resetWsClient } from "../api/client";
import { MeDocument, SignOutDocument, type MeFieldsFragment } from "../gql/graphql";

export interface Session {
  me: MeFieldsFragment | null;
  loading: boolean;
  /** Sells: a member of a non-broker organisation. */
  isSeller: boolean;
  isBroker: boolean;
  isOperator: boolean;
  refresh: () => void;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [{ data, fetching }, reexecute] = useQuery({ query: MeDocument, requestPolicy: "cache-and-network" });
  const [, signOutMutation] = useMutation(SignOutDocument);
  const refresh = useCallback(() => {
    resetWsClient();
    reexecute({ requestPolicy: "network-only" });
  }, [reexecute]);
  const signOut = useCallback(async () => {
    await signOutMutation({});
    refresh();
  }, [signOutMutation, refresh]);
  const me = data?.me ?? null;
  const value = useMemo<Session>(
    () => ({
      me,
      loading: fetching && !data,
      isSeller: !!me?.memberships.some((m) => m.organization.kind !== "BROKER_FIRM"),
      isBroker: !!me?.broker,
      isOperator: !!me?.isOperator,
      refresh,
      signOut,
    }),
    [me, fetching, data, refresh, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
