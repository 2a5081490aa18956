// Writing to the room: Enter sends, Shift+Enter starts a new line (and Enter that ends an IME composition,
// as when typing Korean, does neither).
import { useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { useErrorText } from "../../../components/FormErrors";
import { useI18n } from "../../../i18n";
import { formatNumber } from "../../../i18n/format";
import { MAX_MESSAGE_CHARS, type Thread } from "./roomState";

interface Props {
  thread: Thread;
  disabled: boolean;
  onSend: (body: string) => void;
  onTyping: () => void;
}

export function Composer({ thread, disabled, onSend, onTyping }: Props) {
  const { t, te, locale } = useI18n();
  const errorText = useErrorText();
  const id = useId();
  const [text, setText] = useState("");
  const [tooLong, setTooLong] = useState(false);
  const length = text.trim().length;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const body = text.trim();
    if (!body || disabled) return;
    if (body.length > MAX_MESSAGE_CHARS) {
      setTooLong(true);
      return;
    }
    setTooLong(false);
    onSend(body);
    setText("");
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  }

  const describedBy = [`${id}-hint`, length > MAX_MESSAGE_CHARS * 0.9 ? `${id}-count` : null, tooLong ? `${id}-error` : null]
    .filter(Boolean)
    .join(" ");

  return (
    <form className="room-composer" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-body`}>{t("room.message")}</label>
      <textarea
        id={`${id}-body`}
        rows={3}
        value={text}
        disabled={disabled}
        aria-describedby={describedBy}
        aria-invalid={tooLong || undefined}
        onChange={(e) => {
          setText(e.target.value);
          if (tooLong && e.target.value.trim().length <= MAX_MESSAGE_CHARS) setTooLong(false);
          if (e.target.value.trim()) onTyping();
        }}
        onKeyDown={keyDown}
      />
      <div className="room-composer-foot">
        <p id={`${id}-hint`} className="muted room-hint">
          {t("room.composerHint", { thread: te("DealRoomThread", thread) })}
        </p>
        {length > MAX_MESSAGE_CHARS * 0.9 && (
          <p id={`${id}-count`} className={length > MAX_MESSAGE_CHARS ? "field-error room-count" : "muted room-count"}>
            {t("room.charCount", { count: formatNumber(length, locale), max: formatNumber(MAX_MESSAGE_CHARS, locale) })}
          </p>
        )}
        <button type="submit" className="primary" disabled={disabled || length === 0}>
          {t("room.send")}
        </button>
      </div>
      {tooLong && (
        <p id={`${id}-error`} role="alert" className="field-error" data-code="MESSAGE_TOO_LONG">
          {errorText({ code: "MESSAGE_TOO_LONG", message: "" })}
        </p>
      )}
    </form>
  );
}
