// The deal's live room: the first page of messages from dealRoom, then dealRoomEvents from the newest
// sequence (replay, then live), merged by roomReducer; thread tabs (the whole room and each side's private
// thread with the brokers, as far as the viewer may read them), the composer, participants with presence
// and receipts, and the brokers' relay and operators' hide tools.
import { useCallback, useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState, type KeyboardEvent } from "react";
import { CombinedError, useClient } from "urql";
import { useSession } from "../../../auth/session";
import { QueryError, Loading } from "../../../components/Status";
import {
  DealRoomEarlierDocument,
  DealRoomLoadDocument,
  DealRoomMarkReadDocument,
  DealRoomPeopleDocument,
  DealRoomSendDocument,
  DealRoomSetTypingDocument,
} from "../../../gql/graphql";
import { useI18n } from "../../../i18n";
import { Composer } from "./Composer";
import { MessageItem, PendingItem } from "./MessageItem";
import { Participants } from "./Participants";
import {
  initialRoomState,
  messagesIn,
  newClientMessageId,
  PAGE_SIZE,
  pendingIn,
  roomReducer,
  seenBy,
  threadsFor,
  typingIn,
  unreadIn,
  viewerRole,
  type RoomEvent,
  type RoomMessage,
  type Thread,
} from "./roomState";
import { throttle } from "./throttle";
import { useRoomStream } from "./useRoomStream";
import "./room.css";

/** setTyping at most this often while typing (the server keeps a typist for 6 s). */
const TYPING_EVERY_MS = 3000;
const READ_EVERY_MS = 1500;
/** Within this many pixels of the end, the log follows new messages. */
const STICK_PX = 48;
const NOWHERE: Thread[] = [];

function TypingLine({ names }: { names: string[] }) {
  const { t } = useI18n();
  let text = "";
  if (names.length === 1) text = t("room.typingOne", { name: names[0] });
  else if (names.length === 2) text = t("room.typingTwo", { first: names[0], second: names[1] });
  else if (names.length > 2) text = t("room.typingMany");
  return (
    <p className="room-typing muted" aria-live="polite" data-testid="room-typing">
      {text}
    </p>
  );
}

/** A new deal or a different user starts from an empty room (and a new cursor). */
export default function DealRoom({ dealId }: { dealId: string }) {
  const session = useSession();
  const sessionKey = session.me?.user.id ?? "";
  return <Room key={`${dealId}:${sessionKey}`} dealId={dealId} sessionKey={sessionKey} />;
}

function Room({ dealId, sessionKey }: { dealId: string; sessionKey: string }) {
  const { t, te } = useI18n();
  const client = useClient();
  const session = useSession();
  const [state, dispatch] = useReducer(roomReducer, initialRoomState);
  const [loadError, setLoadError] = useState<CombinedError | null>(null);
  const [missing, setMissing] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const [closed, setClosed] = useState(false);
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const cursor = useRef(0);

  // ---- the first page --------------------------------------------------------------------------------
  useEffect(() => {
    let cancelled = false;
    client
      .query(DealRoomLoadDocument, { dealId, first: PAGE_SIZE }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        if (cancelled) return;
        if (result.error) {
          setLoadError(result.error);
          return;
        }
        setLoadError(null);
        const room = result.data?.dealRoom;
        if (!room) {
          setMissing(true);
          return;
        }
        setMissing(false);
        const operator = session.isOperator && !room.participants.some((p) => p.isYou);
        cursor.current = Math.max(cursor.current, ...room.messages.map((m) => m.sequence));
        dispatch({ type: "loaded", room, operator, pageSize: PAGE_SIZE, now: Date.now() });
      });
    return () => {
      cancelled = true;
    };
    // The session's operator flag is read once per load; a different user reloads through sessionKey.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, dealId, sessionKey, attempt]);

  // ---- the stream ------------------------------------------------------------------------------------
  const onEvent = useCallback((event: RoomEvent) => {
    // The cursor moves before React renders: a resubscribe right after reads it.
    if (event.type === "MESSAGE") {
      const sequence = event.message?.sequence ?? event.sequence ?? 0;
      if (sequence > cursor.current) cursor.current = sequence;
    }
    dispatch({ type: "event", event, now: Date.now() });
  }, []);
  const onReconnected = useCallback(() => {
    client
      .query(DealRoomPeopleDocument, { dealId }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        const room = result.data?.dealRoom;
        if (room) {
          dispatch({ type: "people", participants: room.participants, myLastRead: room.myLastReadSequence, relayed: room.relayed, now: Date.now() });
        }
      });
  }, [client, dealId]);
  const stream = useRoomStream({ dealId, enabled: state.ready, cursor, onEvent, onReconnected, sessionKey });

  // Typists fade out when their signal expires.
  const typingCount = state.typing.length;
  useEffect(() => {
    if (!typingCount) return;
    const timer = setInterval(() => {
      const at = Date.now();
      setNow(at);
      dispatch({ type: "tick", now: at });
    }, 1000);
    return () => clearInterval(timer);
  }, [typingCount]);

  // ---- threads -----------------------------------------------------------------------------------------
  const role = viewerRole(state.participants, state.operator || (session.isOperator && !state.participants.some((p) => p.isYou)));
  const threads = threadsFor(role);
  const [chosen, setChosen] = useState<Thread>("ALL");
  const active: Thread = threads.includes(chosen) ? chosen : "ALL";
  const tabRefs = useRef<Partial<Record<Thread, HTMLButtonElement | null>>>({});

  function tabKey(event: KeyboardEvent<HTMLButtonElement>) {
    const index = threads.indexOf(active);
    let next = -1;
    if (event.key === "ArrowRight") next = (index + 1) % threads.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + threads.length) % threads.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = threads.length - 1;
    if (next < 0) return;
    event.preventDefault();
    setChosen(threads[next]);
    tabRefs.current[threads[next]]?.focus();
  }

  const shown = useMemo(() => messagesIn(state, active), [state, active]);
  const pending = pendingIn(state, active);
  const latest = [...shown].reverse().find((m) => m.kind !== "MODERATION") ?? null;
  const forwards = useMemo(() => {
    const map = new Map<number, Thread[]>();
    for (const m of state.messages) {
      if (m.kind === "FORWARD" && m.sourceSequence !== null) map.set(m.sourceSequence, [...(map.get(m.sourceSequence) ?? []), m.thread]);
    }
    return map;
  }, [state.messages]);
  const typists = typingIn(state, active, now);
  const typingKeys = useMemo(() => new Set(state.typing.filter((x) => x.until > now).map((x) => x.key)), [state.typing, now]);
  const roomClosed = closed || state.messages.some((m) => m.event === "deal_cancelled");
  const me = state.participants.find((p) => p.isYou);
  const myName = me?.name ?? session.me?.user.displayName ?? "";

  // ---- writing -------------------------------------------------------------------------------------
  const send = useCallback(
    async (body: string, thread: Thread, clientMessageId: string = newClientMessageId()) => {
      dispatch({ type: "sending", clientMessageId, thread, body, createdAt: new Date().toISOString() });
      const result = await client.mutation(DealRoomSendDocument, { dealId, body, thread, clientMessageId }).toPromise();
      const payload = result.data?.sendMessage;
      if (payload?.message) {
        dispatch({ type: "sent", clientMessageId, message: payload.message });
        return;
      }
      const error = payload?.errors?.[0] ?? { code: "NETWORK", message: result.error?.message ?? "" };
      if (error.code === "ROOM_CLOSED") setClosed(true);
      dispatch({ type: "failed", clientMessageId, error: { code: error.code, message: error.message } });
    },
    [client, dealId],
  );

  const typing = useMemo(
    () =>
      throttle((thread: Thread) => {
        void client.mutation(DealRoomSetTypingDocument, { dealId, thread }).toPromise();
      }, TYPING_EVERY_MS),
    [client, dealId],
  );
  useEffect(() => () => typing.cancel(), [typing]);

  const markSent = useRef(0);
  const markRead = useMemo(
    () =>
      throttle(
        (sequence: number) => {
          markSent.current = Math.max(markSent.current, sequence);
          void client
            .mutation(DealRoomMarkReadDocument, { dealId, sequence })
            .toPromise()
            .then((result) => {
              const marker = result.data?.markRead?.lastReadSequence;
              if (typeof marker === "number") dispatch({ type: "read", sequence: marker });
            });
        },
        READ_EVERY_MS,
        { trailing: true },
      ),
    [client, dealId],
  );
  useEffect(() => () => markRead.cancel(), [markRead]);

  // ---- the log's scrolling and read receipts -----------------------------------------------------------
  const logRef = useRef<HTMLDivElement | null>(null);
  const endRef = useRef<HTMLDivElement | null>(null);
  const stick = useRef(true);
  const restoreFromBottom = useRef<number | null>(null);
  const [atEnd, setAtEnd] = useState(true);
  const [pageVisible, setPageVisible] = useState(() => typeof document === "undefined" || document.visibilityState === "visible");

  useEffect(() => {
    const onVisibility = () => setPageVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", onVisibility);
    return () => document.removeEventListener("visibilitychange", onVisibility);
  }, []);

  const ready = state.ready;
  useEffect(() => {
    const end = endRef.current;
    if (!end || typeof IntersectionObserver === "undefined") return;
    // The viewport as root: the end must be on screen, not merely scrolled to inside the log.
    const observer = new IntersectionObserver((entries) => setAtEnd(entries.some((e) => e.isIntersecting)), { threshold: 0 });
    observer.observe(end);
    return () => observer.disconnect();
  }, [ready]);

  const latestSequence = latest?.sequence ?? 0;
  useEffect(() => {
    if (!atEnd || !pageVisible || !latestSequence) return;
    if (latestSequence <= Math.max(state.myLastRead, markSent.current)) return;
    markRead(latestSequence);
  }, [atEnd, pageVisible, latestSequence, state.myLastRead, markRead]);

  // New messages while the reader has scrolled up: offered by a button instead of moving the log.
  const [newBelow, setNewBelow] = useState(false);
  const followed = useRef(latestSequence);
  useLayoutEffect(() => {
    const el = logRef.current;
    if (!el) return;
    const grew = latestSequence > followed.current;
    followed.current = latestSequence;
    if (restoreFromBottom.current !== null) {
      el.scrollTop = el.scrollHeight - restoreFromBottom.current;
      restoreFromBottom.current = null;
      return;
    }
    if (stick.current) el.scrollTop = el.scrollHeight;
    else if (grew) setNewBelow(true);
  }, [shown.length, pending.length, active, ready, latestSequence]);
  useEffect(() => {
    if (atEnd) setNewBelow(false);
  }, [atEnd]);

  function toLatest() {
    const el = logRef.current;
    stick.current = true;
    setNewBelow(false);
    if (el) el.scrollTop = el.scrollHeight;
  }

  function onScroll() {
    const el = logRef.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_PX;
  }

  async function loadEarlier() {
    const oldest = state.messages[0]?.sequence;
    if (!oldest || loadingEarlier) return;
    setLoadingEarlier(true);
    const result = await client
      .query(DealRoomEarlierDocument, { dealId, before: oldest, first: PAGE_SIZE }, { requestPolicy: "network-only" })
      .toPromise();
    setLoadingEarlier(false);
    const messages = result.data?.dealRoom?.messages;
    if (messages) {
      const el = logRef.current;
      if (el) restoreFromBottom.current = el.scrollHeight - el.scrollTop;
      dispatch({ type: "earlier", messages, pageSize: PAGE_SIZE });
    }
  }

  const onStored = useCallback((message: RoomMessage) => dispatch({ type: "stored", message }), []);

  // ---- render --------------------------------------------------------------------------------------
  const title = (
    <h2 id="deal-room-title" className="room-title">
      {t("room.title")}
    </h2>
  );
  if (loadError) {
    return (
      <section aria-labelledby="deal-room-title" className="deal-room card">
        {title}
        <QueryError error={loadError} retry={() => setAttempt((n) => n + 1)} />
      </section>
    );
  }
  if (missing) {
    return (
      <section aria-labelledby="deal-room-title" className="deal-room card">
        {title}
        <p className="alert">{t("room.notAvailable")}</p>
      </section>
    );
  }
  if (!state.ready) {
    return (
      <section aria-labelledby="deal-room-title" className="deal-room card">
        {title}
        <Loading />
      </section>
    );
  }

  const statusText =
    stream.status === "live"
      ? t("room.live")
      : stream.status === "reconnecting"
        ? t("room.reconnecting")
        : stream.status === "connecting"
          ? t("room.connecting")
          : "";
  const seen = latest ? seenBy(state, latest) : [];

  return (
    <section aria-labelledby="deal-room-title" className="deal-room card" data-deal={dealId}>
      <div className="room-header">
        {title}
        <p role="status" className={`room-conn room-conn-${stream.status}`} data-testid="room-connection" data-status={stream.status}>
          <span className="room-dot" aria-hidden="true" /> {statusText}
        </p>
      </div>
      {stream.error && (
        <div role="alert" className="alert alert-error">
          <p>{t("room.streamError", { message: stream.error })}</p>
          {stream.status === "stopped" && (
            <button type="button" onClick={stream.restart}>
              {t("room.reconnect")}
            </button>
          )}
        </div>
      )}
      {state.relayed && (role === "SELLER" || role === "BUYER") && <p className="alert room-relayed">{t("room.relayed")}</p>}
      {roomClosed && <p className="alert room-closed">{t("room.closed")}</p>}

      <div className="room-layout">
        <div className="room-main">
          <div role="tablist" aria-label={t("room.threads")} className="room-tabs">
            {threads.map((thread) => {
              const unread = thread !== active && unreadIn(state, thread) > 0;
              return (
                <button
                  key={thread}
                  ref={(el) => {
                    tabRefs.current[thread] = el;
                  }}
                  type="button"
                  role="tab"
                  id={`room-tab-${thread}`}
                  aria-selected={thread === active}
                  aria-controls="room-panel"
                  aria-describedby={unread ? "room-unread-note" : undefined}
                  tabIndex={thread === active ? 0 : -1}
                  className="room-tab"
                  onClick={() => {
                    setChosen(thread);
                    stick.current = true;
                  }}
                  onKeyDown={tabKey}
                >
                  {te("DealRoomThread", thread)}
                  {unread && <span className="room-unread-dot" aria-hidden="true" />}
                </button>
              );
            })}
            <span id="room-unread-note" className="visually-hidden">
              {t("room.unread")}
            </span>
          </div>

          <div role="tabpanel" id="room-panel" aria-labelledby={`room-tab-${active}`} className="room-panel">
            <div
              ref={logRef}
              role="log"
              aria-live="polite"
              aria-label={t("room.log", { thread: te("DealRoomThread", active) })}
              tabIndex={0}
              className="room-log"
              onScroll={onScroll}
              data-testid="room-log"
            >
              {state.hasEarlier && (
                <button type="button" className="room-earlier" onClick={() => void loadEarlier()} disabled={loadingEarlier}>
                  {loadingEarlier ? t("room.loadingEarlier") : t("room.earlier")}
                </button>
              )}
              {shown.length === 0 && pending.length === 0 && <p className="muted room-empty">{t("room.empty")}</p>}
              <ol className="room-messages">
                {shown.map((m) => (
                  <MessageItem
                    key={m.sequence}
                    message={m}
                    forwardedTo={forwards.get(m.sequence) ?? NOWHERE}
                    relay={role === "BROKER" && !roomClosed}
                    moderate={session.isOperator}
                    onStored={onStored}
                  />
                ))}
                {pending.map((p) => (
                  <PendingItem
                    key={p.clientMessageId}
                    pending={p}
                    author={myName}
                    onRetry={() => void send(p.body.trim(), p.thread, p.clientMessageId)}
                    onDiscard={() => dispatch({ type: "discard", clientMessageId: p.clientMessageId })}
                  />
                ))}
              </ol>
              <div ref={endRef} className="room-end" aria-hidden="true" />
            </div>
            {newBelow && (
              <button type="button" className="room-new-below" onClick={toLatest}>
                {t("room.newBelow")}
              </button>
            )}
            <p className="room-seen muted" data-testid="room-seen-by">
              {seen.length > 0 ? t("room.seenBy", { names: seen.map((p) => p.name).join(", ") }) : ""}
            </p>
            <TypingLine names={typists.map((x) => x.name)} />
            <Composer
              thread={active}
              disabled={roomClosed}
              onSend={(body) => {
                stick.current = true;
                void send(body, active);
              }}
              onTyping={() => typing(active)}
            />
          </div>
        </div>
        <Participants state={state} typingKeys={typingKeys} />
      </div>
    </section>
  );
}
