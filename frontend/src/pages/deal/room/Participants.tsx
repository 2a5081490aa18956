// Who takes part: presence (a filled or hollow dot, and the word), typing, and whether each has read the
// latest message they can see.
import { useI18n } from "../../../i18n";
import { canRead, type Participant, type RoomState } from "./roomState";

export function Participants({ state, typingKeys }: { state: RoomState; typingKeys: ReadonlySet<string> }) {
  const { t, te } = useI18n();
  const latestFor = (p: Participant) => {
    for (let i = state.messages.length - 1; i >= 0; i--) {
      const m = state.messages[i];
      if (m.kind !== "MODERATION" && canRead(p.role, m.thread)) return m.sequence;
    }
    return 0;
  };
  return (
    <div className="room-people" data-testid="room-participants">
      <h3 id="room-people-title">{t("room.participants")}</h3>
      <ul aria-labelledby="room-people-title">
        {state.participants.map((p) => {
          const latest = latestFor(p);
          return (
            <li key={p.key} data-online={p.online} className="room-person">
              <span className={`room-dot ${p.online ? "room-dot-on" : "room-dot-off"}`} aria-hidden="true" />
              <span className="room-person-name">
                {p.name}
                {p.isYou && <span className="muted"> {t("room.you")}</span>}
              </span>{" "}
              <span className={`badge room-role room-role-${p.role.toLowerCase()}`}>{te("RoomRole", p.role)}</span>
              <span className="room-person-state">
                <span className={p.online ? "room-online" : "muted"}>{p.online ? t("room.online") : t("room.offline")}</span>
                {typingKeys.has(p.key) && <span className="room-typing-short"> · {t("room.typingShort")}</span>}
                {!p.isYou && latest > 0 && (
                  <span className="muted"> · {p.lastReadSequence >= latest ? t("room.upToDate") : t("room.behind")}</span>
                )}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
