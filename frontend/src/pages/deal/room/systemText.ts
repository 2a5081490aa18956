// System and moderation entries in the reader's language: the API sends an event code with its facts
// (`data`) and an English body; the body is the fallback for an event this app does not know.
import { hasKey, translate, type Vars } from "../../../i18n";
import { formatMoney, type Locale } from "../../../i18n/format";
import { parseData, type RoomMessage } from "./roomState";

function text(value: unknown): string | null {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

export function eventVars(data: Record<string, unknown>, locale: Locale): Vars {
  const vars: Vars = {};
  for (const name of ["version", "counters", "sequence", "title", "reason"]) {
    const value = text(data[name]);
    if (value !== null) vars[name] = value;
  }
  const side = text(data.side);
  if (side && hasKey(`enum.Side.${side.toUpperCase()}`)) vars.side = translate(locale, `enum.Side.${side.toUpperCase()}`);
  const amount = text(data.amount);
  const currency = text(data.currency);
  if (amount !== null && currency) vars.amount = formatMoney(amount, currency, locale);
  return vars;
}

export function systemText(message: RoomMessage, locale: Locale): string {
  const event = message.event ?? (message.kind === "MODERATION" ? "message_hidden" : null);
  const key = event ? `enum.roomEvent.${event}` : null;
  if (key && hasKey(key)) {
    const out = translate(locale, key, eventVars(parseData(message.data), locale));
    // A fact the text needs is missing: the API's own sentence says it better than a "{side}".
    if (!/\{\w+\}/.test(out)) return out;
  }
  return message.body ?? (event ? event.replace(/_/g, " ") : "");
}
