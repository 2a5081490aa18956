import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Client, makeResult, Provider, type Exchange, type Operation } from "urql";
import { filter, fromValue, mergeMap, pipe } from "wonka";
import { I18nProvider } from "../../../i18n";
import type { RoomEvent, RoomMessage } from "./roomState";

// The socket: subscriptions are recorded with their payload (whose variables are read at send time).
interface Sub {
  payload: { query: string; variables: Record<string, unknown> };
  sink: { next: (value: unknown) => void; error: (e: unknown) => void; complete: () => void };
  closed: boolean;
}
const subs: Sub[] = [];
vi.mock("../../../api/client", () => ({
  wsClient: () => ({
    subscribe(payload: Sub["payload"], sink: Sub["sink"]) {
      const sub: Sub = { payload, sink, closed: false };
      subs.push(sub);
      return () => {
        sub.closed = true;
      };
    },
    on: () => () => undefined,
  }),
}));
vi.mock("../../../auth/session", () => ({
  useSession: () => ({
    me: { user: { id: "VXNlcjox", displayName: "Kim Seller" } },
    loading: false,
    isSeller: true,
    isBroker: false,
    isOperator: false,
  }),
}));

import DealRoom from "./DealRoom";

function msg(sequence: number, over: Partial<RoomMessage> = {}): RoomMessage {
  return {
    id: `msg-${sequence}`,
    sequence,
    kind: "TEXT",
    thread: "ALL",
    authorName: "Buyer A",
    authorRole: "BUYER",
    isYou: false,
    body: `m${sequence}`,
    masked: [],
    event: null,
    data: "{}",
    attachment: null,
    sourceSequence: null,
    hidden: false,
    hiddenReason: null,
    createdAt: "2025-03-01T09:00:00Z",
    ...over,
  };
}

const sent: Record<string, unknown>[] = [];
function answer(op: Operation): unknown {
  const definition = op.query.definitions.find((d) => d.kind === "OperationDefinition");
  const name = definition && "name" in definition ? definition.name?.value : "";
  const v = op.variables as Record<string, unknown>;
  if (name === "DealRoomLoad") {
    return {
      dealRoom: {
        dealId: "D1",
        lastSequence: 3,
        myLastReadSequence: 3,
        relayed: true,
        participants: [
          { name: "Kim Seller", role: "SELLER", isYou: true, online: true, typing: false, lastReadSequence: 3 },
          { name: "Buyer A", role: "BUYER", isYou: false, online: false, typing: false, lastReadSequence: 1 },
        ],
        messages: [
          msg(1, { kind: "SYSTEM", authorRole: "SYSTEM", authorName: "System", event: "inquiry_opened", body: "A buyer opened an inquiry." }),
          msg(2),
          msg(3, { authorName: "Kim Seller", authorRole: "SELLER", isYou: true }),
        ],
      },
    };
  }
  if (name === "DealRoomSend") {
    sent.push(v);
    if (v.body === "too fast") {
      return { sendMessage: { message: null, errors: [{ field: null, code: "RATE_LIMITED", message: "retry in 12 s" }] } };
    }
    return {
      sendMessage: {
        message: msg(9, { authorName: "Kim Seller", authorRole: "SELLER", isYou: true, body: String(v.body) }),
        errors: [],
      },
    };
  }
  if (name === "DealRoomSetTyping") return { setTyping: { announced: true, errors: [] } };
  return null;
}

const exchange: Exchange = () => (ops$) =>
  pipe(
    ops$,
    filter((op) => op.kind !== "teardown"),
    mergeMap((op) => fromValue(makeResult(op, { data: answer(op) as Record<string, unknown> | null }))),
  );

function mount() {
  const client = new Client({ url: "/graphql/", exchanges: [exchange] });
  return render(
    <Provider value={client}>
      <I18nProvider locale="en">
        <DealRoom dealId="D1" />
      </I18nProvider>
    </Provider>,
  );
}

const event = (message: RoomMessage): RoomEvent => ({
  type: "MESSAGE",
  sequence: message.sequence,
  message,
  participant: null,
  readSequence: null,
  online: null,
  thread: null,
});
const live = () => subs.filter((s) => !s.closed);
const sequences = () => screen.queryAllByTestId("room-message").map((el) => Number(el.getAttribute("data-sequence")));

afterEach(() => {
  cleanup();
  subs.length = 0;
  sent.length = 0;
});

describe("DealRoom", () => {
  it("loads, subscribes after the newest sequence and resubscribes after the latest one seen", async () => {
    mount();
    const region = await screen.findByRole("region", { name: "Deal room" });
    await waitFor(() => expect(sequences()).toEqual([1, 2, 3]));
    expect(within(region).getByRole("log")).toBeTruthy();
    expect(within(region).getAllByRole("tab").map((t) => t.textContent)).toEqual(["Everyone", "Seller and brokers"]);
    expect(screen.getByText("A buyer opened an inquiry.")).toBeTruthy();
    await waitFor(() => expect(live()).toHaveLength(1));
    const sub = live()[0];
    expect(JSON.parse(JSON.stringify(sub.payload)).variables).toEqual({ dealId: "D1", afterSequence: 3 });

    act(() => sub.sink.next({ data: { dealRoomEvents: event(msg(4, { body: "fresh from the socket" })) } }));
    expect(sequences()).toEqual([1, 2, 3, 4]);
    expect(screen.getByText("fresh from the socket")).toBeTruthy();
    // What graphql-ws would send again after a dropped socket:
    expect(JSON.parse(JSON.stringify(sub.payload)).variables).toEqual({ dealId: "D1", afterSequence: 4 });

    // A replayed duplicate changes nothing.
    act(() => sub.sink.next({ data: { dealRoomEvents: event(msg(4, { body: "fresh from the socket" })) } }));
    expect(sequences()).toEqual([1, 2, 3, 4]);
  });

  it("sends with a client id, shows the stored message, and keeps a refused one with its error", async () => {
    mount();
    await waitFor(() => expect(sequences()).toEqual([1, 2, 3]));
    const box = screen.getByRole("textbox", { name: "Message" });
    fireEvent.change(box, { target: { value: "  hello there " } });
    fireEvent.keyDown(box, { key: "Enter" });
    await waitFor(() => expect(sequences()).toEqual([1, 2, 3, 9]));
    expect(sent[0]).toMatchObject({ dealId: "D1", body: "hello there", thread: "ALL" });
    expect(String(sent[0].clientMessageId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(screen.queryAllByTestId("room-message-pending")).toHaveLength(0);
    expect((box as HTMLTextAreaElement).value).toBe("");

    fireEvent.change(box, { target: { value: "too fast" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    const pending = await screen.findByTestId("room-message-pending");
    await waitFor(() => expect(pending.getAttribute("data-status")).toBe("failed"));
    expect(within(pending).getByRole("alert").textContent).toContain("Not sent: Too many messages; wait a moment.");
    fireEvent.click(within(pending).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(sent).toHaveLength(3));
    expect(sent[2].clientMessageId).toBe(sent[1].clientMessageId);
  });

  it("Shift+Enter does not send", async () => {
    mount();
    await waitFor(() => expect(sequences()).toEqual([1, 2, 3]));
    const box = screen.getByRole("textbox", { name: "Message" });
    fireEvent.change(box, { target: { value: "line one" } });
    fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    expect(sent).toHaveLength(0);
  });
});
