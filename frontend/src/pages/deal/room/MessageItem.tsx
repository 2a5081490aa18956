// One entry of the room's log as the viewer sees it, with the broker's relay and the operator's hide tools.
import { memo, useId, useState, type FormEvent } from "react";
import { useMutation } from "urql";
import { useErrorText, type ApiError } from "../../../components/FormErrors";
import { DealRoomForwardDocument, DealRoomHideDocument } from "../../../gql/graphql";
import { hasKey, useI18n } from "../../../i18n";
import { formatDateTime } from "../../../i18n/format";
import { AttachmentLink } from "./AttachmentLink";
import { canHide, forwardTarget, parseData, type PendingMessage, type RoomMessage, type Thread } from "./roomState";
import { systemText } from "./systemText";

interface Props {
  message: RoomMessage;
  /** Threads this message was already forwarded to. */
  forwardedTo: Thread[];
  relay: boolean;
  moderate: boolean;
  onStored: (message: RoomMessage) => void;
}

function Time({ iso }: { iso: string | null | undefined }) {
  const { locale } = useI18n();
  if (!iso) return null;
  return (
    <time className="room-time" dateTime={iso}>
      {formatDateTime(iso, locale)}
    </time>
  );
}

function ForwardTool({ message, target, forwardedTo, onStored }: { message: RoomMessage; target: Thread; forwardedTo: Thread[]; onStored: Props["onStored"] }) {
  const { t, te } = useI18n();
  const errorText = useErrorText();
  const id = useId();
  const [noteOpen, setNoteOpen] = useState(false);
  const [note, setNote] = useState("");
  const [errors, setErrors] = useState<readonly ApiError[]>([]);
  const [done, setDone] = useState(false);
  const [{ fetching }, forward] = useMutation(DealRoomForwardDocument);
  const thread = te("DealRoomThread", target);

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    setErrors([]);
    setDone(false);
    const result = await forward({ messageId: message.id, toThread: target, note: noteOpen && note.trim() ? note.trim() : null });
    const payload = result.data?.forwardMessage;
    if (payload?.message) {
      onStored(payload.message);
      setDone(true);
      setNote("");
      setNoteOpen(false);
    } else {
      setErrors(payload?.errors?.length ? payload.errors : [{ code: "NETWORK", message: t("room.networkError") }]);
    }
  }

  return (
    <form className="room-tool" onSubmit={submit}>
      {noteOpen && (
        <div className="room-note">
          <label htmlFor={`${id}-note`}>{t("room.note")}</label>
          <textarea id={`${id}-note`} rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
        </div>
      )}
      <div className="room-tool-buttons">
        <button type="submit" disabled={fetching} aria-describedby={`${id}-to`}>
          {t("room.forward")}
        </button>
        <span id={`${id}-to`} className="visually-hidden">
          {t("room.forwardTo", { thread })}
        </span>
        <button type="button" className="link-button" aria-expanded={noteOpen} onClick={() => setNoteOpen((v) => !v)}>
          {noteOpen ? t("room.removeNote") : t("room.addNote")}
        </button>
      </div>
      <p role="status" className="room-tool-status">
        {done || forwardedTo.includes(target) ? t("room.forwarded", { thread }) : ""}
      </p>
      {errors.length > 0 && (
        <p role="alert" className="field-error">
          {errors.map(errorText).join(" ")}
        </p>
      )}
    </form>
  );
}

function HideTool({ message, onStored }: { message: RoomMessage; onStored: Props["onStored"] }) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<readonly ApiError[]>([]);
  const [{ fetching }, hide] = useMutation(DealRoomHideDocument);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setErrors([]);
    if (!reason.trim()) {
      setErrors([{ field: "reason", code: "REASON_NEEDED", message: t("room.hideReasonNeeded") }]);
      return;
    }
    const result = await hide({ messageId: message.id, reason: reason.trim() });
    const payload = result.data?.hideMessage;
    if (payload?.message) {
      onStored(payload.message);
      setOpen(false);
      setReason("");
    } else {
      setErrors(payload?.errors?.length ? payload.errors : [{ code: "NETWORK", message: t("room.networkError") }]);
    }
  }

  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        {t("room.hide")}
      </button>
    );
  }
  return (
    <form className="room-tool room-hide" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-reason`}>{t("room.hideReason")}</label>
      <input
        id={`${id}-reason`}
        value={reason}
        maxLength={300}
        required
        onChange={(e) => setReason(e.target.value)}
        aria-describedby={errors.length ? `${id}-error` : undefined}
        aria-invalid={errors.length ? true : undefined}
      />
      {errors.length > 0 && (
        <p id={`${id}-error`} role="alert" className="field-error">
          {errors.map(errorText).join(" ")}
        </p>
      )}
      <div className="room-tool-buttons">
        <button type="submit" disabled={fetching}>
          {t("room.hideConfirm")}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {t("room.cancel")}
        </button>
      </div>
    </form>
  );
}

function Masked({ kinds }: { kinds: readonly string[] }) {
  const { t, te } = useI18n();
  if (!kinds.length) return null;
  const names = kinds.map((k) => (hasKey(`enum.maskKind.${k}`) ? te("maskKind", k) : k));
  return <p className="room-masked muted">{t("room.masked", { kinds: names.join(", ") })}</p>;
}

/** Memoised: a new event re-renders only the messages it changed (the reducer keeps the others' objects). */
export const MessageItem = memo(function MessageItem({ message, forwardedTo, relay, moderate, onStored }: Props) {
  const { t, te, locale } = useI18n();

  if (message.kind === "SYSTEM" || message.kind === "MODERATION") {
    return (
      <li
        className={`room-msg room-system${message.kind === "MODERATION" ? " room-moderation" : ""}`}
        data-testid="room-message"
        data-sequence={message.sequence}
        data-kind={message.kind}
      >
        <span className="badge room-role">{te("RoomRole", message.authorRole)}</span>{" "}
        <span className="room-system-text">{systemText(message, locale)}</span> <Time iso={message.createdAt} />
      </li>
    );
  }

  const data = parseData(message.data);
  const fromRole = typeof data.from_role === "string" ? data.from_role.toUpperCase() : null;
  const note = typeof data.note === "string" ? data.note : "";
  const target = relay ? forwardTarget(message) : null;
  const classes = ["room-msg", `room-kind-${message.kind.toLowerCase()}`, `room-by-${message.authorRole.toLowerCase()}`];
  if (message.isYou) classes.push("room-mine");
  if (message.hidden) classes.push("room-is-hidden");

  return (
    <li className={classes.join(" ")} data-testid="room-message" data-sequence={message.sequence} data-kind={message.kind}>
      <div className="room-msg-head">
        <span className="room-author">
          {message.authorName}
          {message.isYou && <span className="muted"> {t("room.you")}</span>}
        </span>{" "}
        <span className={`badge room-role room-role-${message.authorRole.toLowerCase()}`}>{te("RoomRole", message.authorRole)}</span>{" "}
        <Time iso={message.createdAt} />
      </div>
      {message.kind === "FORWARD" && (
        <p className="room-forwarded">
          {t("room.forwardedBy", { name: message.authorName })}
          {fromRole && hasKey(`enum.RoomRole.${fromRole}`) && <> · {t("room.forwardedFrom", { role: te("RoomRole", fromRole) })}</>}
        </p>
      )}
      {message.kind === "FORWARD" && note && <p className="room-forward-note">{t("room.forwardNote", { note })}</p>}
      {message.body === null ? (
        <p className="room-body room-hidden-text">{t("room.hiddenMessage")}</p>
      ) : (
        message.body !== "" && <p className="room-body">{message.body}</p>
      )}
      {message.attachment && <AttachmentLink attachment={message.attachment} />}
      <Masked kinds={message.masked} />
      {message.hidden && message.body !== null && (
        <p className="room-hidden-note">
          <span className="badge">{t("room.hiddenBadge")}</span>{" "}
          {message.hiddenReason ? t("room.hiddenReason", { reason: message.hiddenReason }) : t("room.hiddenNoReason")}
        </p>
      )}
      {(target || (moderate && canHide(message))) && (
        <div className="room-tools">
          {target && <ForwardTool message={message} target={target} forwardedTo={forwardedTo} onStored={onStored} />}
          {moderate && canHide(message) && <HideTool message={message} onStored={onStored} />}
        </div>
      )}
    </li>
  );
});

export function PendingItem({
  pending,
  author,
  onRetry,
  onDiscard,
}: {
  pending: PendingMessage;
  author: string;
  onRetry: () => void;
  onDiscard: () => void;
}) {
  const { t } = useI18n();
  const errorText = useErrorText();
  const failed = pending.status === "failed";
  const error = pending.error
    ? pending.error.code === "NETWORK"
      ? t("room.networkError")
      : errorText(pending.error)
    : "";
  return (
    <li
      className={`room-msg room-mine room-pending${failed ? " room-failed" : ""}`}
      data-testid="room-message-pending"
      data-status={pending.status}
      aria-busy={!failed}
    >
      <div className="room-msg-head">
        <span className="room-author">
          {author}
          <span className="muted"> {t("room.you")}</span>
        </span>{" "}
        <span className="room-time">{failed ? "" : t("room.sending")}</span>
      </div>
      <p className="room-body">{pending.body.trim()}</p>
      {failed && (
        <div className="room-failed-note" role="alert">
          <p className="field-error" data-code={pending.error?.code}>
            {t("room.notSent", { error })}
          </p>
          <div className="room-tool-buttons">
            <button type="button" onClick={onRetry}>
              {t("room.retry")}
            </button>
            <button type="button" onClick={onDiscard}>
              {t("room.discard")}
            </button>
          </div>
        </div>
      )}
    </li>
  );
}
