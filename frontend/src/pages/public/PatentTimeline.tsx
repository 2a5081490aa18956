// One patent's life: a term bar (decorative; the list says it all) and its dated steps, today included.
import { hasKey, useI18n, type MessageKey } from "../../i18n";
import { formatDate, formatNumber } from "../../i18n/format";
import { buildTimeline, elapsedShare, remainingSpan, type PatentDates, type Span, type TimelineStep } from "./timeline";

const STEP_LABEL: Record<Exclude<TimelineStep["kind"], "event">, MessageKey> = {
  application: "public.timeline.application",
  publication: "public.timeline.publication",
  registration: "public.timeline.registration",
  feeDue: "public.timeline.feeDue",
  expiry: "public.timeline.expiry",
  today: "public.timeline.today",
};

export function useSpanText(): (span: Span | null) => string {
  const { t, locale } = useI18n();
  return (span) => {
    if (!span) return t("public.life.unknown");
    if (!span.years && !span.months && !span.days) return t("public.life.ended");
    const n = (v: number) => formatNumber(v, locale);
    const parts: string[] = [];
    if (span.years) parts.push(t(span.years === 1 ? "public.life.year" : "public.life.years", { n: n(span.years) }));
    if (span.months) parts.push(t(span.months === 1 ? "public.life.month" : "public.life.months", { n: n(span.months) }));
    // Days only matter when less than a year is left.
    if (span.days && !span.years) parts.push(t(span.days === 1 ? "public.life.day" : "public.life.days", { n: n(span.days) }));
    return t("public.life.left", { span: parts.join(" ") });
  };
}

export function PatentTimeline({
  patent,
  today,
  number,
}: {
  patent: PatentDates & { life: PatentDates["life"] & { remainingDays?: number | null } };
  today: string;
  number: string;
}) {
  const { t, te, locale } = useI18n();
  const spanText = useSpanText();
  const steps = buildTimeline(patent, today);
  const remaining = spanText(remainingSpan(patent.life, today));
  const share = elapsedShare(patent.applicationDate, patent.life.expiryDate, today);

  function stepLabel(step: TimelineStep): string {
    if (step.kind === "event") {
      const key = `enum.patentEvent.${step.eventKind}`;
      return hasKey(key) ? te("patentEvent", step.eventKind ?? "") : step.description || step.eventKind || "";
    }
    if (step.kind === "expiry" && step.past) return t(step.computed ? "public.timeline.expiredComputed" : "public.timeline.expired");
    if (step.kind === "expiry" && step.computed) return t("public.timeline.expiryComputed");
    return t(STEP_LABEL[step.kind]);
  }

  return (
    <div className="patent-timeline">
      <p>
        {t("public.life.remainingLabel")} <span className="remaining">{remaining}</span>
      </p>
      {share !== null && (
        <>
          <div className="term-bar" aria-hidden="true">
            <span className="elapsed" style={{ width: `${share * 100}%` }} />
            <span className="now" style={{ left: `calc(${share * 100}% - 1px)` }} />
          </div>
          <p className="term-caption">
            <span>{formatDate(patent.applicationDate, locale)}</span>
            <span>{t("public.life.elapsed", { percent: formatNumber(Math.round(share * 100), locale) })}</span>
            <span>{formatDate(patent.life.expiryDate, locale)}</span>
          </p>
        </>
      )}
      <ol className="timeline" aria-label={t("public.timeline.label", { number })}>
        {steps.map((step, i) => (
          <li key={`${step.kind}-${step.date}-${i}`} className={`step-${step.kind}${step.past ? " past" : ""}`}>
            <span className="when">
              <time dateTime={step.date}>{formatDate(step.date, locale)}</time>
            </span>{" "}
            <span className="step-body">
              <span className="what">{stepLabel(step)}</span>
              {step.kind === "today" ? (
                <span className="step-note">{remaining}</span>
              ) : (
                <span className="tense"> · {t(step.past ? "public.timeline.past" : "public.timeline.future")}</span>
              )}
              {step.kind === "event" && step.description && hasKey(`enum.patentEvent.${step.eventKind}`) && (
                <span className="step-note">{step.description}</span>
              )}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
