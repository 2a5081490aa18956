// The deal room's state as a pure reducer: one ordered, de-duplicated list of messages by sequence, fed by
// the first page (dealRoom), earlier pages, the subscription (replay + live) and mutation answers; the
// messages being sent (optimistic, by clientMessageId); participants with presence, typing and receipts.
//
// `cursor` is what the subscription resumes after. Only the first page and the subscription move it: a
// message learnt from a mutation's answer may be ahead of what the stream has delivered, and resuming after
// it would skip what came in between.
import type {
  DealRoomEventFieldsFragment,
  DealRoomMessageFragment,
  DealRoomPersonFragment,
  DealRoomThread,
  RoomRole,
} from "../../../gql/graphql";

/** createdAt is optional: see DealRoom.graphql (the API cannot serialise it yet). */
export type RoomMessage = DealRoomMessageFragment & { createdAt?: string | null };
export type RoomPerson = DealRoomPersonFragment;
export type RoomEvent = DealRoomEventFieldsFragment;
export type Thread = DealRoomThread;
export type Role = RoomRole;

/** The server forgets a typist after 6 s unless they type on (ephemeral.TYPING_TTL). */
export const TYPING_MS = 6000;
/** Messages per page (the API allows up to 100). */
export const PAGE_SIZE = 50;
export const MAX_MESSAGE_CHARS = 4000;

export interface Participant {
  key: string;
  name: string;
  role: Role;
  isYou: boolean;
  online: boolean;
  lastReadSequence: number;
}

export interface Typist {
  key: string;
  name: string;
  role: Role;
  thread: Thread;
  until: number;
}

export interface SendError {
  code: string;
  message: string;
}

export interface PendingMessage {
  clientMessageId: string;
  thread: Thread;
  body: string;
  createdAt: string;
  status: "sending" | "failed";
  error: SendError | null;
}

export interface RoomState {
  ready: boolean;
  messages: RoomMessage[];
  pending: PendingMessage[];
  cursor: number;
  hasEarlier: boolean;
  participants: Participant[];
  typing: Typist[];
  myLastRead: number;
  relayed: boolean;
  /** Operators still read hidden messages' words. */
  operator: boolean;
  /** Hides learnt (moderation entries) before the hidden message itself was loaded. */
  hiddenSequences: number[];
}

export interface LoadedRoom {
  myLastReadSequence: number;
  relayed: boolean;
  participants: readonly RoomPerson[];
  messages: readonly RoomMessage[];
}

export type RoomAction =
  | { type: "loaded"; room: LoadedRoom; operator: boolean; pageSize: number; now: number }
  | { type: "earlier"; messages: readonly RoomMessage[]; pageSize: number }
  | { type: "people"; participants: readonly RoomPerson[]; myLastRead: number; relayed: boolean; now: number }
  | { type: "event"; event: RoomEvent; now: number }
  | { type: "sending"; clientMessageId: string; thread: Thread; body: string; createdAt: string }
  | { type: "sent"; clientMessageId: string; message: RoomMessage }
  | { type: "failed"; clientMessageId: string; error: SendError }
  | { type: "discard"; clientMessageId: string }
  | { type: "stored"; message: RoomMessage }
  | { type: "read"; sequence: number }
  | { type: "tick"; now: number };

export const initialRoomState: RoomState = {
  ready: false,
  messages: [],
  pending: [],
  cursor: 0,
  hasEarlier: false,
  participants: [],
  typing: [],
  myLastRead: 0,
  relayed: false,
  operator: false,
  hiddenSequences: [],
};

export function personKey(role: Role, name: string): string {
  return `${role}:${name}`;
}

const HIDEABLE_KINDS = new Set(["TEXT", "FILE", "FORWARD"]);

function hideLocally(message: RoomMessage, operator: boolean): RoomMessage {
  if (message.hidden && (operator || message.body === null)) return message;
  return operator
    ? { ...message, hidden: true }
    : { ...message, hidden: true, body: null, attachment: null, masked: [] };
}

/** Insert or replace one message, keeping the list sorted by sequence. A hide never comes undone: an older
 * rendering of a message arriving after its hide keeps the hide. */
function upsert(state: RoomState, incoming: RoomMessage): RoomState {
  let message = incoming;
  if (!message.hidden && state.hiddenSequences.includes(message.sequence) && HIDEABLE_KINDS.has(message.kind)) {
    message = hideLocally(message, state.operator);
  }
  const list = state.messages;
  const last = list[list.length - 1];
  if (!last || last.sequence < message.sequence) return { ...state, messages: [...list, message] };
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].sequence < message.sequence) lo = mid + 1;
    else hi = mid;
  }
  const existing = list[lo];
  if (existing && existing.sequence === message.sequence) {
    if (existing.hidden && !message.hidden) return state;
    if (sameMessage(existing, message)) return state;
    const next = list.slice();
    next[lo] = message;
    return { ...state, messages: next };
  }
  const next = list.slice();
  next.splice(lo, 0, message);
  return { ...state, messages: next };
}

function sameMessage(a: RoomMessage, b: RoomMessage): boolean {
  return (
    a.id === b.id &&
    a.body === b.body &&
    a.hidden === b.hidden &&
    a.hiddenReason === b.hiddenReason &&
    a.authorName === b.authorName &&
    a.masked.join() === b.masked.join() &&
    (a.attachment === null) === (b.attachment === null)
  );
}

/** A moderation entry hides the message it points at, wherever (and whenever) that one is loaded. */
function applyModeration(state: RoomState, moderation: RoomMessage): RoomState {
  const target = moderation.sourceSequence;
  if (moderation.kind !== "MODERATION" || target === null) return state;
  const index = state.messages.findIndex((m) => m.sequence === target);
  const hiddenSequences = state.hiddenSequences.includes(target)
    ? state.hiddenSequences
    : [...state.hiddenSequences, target];
  if (index < 0) return { ...state, hiddenSequences };
  const hidden = hideLocally(state.messages[index], state.operator);
  if (hidden === state.messages[index]) return { ...state, hiddenSequences };
  const messages = state.messages.slice();
  messages[index] = hidden;
  return { ...state, messages, hiddenSequences };
}

function storeMessage(state: RoomState, message: RoomMessage): RoomState {
  return upsert(applyModeration(state, message), message);
}

/** Your own message arriving on the stream before the mutation answered: it replaces the oldest pending
 * one with the same thread and words (the server trims them; your own words are never masked for you). */
function settlePending(state: RoomState, message: RoomMessage): RoomState {
  if (!message.isYou || message.kind !== "TEXT" || message.body === null || !state.pending.length) return state;
  const index = state.pending.findIndex(
    (p) => p.status === "sending" && p.thread === message.thread && p.body.trim() === message.body,
  );
  if (index < 0) return state;
  return { ...state, pending: state.pending.filter((_, i) => i !== index) };
}

function toParticipants(people: readonly RoomPerson[], previous: Participant[] = []): Participant[] {
  // Before the NDA several members of the other side share one alias ("Seller"): they show as one.
  const out: Participant[] = [];
  for (const person of people) {
    const key = personKey(person.role, person.name);
    const earlier = previous.find((p) => p.key === key);
    const read = Math.max(person.lastReadSequence, earlier?.lastReadSequence ?? 0);
    const same = out.find((p) => p.key === key);
    if (same) {
      same.online = same.online || person.online;
      same.isYou = same.isYou || person.isYou;
      same.lastReadSequence = Math.max(same.lastReadSequence, read);
    } else {
      out.push({ key, name: person.name, role: person.role, isYou: person.isYou, online: person.online, lastReadSequence: read });
    }
  }
  return out;
}

/** Typists after a fresh read of the participants: those still typing keep the thread their signal named
 * (the query does not say where they type; the room as a whole is assumed). */
function typistsOf(people: readonly RoomPerson[], now: number, known: readonly Typist[]): Typist[] {
  return people
    .filter((p) => p.typing && !p.isYou)
    .map((p) => {
      const key = personKey(p.role, p.name);
      const earlier = known.find((t) => t.key === key);
      return { key, name: p.name, role: p.role, thread: earlier?.thread ?? "ALL", until: Math.max(earlier?.until ?? 0, now + TYPING_MS) };
    });
}

function updatePerson(state: RoomState, person: RoomPerson, change: (p: Participant) => Participant): RoomState {
  const key = personKey(person.role, person.name);
  const index = state.participants.findIndex((p) => p.key === key);
  if (index < 0) {
    // Operators read rooms without taking part; a newly assigned broker does take part.
    if (person.role === "OPERATOR" || person.role === "SYSTEM") return state;
    const fresh = change({
      key,
      name: person.name,
      role: person.role,
      isYou: person.isYou,
      online: false,
      lastReadSequence: 0,
    });
    return { ...state, participants: [...state.participants, fresh] };
  }
  const current = state.participants[index];
  const next = change(current);
  if (next.online === current.online && next.lastReadSequence === current.lastReadSequence) return state;
  const participants = state.participants.slice();
  participants[index] = next;
  return { ...state, participants };
}

function applyEvent(state: RoomState, event: RoomEvent, now: number): RoomState {
  switch (event.type) {
    case "MESSAGE": {
      const message = event.message;
      const sequence = message?.sequence ?? event.sequence ?? 0;
      let next = sequence > state.cursor ? { ...state, cursor: sequence } : state;
      if (!message) return next;
      next = storeMessage(next, message);
      next = settlePending(next, message);
      const author = personKey(message.authorRole, message.authorName);
      if (next.typing.some((t) => t.key === author)) next = { ...next, typing: next.typing.filter((t) => t.key !== author) };
      return next;
    }
    case "TYPING": {
      const person = event.participant;
      if (!person || person.isYou) return state;
      const key = personKey(person.role, person.name);
      const typist: Typist = { key, name: person.name, role: person.role, thread: event.thread ?? "ALL", until: now + TYPING_MS };
      return { ...state, typing: [...state.typing.filter((t) => t.key !== key), typist] };
    }
    case "READ": {
      const person = event.participant;
      if (!person) return state;
      const sequence = event.readSequence ?? person.lastReadSequence;
      let next = updatePerson(state, person, (p) => ({ ...p, lastReadSequence: Math.max(p.lastReadSequence, sequence) }));
      if (person.isYou && sequence > next.myLastRead) next = { ...next, myLastRead: sequence };
      return next;
    }
    case "PRESENCE": {
      const person = event.participant;
      if (!person) return state;
      const online = event.online ?? person.online;
      let next = updatePerson(state, person, (p) => ({ ...p, online }));
      if (!online) {
        const key = personKey(person.role, person.name);
        if (next.typing.some((t) => t.key === key)) next = { ...next, typing: next.typing.filter((t) => t.key !== key) };
      }
      return next;
    }
    default:
      return state;
  }
}

function mergeAll(state: RoomState, messages: readonly RoomMessage[]): RoomState {
  let next = state;
  // Hides first, so messages of the same batch arrive hidden.
  for (const m of messages) next = applyModeration(next, m);
  for (const m of messages) next = upsert(next, m);
  return next;
}

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case "loaded": {
      const { room } = action;
      const base: RoomState = state.ready
        ? state
        : { ...state, operator: action.operator, hasEarlier: room.messages.length >= action.pageSize };
      let next = mergeAll(base, room.messages);
      const newest = room.messages.reduce((max, m) => Math.max(max, m.sequence), 0);
      next = {
        ...next,
        ready: true,
        cursor: Math.max(next.cursor, newest),
        participants: toParticipants(room.participants, state.participants),
        typing: typistsOf(room.participants, action.now, state.typing),
        myLastRead: Math.max(state.myLastRead, room.myLastReadSequence),
        relayed: room.relayed,
      };
      for (const m of room.messages) next = settlePending(next, m);
      return next;
    }
    case "earlier": {
      const next = mergeAll(state, action.messages);
      return { ...next, hasEarlier: action.messages.length >= action.pageSize };
    }
    case "people": {
      return {
        ...state,
        participants: toParticipants(action.participants, state.participants),
        typing: typistsOf(action.participants, action.now, state.typing),
        myLastRead: Math.max(state.myLastRead, action.myLastRead),
        relayed: action.relayed,
      };
    }
    case "event":
      return applyEvent(state, action.event, action.now);
    case "sending": {
      const existing = state.pending.find((p) => p.clientMessageId === action.clientMessageId);
      if (existing) {
        // A retry: same id, so the server stores it once.
        return {
          ...state,
          pending: state.pending.map((p) =>
            p.clientMessageId === action.clientMessageId ? { ...p, status: "sending", error: null } : p,
          ),
        };
      }
      const pending: PendingMessage = {
        clientMessageId: action.clientMessageId,
        thread: action.thread,
        body: action.body,
        createdAt: action.createdAt,
        status: "sending",
        error: null,
      };
      return { ...state, pending: [...state.pending, pending] };
    }
    case "sent": {
      const next = storeMessage(state, action.message);
      return { ...next, pending: next.pending.filter((p) => p.clientMessageId !== action.clientMessageId) };
    }
    case "failed":
      return {
        ...state,
        pending: state.pending.map((p) =>
          p.clientMessageId === action.clientMessageId ? { ...p, status: "failed", error: action.error } : p,
        ),
      };
    case "discard":
      return { ...state, pending: state.pending.filter((p) => p.clientMessageId !== action.clientMessageId) };
    case "stored":
      return storeMessage(state, action.message);
    case "read":
      return action.sequence > state.myLastRead ? { ...state, myLastRead: action.sequence } : state;
    case "tick": {
      const typing = state.typing.filter((t) => t.until > action.now);
      return typing.length === state.typing.length ? state : { ...state, typing };
    }
    default:
      return state;
  }
}

// ---- What the view asks of the state ------------------------------------------------------------------

/** The threads a viewer reads: parties the whole room and their own side's thread with the brokers. */
export function threadsFor(role: Role | null): Thread[] {
  if (role === "SELLER") return ["ALL", "SELLER"];
  if (role === "BUYER") return ["ALL", "BUYER"];
  return ["ALL", "SELLER", "BUYER"];
}

export function canRead(role: Role, thread: Thread): boolean {
  return threadsFor(role).includes(thread);
}

/** The viewer's role in this room: from the participants, else an operator reading it. */
export function viewerRole(participants: readonly Participant[], operator: boolean): Role | null {
  const me = participants.find((p) => p.isYou);
  if (me) return me.role;
  return operator ? "OPERATOR" : null;
}

export function messagesIn(state: RoomState, thread: Thread): RoomMessage[] {
  return state.messages.filter((m) => m.thread === thread);
}

export function pendingIn(state: RoomState, thread: Thread): PendingMessage[] {
  return state.pending.filter((p) => p.thread === thread);
}

/** Who else has read up to `message` (among those who can read its thread). */
export function seenBy(state: RoomState, message: RoomMessage): Participant[] {
  return state.participants.filter(
    (p) => !p.isYou && p.lastReadSequence >= message.sequence && canRead(p.role, message.thread),
  );
}

export function typingIn(state: RoomState, thread: Thread, now: number): Typist[] {
  return state.typing.filter((t) => t.thread === thread && t.until > now);
}

/** Unread messages from others in a thread (after your read marker). */
export function unreadIn(state: RoomState, thread: Thread): number {
  return state.messages.filter(
    (m) => m.thread === thread && m.sequence > state.myLastRead && !m.isYou && m.kind !== "MODERATION",
  ).length;
}

/** A broker relays a side's words to the other side's thread. */
export function forwardTarget(message: RoomMessage): Thread | null {
  if (message.hidden || (message.kind !== "TEXT" && message.kind !== "FILE")) return null;
  if (message.authorRole === "SELLER") return "BUYER";
  if (message.authorRole === "BUYER") return "SELLER";
  return null;
}

export function canHide(message: RoomMessage): boolean {
  return !message.hidden && HIDEABLE_KINDS.has(message.kind);
}

/** The forwards of a message already in the log (to say where it went). */
export function forwardsOf(state: RoomState, message: RoomMessage): RoomMessage[] {
  return state.messages.filter((m) => m.kind === "FORWARD" && m.sourceSequence === message.sequence);
}

export function parseData(data: string | null | undefined): Record<string, unknown> {
  if (!data) return {};
  try {
    const value: unknown = JSON.parse(data);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** An id for a message being sent; crypto.randomUUID needs a secure context, so there is a fallback. */
export function newClientMessageId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
