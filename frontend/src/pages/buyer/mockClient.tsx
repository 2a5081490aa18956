// Tests only: an urql client that answers each operation by name from a table, and records what the
// page asked for, so pages render without the API.
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router-dom";
import { Provider, type Client, type OperationResult } from "urql";
import { fromValue } from "wonka";
import type { Locale } from "../../i18n/format";
import { I18nProvider } from "../../i18n";
import { SessionProvider } from "../../auth/session";

type Answer = (variables: Record<string, unknown>) => unknown;

export interface MockCall {
  name: string;
  kind: string;
  variables: Record<string, unknown>;
}

export function mockClient(answers: Record<string, Answer>): { client: Client; calls: MockCall[] } {
  const calls: MockCall[] = [];
  const run = (operation: { kind: string; variables: unknown; query: { definitions: readonly unknown[] } }) => {
    const definition = operation.query.definitions.find(
      (d): d is { kind: "OperationDefinition"; name?: { value: string } } =>
        (d as { kind: string }).kind === "OperationDefinition",
    );
    const name = definition?.name?.value ?? "";
    const variables = (operation.variables ?? {}) as Record<string, unknown>;
    calls.push({ name, kind: operation.kind, variables });
    const answer = answers[name];
    const data = answer ? answer(variables) : null;
    return fromValue({ operation, data, stale: false, hasNext: false } as unknown as OperationResult);
  };
  const client = {
    executeQuery: run,
    executeMutation: run,
    executeSubscription: run,
    suspense: false,
  } as unknown as Client;
  return { client, calls };
}

/** The app's providers around a page, at a path. */
export function withProviders(client: Client, page: ReactNode, path: string, locale: Locale = "en") {
  return (
    <MemoryRouter initialEntries={[path]}>
      <Provider value={client}>
        <I18nProvider locale={locale}>
          <SessionProvider>{page}</SessionProvider>
        </I18nProvider>
      </Provider>
    </MemoryRouter>
  );
}

/** A Me answer: a member of the given organisations, optionally a broker. */
export function me(
  name: string,
  organisations: { id: string; name: string; kind: string }[],
  broker: { id: string; displayName: string; firm: { id: string; name: string } } | null = null,
) {
  return {
    me: {
      __typename: "Me",
      email: "someone@example.kr",
      isOperator: false,
      user: { __typename: "User", id: "1", displayName: name },
      memberships: organisations.map((o) => ({
        __typename: "Membership",
        role: "MEMBER",
        organization: { __typename: "Organization", isVerified: true, ...o },
      })),
      broker: broker && { __typename: "Broker", ...broker, firm: { __typename: "Organization", ...broker.firm } },
    },
  };
}
