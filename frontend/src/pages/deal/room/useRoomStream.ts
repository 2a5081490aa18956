// The room's subscription on the app's graphql-ws socket. graphql-ws re-sends a subscription's payload by
// itself after a dropped socket, serialising it again at that moment; `variables` is therefore a getter, so
// the resubscribe asks for what came after the last sequence seen *now*, not after the one we started from.
import { useEffect, useRef, useState, type RefObject } from "react";
import { stringifyDocument } from "urql";
import { wsClient } from "../../../api/client";
import { DealRoomEventsDocument, type DealRoomEventsSubscription } from "../../../gql/graphql";
import type { RoomEvent } from "./roomState";

export type StreamStatus = "connecting" | "live" | "reconnecting" | "stopped";

interface Options {
  dealId: string;
  /** Subscribe only once the first page is in (its newest sequence is where the stream starts). */
  enabled: boolean;
  /** The last sequence seen; read each time the subscription is (re)sent. */
  cursor: RefObject<number>;
  onEvent: (event: RoomEvent) => void;
  /** The socket came back: what is not in the log (presence, typing) may have changed meanwhile. */
  onReconnected: () => void;
  /** Changes when the signed-in user does, to subscribe again with the new session. */
  sessionKey: string;
}

function errorText(error: unknown): string {
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e?.message ?? String(e)).join("; ");
  if (error && typeof error === "object" && "reason" in error && (error as CloseEvent).reason) {
    return (error as CloseEvent).reason;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export function useRoomStream({ dealId, enabled, cursor, onEvent, onReconnected, sessionKey }: Options) {
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const handlers = useRef({ onEvent, onReconnected });
  useEffect(() => {
    handlers.current = { onEvent, onReconnected };
  });

  useEffect(() => {
    if (!enabled) return;
    const client = wsClient();
    let disposed = false;
    let connectedOnce = false;
    const offConnected = client.on("connected", (_socket, _payload, wasRetry) => {
      if (disposed) return;
      setStatus("live");
      if (wasRetry || connectedOnce) handlers.current.onReconnected();
      connectedOnce = true;
    });
    const offClosed = client.on("closed", () => {
      if (!disposed) setStatus((s) => (s === "stopped" ? s : "reconnecting"));
    });
    const payload = {
      query: stringifyDocument(DealRoomEventsDocument),
      get variables() {
        return { dealId, afterSequence: cursor.current };
      },
    };
    const unsubscribe = client.subscribe<DealRoomEventsSubscription>(payload, {
      next(result) {
        if (disposed) return;
        if (result.errors?.length) {
          setError(errorText(result.errors));
          return;
        }
        const event = result.data?.dealRoomEvents;
        if (!event) return;
        setStatus("live");
        connectedOnce = true;
        handlers.current.onEvent(event);
      },
      error(err) {
        if (disposed) return;
        setStatus("stopped");
        setError(errorText(err));
      },
      complete() {
        if (!disposed) setStatus("stopped");
      },
    });
    return () => {
      disposed = true;
      offConnected();
      offClosed();
      unsubscribe();
    };
  }, [dealId, enabled, cursor, sessionKey, attempt]);

  /** After the stream stopped (an error the socket does not retry): subscribe again from the cursor. */
  const restart = () => {
    setError(null);
    setStatus("connecting");
    setAttempt((n) => n + 1);
  };

  return { status, error, restart };
}
