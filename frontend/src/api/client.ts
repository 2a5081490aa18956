// The GraphQL client: HTTP for queries and mutations (session cookie + CSRF header), graphql-ws for
// subscriptions on the same /graphql/ path (the session cookie authenticates the socket too).
import { createClient as createWsClient, type Client as WsClient } from "graphql-ws";
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

let ws: WsClient | null = null;

/** One socket per page, opened on the first subscription and kept alive by graphql-ws' retries. */
export function wsClient(): WsClient {
  if (!ws) {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    ws = createWsClient({
      url: `${scheme}://${window.location.host}/graphql/`,
      lazy: true,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      // Back off 0.5 s, 1 s, 2 s ... up to 10 s, with jitter, so a restarted server is not stampeded.
      retryWait: (retries) =>
        new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries) * (0.5 + Math.random()))),
    });
  }
  return ws;
}

/** Sign-in and sign-out change the session: the socket must be re-opened with the new cookie. */
export function resetWsClient(): void {
  ws?.dispose();
  ws = null;
}

export function makeClient(): Client {
  return new Client({
    url: "/graphql/",
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = wsClient().subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: () => ({
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }),
    // Lists change under other users' actions (offers, messages): prefer fresh data, show cached first.
    requestPolicy: "cache-and-network",
  });
}
