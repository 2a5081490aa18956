// A milestone's materials: what the seller sealed in the vault (state, certificate, files once released)
// and the seller's "Deposit materials" form, a multipart POST to /escrow/deposits/.
import { useRef, useState, type FormEvent } from "react";
import { FieldError, fieldError, type ApiError } from "../../components/FormErrors";
import { csrfToken } from "../../api/client";
import { useI18n } from "../../i18n";
import { formatDateTime, formatNumber } from "../../i18n/format";
import { numericId, uploadDeposit } from "./dealLogic";
import type { DealData, MilestoneData, Viewer } from "./dealTypes";
import { Errors } from "./DealErrors";

type Material = MilestoneData["escrow"]["materials"][number];

function Size({ bytes }: { bytes: number | string }) {
  const { t, locale } = useI18n();
  const n = Number(bytes);
  if (n < 1024) return <>{t("deal.materials.bytes", { size: formatNumber(n, locale) })}</>;
  return <>{t("deal.materials.kilobytes", { size: formatNumber(Math.ceil(n / 1024), locale) })}</>;
}

export function MaterialsList({ materials, viewer }: { materials: Material[]; viewer: Viewer }) {
  const { t, te, locale } = useI18n();
  if (!materials.length) return <p className="muted">{t("deal.materials.none")}</p>;
  return (
    <ul className="dp-list dp-materials">
      {materials.map((deposit) => {
        const readable = deposit.state === "RELEASED" || viewer.side === "SELLER";
        return (
          <li key={deposit.id} data-testid="deposit" data-state={deposit.state}>
            <p>
              <strong>{deposit.title}</strong>{" "}
              <span className="badge" data-testid="deposit-state">
                {te("DepositState", deposit.state)}
              </span>{" "}
              <span className="muted">
                {formatDateTime(deposit.createdAt, locale)} · <Size bytes={deposit.totalSize} />
              </span>
            </p>
            {deposit.description && <p className="dp-prewrap">{deposit.description}</p>}
            {deposit.releasedAt && <p>{t("deal.materials.releasedAt", { date: formatDateTime(deposit.releasedAt, locale) })}</p>}
            <ul className="dp-files" aria-label={t("deal.materials.fileList", { title: deposit.title })}>
              {deposit.files.map((file) => (
                <li key={file.position}>
                  {readable ? (
                    <a href={file.downloadUrl} download={file.name}>
                      {t("deal.materials.download", { name: file.name })}
                    </a>
                  ) : (
                    <span>
                      {file.name} <span className="muted">({t("deal.materials.sealed")})</span>
                    </span>
                  )}{" "}
                  <span className="muted">
                    <Size bytes={file.size} />
                  </span>
                </li>
              ))}
            </ul>
            <p>
              <a href={deposit.certificateUrl} download>
                {t("deal.materials.certificate")}
              </a>
            </p>
          </li>
        );
      })}
    </ul>
  );
}

const UPLOAD_ERRORS: Record<string, "deal.materials.tooLarge" | "deal.materials.networkError"> = {
  TOO_LARGE: "deal.materials.tooLarge",
  NETWORK: "deal.materials.networkError",
};

export function DepositForm({ deal, milestone, onDeposited }: { deal: DealData; milestone: MilestoneData; onDeposited: () => void }) {
  const { t } = useI18n();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<ApiError[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const base = `dp-dep-${milestone.sequence}`;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problems: ApiError[] = [];
    if (!title.trim()) problems.push({ field: "title", code: "INVALID", message: t("deal.materials.titleNeeded") });
    if (!files.length) problems.push({ field: "files", code: "INVALID", message: t("deal.materials.filesNeeded") });
    const organizationId = numericId(deal.listing.seller.id, "Organization");
    const dealId = numericId(deal.id, "Deal");
    const milestoneId = numericId(milestone.id, "Milestone");
    if (!organizationId || !dealId || !milestoneId) problems.push({ code: "INVALID", message: "Unexpected id." });
    if (problems.length) {
      setErrors(problems);
      return;
    }
    setErrors(null);
    setDone(null);
    setBusy(true);
    const result = await uploadDeposit(
      { organizationId: organizationId!, dealId: dealId!, milestoneId: milestoneId!, title: title.trim(), description, files },
      csrfToken(),
    );
    setBusy(false);
    if (!result.ok) {
      const key = UPLOAD_ERRORS[result.error.code];
      setErrors([key ? { ...result.error, message: t(key) } : result.error]);
      return;
    }
    setDone(title.trim());
    setTitle("");
    setDescription("");
    setFiles([]);
    if (fileRef.current) fileRef.current.value = "";
    onDeposited();
  }

  return (
    <form className="dp-subcard" onSubmit={submit} noValidate aria-labelledby={`${base}-title-h dp-ms-${milestone.sequence}-title`}>
      <h4 id={`${base}-title-h`}>{t("deal.materials.formTitle")}</h4>
      <p className="muted">{t("deal.materials.formHint")}</p>
      <Errors errors={errors} fields={["title", "files"]} />
      <label htmlFor={`${base}-title`}>{t("deal.materials.title")}</label>
      <input
        id={`${base}-title`}
        value={title}
        maxLength={200}
        onChange={(e) => setTitle(e.target.value)}
        aria-describedby={fieldError(errors, "title") ? `${base}-title-error` : undefined}
      />
      <FieldError id={`${base}-title-error`} error={fieldError(errors, "title")} />
      <label htmlFor={`${base}-desc`}>{t("deal.materials.description")}</label>
      <textarea id={`${base}-desc`} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      <label htmlFor={`${base}-files`}>{t("deal.materials.files")}</label>
      <input
        id={`${base}-files`}
        ref={fileRef}
        type="file"
        multiple
        onChange={(e) => setFiles(Array.from(e.target.files ?? []))}
        aria-describedby={fieldError(errors, "files") ? `${base}-files-error` : undefined}
      />
      <FieldError id={`${base}-files-error`} error={fieldError(errors, "files")} />
      <button type="submit" className="primary" disabled={busy}>
        {t("deal.materials.submit")}
      </button>
      <p role="status" aria-live="polite" className="dp-status">
        {busy ? t("deal.materials.uploading") : done ? t("deal.materials.done", { title: done }) : ""}
      </p>
    </form>
  );
}
