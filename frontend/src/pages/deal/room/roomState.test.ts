import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  canHide,
  forwardTarget,
  forwardsOf,
  initialRoomState,
  messagesIn,
  newClientMessageId,
  parseData,
  pendingIn,
  roomReducer,
  seenBy,
  threadsFor,
  typingIn,
  unreadIn,
  viewerRole,
  type LoadedRoom,
  type RoomAction,
  type RoomEvent,
  type RoomMessage,
  type RoomPerson,
  type RoomState,
} from "./roomState";
import { eventVars, systemText } from "./systemText";
import { throttle } from "./throttle";

function msg(sequence: number, over: Partial<RoomMessage> = {}): RoomMessage {
  return {
    id: `msg-${sequence}`,
    sequence,
    kind: "TEXT",
    thread: "ALL",
    authorName: "Seller",
    authorRole: "SELLER",
    isYou: false,
    body: `m${sequence}`,
    masked: [],
    event: null,
    data: "{}",
    attachment: null,
    sourceSequence: null,
    hidden: false,
    hiddenReason: null,
    createdAt: "2025-03-01T09:00:00+00:00",
    ...over,
  };
}

function person(name: string, role: RoomPerson["role"], over: Partial<RoomPerson> = {}): RoomPerson {
  return { name, role, isYou: false, online: false, typing: false, lastReadSequence: 0, ...over };
}

const blank = { sequence: null, message: null, participant: null, readSequence: null, online: null, thread: null };

function messageEvent(message: RoomMessage): RoomEvent {
  return { ...blank, type: "MESSAGE", sequence: message.sequence, message };
}
function typingEvent(p: RoomPerson, thread: RoomEvent["thread"] = "ALL"): RoomEvent {
  return { ...blank, type: "TYPING", participant: { ...p, typing: true }, thread };
}
function readEvent(p: RoomPerson, sequence: number): RoomEvent {
  return { ...blank, type: "READ", participant: { ...p, lastReadSequence: sequence }, readSequence: sequence };
}
function presenceEvent(p: RoomPerson, online: boolean): RoomEvent {
  return { ...blank, type: "PRESENCE", participant: { ...p, online }, online };
}

const me = person("Kim Seller", "SELLER", { isYou: true, online: true, lastReadSequence: 2 });
const buyer = person("Buyer A", "BUYER", { lastReadSequence: 3 });
const broker = person("Lee Broker", "BROKER", { online: true, lastReadSequence: 1 });

function room(messages: RoomMessage[], over: Partial<LoadedRoom> = {}): LoadedRoom {
  return { myLastReadSequence: 2, relayed: true, participants: [me, buyer, broker], messages, ...over };
}

function run(actions: RoomAction[], start: RoomState = initialRoomState): RoomState {
  return actions.reduce(roomReducer, start);
}

function loaded(messages: RoomMessage[], over: Partial<LoadedRoom> = {}, operator = false): RoomState {
  return roomReducer(initialRoomState, { type: "loaded", room: room(messages, over), operator, pageSize: 50, now: 0 });
}

const seqs = (state: RoomState) => state.messages.map((m) => m.sequence);
const ev = (event: RoomEvent, now = 0): RoomAction => ({ type: "event", event, now });

describe("loading", () => {
  it("keeps the first page ordered by sequence, sets the cursor to the newest and reads the participants", () => {
    const state = loaded([msg(3), msg(1), msg(2)]);
    expect(seqs(state)).toEqual([1, 2, 3]);
    expect(state.ready).toBe(true);
    expect(state.cursor).toBe(3);
    expect(state.hasEarlier).toBe(false);
    expect(state.myLastRead).toBe(2);
    expect(state.relayed).toBe(true);
    expect(state.participants).toEqual([
      { key: "SELLER:Kim Seller", name: "Kim Seller", role: "SELLER", isYou: true, online: true, lastReadSequence: 2 },
      { key: "BUYER:Buyer A", name: "Buyer A", role: "BUYER", isYou: false, online: false, lastReadSequence: 3 },
      { key: "BROKER:Lee Broker", name: "Lee Broker", role: "BROKER", isYou: false, online: true, lastReadSequence: 1 },
    ]);
  });

  it("says there are earlier messages when the page came back full", () => {
    const state = roomReducer(initialRoomState, {
      type: "loaded",
      room: room([msg(8), msg(9)]),
      operator: false,
      pageSize: 2,
      now: 0,
    });
    expect(state.hasEarlier).toBe(true);
    const earlier = roomReducer(state, { type: "earlier", messages: [msg(5), msg(7)], pageSize: 2 });
    expect(seqs(earlier)).toEqual([5, 7, 8, 9]);
    expect(earlier.hasEarlier).toBe(true);
    const oldest = roomReducer(earlier, { type: "earlier", messages: [msg(1)], pageSize: 2 });
    expect(seqs(oldest)).toEqual([1, 5, 7, 8, 9]);
    expect(oldest.hasEarlier).toBe(false);
    expect(oldest.cursor).toBe(9); // earlier pages never move where the stream resumes
  });

  it("shows members of the other side that share an alias as one participant", () => {
    const state = loaded([], {
      participants: [
        person("Buyer A", "BUYER", { online: false, lastReadSequence: 4 }),
        person("Buyer A", "BUYER", { online: true, lastReadSequence: 2 }),
        me,
      ],
    });
    expect(state.participants.map((p) => [p.key, p.online, p.lastReadSequence])).toEqual([
      ["BUYER:Buyer A", true, 4],
      ["SELLER:Kim Seller", true, 2],
    ]);
  });

  it("starts from an empty room with cursor 0 and no earlier page", () => {
    const state = loaded([]);
    expect(state.messages).toEqual([]);
    expect(state.cursor).toBe(0);
    expect(state.hasEarlier).toBe(false);
  });

  it("a reload merges into what is there and never moves the cursor or a read marker back", () => {
    const live = run([ev(messageEvent(msg(4)))], loaded([msg(1), msg(2), msg(3)]));
    const reloaded = roomReducer(live, {
      type: "loaded",
      room: room([msg(2), msg(3)], { myLastReadSequence: 1 }),
      operator: false,
      pageSize: 50,
      now: 0,
    });
    expect(seqs(reloaded)).toEqual([1, 2, 3, 4]);
    expect(reloaded.cursor).toBe(4);
    expect(reloaded.myLastRead).toBe(2);
  });
});

describe("merging the stream", () => {
  it("drops the overlap between the first page and the replay", () => {
    const start = loaded([msg(1), msg(2), msg(3)]);
    const state = run([ev(messageEvent(msg(2))), ev(messageEvent(msg(3))), ev(messageEvent(msg(4)))], start);
    expect(seqs(state)).toEqual([1, 2, 3, 4]);
    expect(state.messages[0]).toBe(start.messages[0]);
    expect(state.messages[1]).toBe(start.messages[1]);
    expect(state.cursor).toBe(4);
  });

  it("ignores an exact duplicate without making a new state", () => {
    const once = run([ev(messageEvent(msg(5)))], loaded([msg(1)]));
    const twice = roomReducer(once, ev(messageEvent(msg(5))));
    expect(twice).toBe(once);
  });

  it("puts a message that arrives out of order in its place and keeps the highest cursor", () => {
    const state = run(
      [ev(messageEvent(msg(7))), ev(messageEvent(msg(5))), ev(messageEvent(msg(6))), ev(messageEvent(msg(2)))],
      loaded([msg(1), msg(4)]),
    );
    expect(seqs(state)).toEqual([1, 2, 4, 5, 6, 7]);
    expect(state.cursor).toBe(7);
  });

  it("replaces a message with a newer rendering of it (names revealed after the NDA)", () => {
    const start = loaded([msg(1, { authorName: "Buyer A", body: "mail me at [email hidden]", masked: ["email"] })]);
    const state = roomReducer(
      start,
      ev(messageEvent(msg(1, { authorName: "Hong Gildong", body: "mail me at hong@example.kr", masked: [] }))),
    );
    expect(state.messages).toEqual([
      msg(1, { authorName: "Hong Gildong", body: "mail me at hong@example.kr", masked: [] }),
    ]);
  });

  it("moves the cursor for a message event even without a message in it", () => {
    const state = roomReducer(loaded([msg(1)]), ev({ ...blank, type: "MESSAGE", sequence: 9 }));
    expect(state.cursor).toBe(9);
    expect(seqs(state)).toEqual([1]);
  });

  it("does not move the cursor for messages learnt from mutation answers", () => {
    const start = loaded([msg(1)]);
    const state = run(
      [
        { type: "sending", clientMessageId: "c1", thread: "ALL", body: "hi", createdAt: "t" },
        { type: "sent", clientMessageId: "c1", message: msg(8, { isYou: true, body: "hi" }) },
        { type: "stored", message: msg(9, { kind: "FORWARD", authorRole: "BROKER", sourceSequence: 1 }) },
      ],
      start,
    );
    expect(seqs(state)).toEqual([1, 8, 9]);
    expect(state.cursor).toBe(1);
  });
});

describe("sending", () => {
  const sending: RoomAction = { type: "sending", clientMessageId: "c1", thread: "ALL", body: "  hello  ", createdAt: "2025-03-01T10:00:00Z" };

  it("shows a pending message until the stored one answers, then only the stored one", () => {
    const pending = roomReducer(loaded([msg(1)]), sending);
    expect(pending.pending).toEqual([
      { clientMessageId: "c1", thread: "ALL", body: "  hello  ", createdAt: "2025-03-01T10:00:00Z", status: "sending", error: null },
    ]);
    const sent = roomReducer(pending, { type: "sent", clientMessageId: "c1", message: msg(2, { isYou: true, body: "hello" }) });
    expect(sent.pending).toEqual([]);
    expect(seqs(sent)).toEqual([1, 2]);
    // The stream then delivers the same message: still one.
    const streamed = roomReducer(sent, ev(messageEvent(msg(2, { isYou: true, body: "hello" }))));
    expect(seqs(streamed)).toEqual([1, 2]);
    expect(streamed.pending).toEqual([]);
    expect(streamed.cursor).toBe(2);
  });

  it("lets the stream settle the pending message before the mutation answers", () => {
    const state = run(
      [
        sending,
        { type: "sending", clientMessageId: "c2", thread: "ALL", body: "hello", createdAt: "t2" },
        ev(messageEvent(msg(2, { isYou: true, body: "hello" }))),
      ],
      loaded([msg(1)]),
    );
    expect(state.pending.map((p) => p.clientMessageId)).toEqual(["c2"]);
    const answered = run(
      [
        { type: "sent", clientMessageId: "c1", message: msg(2, { isYou: true, body: "hello" }) },
        ev(messageEvent(msg(3, { isYou: true, body: "hello" }))),
        { type: "sent", clientMessageId: "c2", message: msg(3, { isYou: true, body: "hello" }) },
      ],
      state,
    );
    expect(seqs(answered)).toEqual([1, 2, 3]);
    expect(answered.pending).toEqual([]);
  });

  it("does not take someone else's message, or one in another thread, for yours", () => {
    const state = run(
      [
        sending,
        ev(messageEvent(msg(2, { isYou: false, body: "hello" }))),
        ev(messageEvent(msg(3, { isYou: true, body: "hello", thread: "SELLER" }))),
      ],
      loaded([msg(1)]),
    );
    expect(state.pending.map((p) => p.clientMessageId)).toEqual(["c1"]);
  });

  it("keeps a refused message with its error, retries it under the same id, or discards it", () => {
    const failed = run(
      [sending, { type: "failed", clientMessageId: "c1", error: { code: "RATE_LIMITED", message: "retry in 12 s" } }],
      loaded([]),
    );
    expect(failed.pending).toEqual([
      {
        clientMessageId: "c1",
        thread: "ALL",
        body: "  hello  ",
        createdAt: "2025-03-01T10:00:00Z",
        status: "failed",
        error: { code: "RATE_LIMITED", message: "retry in 12 s" },
      },
    ]);
    // A failed one is not settled by a look-alike from the stream.
    expect(roomReducer(failed, ev(messageEvent(msg(4, { isYou: true, body: "hello" })))).pending).toHaveLength(1);
    const retried = roomReducer(failed, { ...sending, createdAt: "later" });
    expect(retried.pending).toEqual([{ ...failed.pending[0], status: "sending", error: null }]);
    expect(roomReducer(failed, { type: "discard", clientMessageId: "c1" }).pending).toEqual([]);
  });

  it("lists pending messages per thread", () => {
    const state = run(
      [sending, { type: "sending", clientMessageId: "c2", thread: "SELLER", body: "to brokers", createdAt: "t" }],
      loaded([]),
    );
    expect(pendingIn(state, "ALL").map((p) => p.clientMessageId)).toEqual(["c1"]);
    expect(pendingIn(state, "SELLER").map((p) => p.clientMessageId)).toEqual(["c2"]);
  });
});

describe("moderation", () => {
  const file = { depositId: "D1", fileId: "F1", name: "claims.pdf", size: 2048 };
  const moderation = (sequence: number, target: number) =>
    msg(sequence, {
      kind: "MODERATION",
      authorRole: "OPERATOR",
      authorName: "Operator",
      body: "",
      event: "message_hidden",
      data: JSON.stringify({ target_sequence: target }),
      sourceSequence: target,
    });

  it("hides the target's words and file from a participant and keeps the moderation entry", () => {
    const start = loaded([msg(1), msg(2, { kind: "FILE", attachment: file, body: "" })]);
    const state = roomReducer(start, ev(messageEvent(moderation(3, 2))));
    expect(state.messages).toEqual([
      msg(1),
      msg(2, { kind: "FILE", attachment: null, body: null, hidden: true }),
      moderation(3, 2),
    ]);
    expect(state.cursor).toBe(3);
  });

  it("lets an operator still read a hidden message", () => {
    const start = loaded([msg(1)], { participants: [buyer] }, true);
    const state = roomReducer(start, ev(messageEvent(moderation(2, 1))));
    expect(state.messages[0]).toEqual(msg(1, { hidden: true }));
    const answered = roomReducer(state, { type: "stored", message: msg(1, { hidden: true, hiddenReason: "spam" }) });
    expect(answered.messages[0]).toEqual(msg(1, { hidden: true, hiddenReason: "spam" }));
  });

  it("applies a hide learnt before the hidden message was loaded", () => {
    const state = run(
      [ev(messageEvent(moderation(60, 3))), { type: "earlier", messages: [msg(2), msg(3)], pageSize: 50 }],
      loaded([msg(50)]),
    );
    expect(state.messages.find((m) => m.sequence === 3)).toEqual(msg(3, { hidden: true, body: null }));
    expect(state.messages.find((m) => m.sequence === 2)).toEqual(msg(2));
    expect(state.hiddenSequences).toEqual([3]);
  });

  it("never shows a hidden message again when an older rendering of it arrives", () => {
    const hidden = run([ev(messageEvent(moderation(3, 2)))], loaded([msg(1), msg(2)]));
    const replayed = roomReducer(hidden, ev(messageEvent(msg(2))));
    expect(replayed).toBe(hidden);
    expect(replayed.messages[1]).toEqual(msg(2, { hidden: true, body: null }));
  });

  it("a hide in the same page as its target applies whatever the order", () => {
    const state = loaded([moderation(5, 4), msg(4)]);
    expect(state.messages).toEqual([msg(4, { hidden: true, body: null }), moderation(5, 4)]);
  });
});

describe("typing, receipts, presence", () => {
  it("shows a typist for 6 seconds after their last signal, in their thread", () => {
    const start = loaded([msg(1)]);
    const state = roomReducer(start, ev(typingEvent(buyer, "ALL"), 1000));
    expect(state.typing).toEqual([{ key: "BUYER:Buyer A", name: "Buyer A", role: "BUYER", thread: "ALL", until: 7000 }]);
    expect(typingIn(state, "ALL", 6999).map((t) => t.name)).toEqual(["Buyer A"]);
    expect(typingIn(state, "SELLER", 6999)).toEqual([]);
    expect(typingIn(state, "ALL", 7000)).toEqual([]);
    const again = roomReducer(state, ev(typingEvent(buyer, "ALL"), 4000));
    expect(again.typing).toEqual([{ key: "BUYER:Buyer A", name: "Buyer A", role: "BUYER", thread: "ALL", until: 10000 }]);
    expect(roomReducer(again, { type: "tick", now: 9999 })).toBe(again);
    expect(roomReducer(again, { type: "tick", now: 10000 }).typing).toEqual([]);
  });

  it("stops showing a typist once their message arrives or they leave", () => {
    const typing = roomReducer(loaded([]), ev(typingEvent(buyer), 0));
    const wrote = roomReducer(typing, ev(messageEvent(msg(2, { authorName: "Buyer A", authorRole: "BUYER" }))));
    expect(wrote.typing).toEqual([]);
    const left = roomReducer(typing, ev(presenceEvent(buyer, false)));
    expect(left.typing).toEqual([]);
  });

  it("ignores your own typing", () => {
    const start = loaded([]);
    expect(roomReducer(start, ev(typingEvent(me)))).toBe(start);
  });

  it("moves read markers forward only, yours included", () => {
    const start = loaded([msg(1), msg(2), msg(3), msg(4)]);
    const state = run([ev(readEvent(broker, 4)), ev(readEvent(broker, 2)), ev(readEvent(me, 3))], start);
    expect(state.participants.find((p) => p.key === "BROKER:Lee Broker")?.lastReadSequence).toBe(4);
    expect(state.participants.find((p) => p.isYou)?.lastReadSequence).toBe(3);
    expect(state.myLastRead).toBe(3);
    expect(roomReducer(state, { type: "read", sequence: 2 })).toBe(state);
    expect(roomReducer(state, { type: "read", sequence: 4 }).myLastRead).toBe(4);
  });

  it("tracks presence, adds a newly assigned broker and leaves operators out", () => {
    const start = loaded([]);
    const state = run(
      [
        ev(presenceEvent(buyer, true)),
        ev(presenceEvent(person("Park Broker", "BROKER"), true)),
        ev(presenceEvent(person("Operator", "OPERATOR"), true)),
      ],
      start,
    );
    expect(state.participants.map((p) => [p.key, p.online])).toEqual([
      ["SELLER:Kim Seller", true],
      ["BUYER:Buyer A", true],
      ["BROKER:Lee Broker", true],
      ["BROKER:Park Broker", true],
    ]);
    expect(roomReducer(state, ev(presenceEvent(buyer, true)))).toBe(state);
    expect(roomReducer(state, ev(presenceEvent(buyer, false))).participants[1].online).toBe(false);
  });

  it("refreshes people after a reconnect without losing receipts or where a typist types", () => {
    const start = run([ev(typingEvent(broker, "SELLER"), 1000), ev(readEvent(buyer, 9))], loaded([]));
    const state = roomReducer(start, {
      type: "people",
      participants: [me, person("Buyer A", "BUYER", { online: true, lastReadSequence: 5 }), { ...broker, typing: true, online: false }],
      myLastRead: 1,
      relayed: false,
      now: 2000,
    });
    expect(state.participants.map((p) => [p.key, p.online, p.lastReadSequence])).toEqual([
      ["SELLER:Kim Seller", true, 2],
      ["BUYER:Buyer A", true, 9],
      ["BROKER:Lee Broker", false, 1],
    ]);
    expect(state.typing).toEqual([{ key: "BROKER:Lee Broker", name: "Lee Broker", role: "BROKER", thread: "SELLER", until: 8000 }]);
    expect(state.myLastRead).toBe(2);
    expect(state.relayed).toBe(false);
  });
});

describe("what the view shows", () => {
  const state = run(
    [
      ev(messageEvent(msg(5, { thread: "SELLER", authorName: "Kim Seller", isYou: true }))),
      ev(messageEvent(msg(6, { thread: "SELLER", authorName: "Lee Broker", authorRole: "BROKER" }))),
      ev(readEvent(broker, 6)),
    ],
    loaded([msg(1), msg(2, { authorName: "Buyer A", authorRole: "BUYER" }), msg(3)]),
  );

  it("gives each role its threads", () => {
    expect(threadsFor("SELLER")).toEqual(["ALL", "SELLER"]);
    expect(threadsFor("BUYER")).toEqual(["ALL", "BUYER"]);
    expect(threadsFor("BROKER")).toEqual(["ALL", "SELLER", "BUYER"]);
    expect(threadsFor("OPERATOR")).toEqual(["ALL", "SELLER", "BUYER"]);
    expect(viewerRole(state.participants, false)).toBe("SELLER");
    expect(viewerRole([], true)).toBe("OPERATOR");
    expect(viewerRole([], false)).toBeNull();
  });

  it("splits messages by thread", () => {
    expect(messagesIn(state, "ALL").map((m) => m.sequence)).toEqual([1, 2, 3]);
    expect(messagesIn(state, "SELLER").map((m) => m.sequence)).toEqual([5, 6]);
    expect(messagesIn(state, "BUYER")).toEqual([]);
  });

  it("says who has seen a message among those who may read its thread", () => {
    expect(seenBy(state, state.messages[2]).map((p) => p.name)).toEqual(["Buyer A", "Lee Broker"]);
    // The buyer read up to 3 but cannot read the seller's thread with the brokers.
    expect(seenBy(state, msg(3, { thread: "SELLER" })).map((p) => p.name)).toEqual(["Lee Broker"]);
    expect(seenBy(state, state.messages[4]).map((p) => p.name)).toEqual(["Lee Broker"]);
  });

  it("counts unread messages from others per thread", () => {
    expect(state.myLastRead).toBe(2);
    expect(unreadIn(state, "ALL")).toBe(1);
    expect(unreadIn(state, "SELLER")).toBe(1);
  });

  it("relays a side's words to the other side and nothing else", () => {
    expect(forwardTarget(msg(1))).toBe("BUYER");
    expect(forwardTarget(msg(1, { thread: "SELLER" }))).toBe("BUYER");
    expect(forwardTarget(msg(2, { authorRole: "BUYER", thread: "BUYER" }))).toBe("SELLER");
    expect(forwardTarget(msg(2, { authorRole: "BROKER" }))).toBeNull();
    expect(forwardTarget(msg(2, { kind: "SYSTEM", authorRole: "SYSTEM" }))).toBeNull();
    expect(forwardTarget(msg(2, { hidden: true }))).toBeNull();
    expect(forwardTarget(msg(2, { kind: "FILE", attachment: { depositId: "d", fileId: "f", name: "a.pdf", size: 1 } }))).toBe("BUYER");
    expect(canHide(msg(1))).toBe(true);
    expect(canHide(msg(1, { kind: "FORWARD" }))).toBe(true);
    expect(canHide(msg(1, { hidden: true }))).toBe(false);
    expect(canHide(msg(1, { kind: "SYSTEM" }))).toBe(false);
    expect(canHide(msg(1, { kind: "MODERATION" }))).toBe(false);
  });

  it("finds where a message was forwarded", () => {
    const forwarded = roomReducer(state, {
      type: "stored",
      message: msg(7, { kind: "FORWARD", thread: "BUYER", authorRole: "BROKER", sourceSequence: 1 }),
    });
    expect(forwardsOf(forwarded, forwarded.messages[0]).map((m) => m.thread)).toEqual(["BUYER"]);
    expect(forwardsOf(forwarded, forwarded.messages[1])).toEqual([]);
  });

  it("reads the data of a message and makes client ids", () => {
    expect(parseData('{"from_role": "seller", "note": "see claim 1"}')).toEqual({ from_role: "seller", note: "see claim 1" });
    expect(parseData("not json")).toEqual({});
    expect(parseData("[1]")).toEqual({});
    expect(parseData(null)).toEqual({});
    const id = newClientMessageId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newClientMessageId()).not.toBe(id);
  });
});

describe("system messages", () => {
  const system = (event: string, data: object, body = "English body.") =>
    msg(1, { kind: "SYSTEM", authorRole: "SYSTEM", authorName: "System", event, data: JSON.stringify(data), body });

  it("translates events with their facts", () => {
    const offer = system("offer_made", { version: 2, amount: 150000000, currency: "KRW", by_role: "buyer" });
    expect(systemText(offer, "en")).toBe("Offer v2: ₩150,000,000.");
    expect(systemText(offer, "ko")).toBe("제안 v2: ₩150,000,000");
    const signed = system("nda_signed", { side: "seller" });
    expect(systemText(signed, "en")).toBe("The Seller signed the NDA.");
    expect(systemText(signed, "ko")).toBe("판매자 측이 NDA에 서명했습니다.");
    const funded = system("milestone_funded", { sequence: 1, title: "Transfer", amount: 1250, currency: "USD" });
    expect(systemText(funded, "en")).toBe("Milestone 1 (Transfer) funded: $12.50 held in escrow.");
    expect(systemText(system("nda_completed", {}), "ko")).toBe("양측이 모두 NDA에 서명했습니다.");
  });

  it("falls back to the API's sentence when a fact or the event is unknown", () => {
    expect(systemText(system("nda_signed", {}, "The  signed the NDA."), "en")).toBe("The  signed the NDA.");
    expect(systemText(system("something_new", {}, "Something new happened."), "ko")).toBe("Something new happened.");
    expect(systemText(system("something_new", {}, ""), "en")).toBe("");
  });

  it("says a message was hidden", () => {
    const moderation = msg(2, { kind: "MODERATION", authorRole: "OPERATOR", event: "message_hidden", body: "", sourceSequence: 1 });
    expect(systemText(moderation, "en")).toBe("An operator hid a message.");
    expect(systemText({ ...moderation, event: null }, "ko")).toBe("운영자가 메시지를 숨겼습니다.");
  });

  it("collects the facts texts use", () => {
    expect(eventVars({ version: 3, counters: 2, side: "buyer", amount: 5000, currency: "KRW", other: 1 }, "en")).toEqual({
      version: "3",
      counters: "2",
      side: "Buyer",
      amount: "₩5,000",
    });
    expect(eventVars({ side: "nobody", amount: 5 }, "en")).toEqual({});
  });
});

describe("throttle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("without trailing: the first call runs, calls within the wait are dropped", () => {
    const calls: number[] = [];
    const typing = throttle((n: number) => calls.push(n), 3000, { trailing: false });
    typing(1);
    vi.advanceTimersByTime(1000);
    typing(2);
    vi.advanceTimersByTime(1999);
    typing(3);
    vi.advanceTimersByTime(1);
    typing(4);
    vi.advanceTimersByTime(10000);
    expect(calls).toEqual([1, 4]);
  });

  it("with trailing: the latest call during the wait runs when it ends", () => {
    const calls: number[] = [];
    const read = throttle((n: number) => calls.push(n), 2000, { trailing: true });
    read(5);
    read(6);
    read(7);
    expect(calls).toEqual([5]);
    vi.advanceTimersByTime(2000);
    expect(calls).toEqual([5, 7]);
    read(8);
    expect(calls).toEqual([5, 7]);
    vi.advanceTimersByTime(2000);
    expect(calls).toEqual([5, 7, 8]);
    read(9);
    read.cancel();
    vi.advanceTimersByTime(5000);
    expect(calls).toEqual([5, 7, 8]);
  });
});
