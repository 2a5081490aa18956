// A file message's document. The attachment names its deposit but carries no link, so the deposit's
// manifest is read for the vault's download address (the vault checks access again on download).
import { useQuery } from "urql";
import { DealRoomAttachmentDocument } from "../../../gql/graphql";
import { useI18n } from "../../../i18n";
import { formatNumber } from "../../../i18n/format";

interface Attachment {
  depositId: string;
  fileId: string;
  name: string;
  size: number;
}

export function AttachmentLink({ attachment }: { attachment: Attachment }) {
  const { t, locale } = useI18n();
  const [{ data, fetching }] = useQuery({
    query: DealRoomAttachmentDocument,
    variables: { depositId: attachment.depositId },
    requestPolicy: "cache-first",
  });
  const files = data?.deposit?.files ?? [];
  const file =
    files.find((f) => f.name === attachment.name && f.size === attachment.size) ??
    files.find((f) => f.name === attachment.name);
  const size = t("room.fileSize", { size: formatNumber(Math.max(1, Math.ceil(attachment.size / 1024)), locale) });
  return (
    <p className="room-file">
      {file ? (
        <a href={file.downloadUrl} download={attachment.name}>
          {attachment.name}
        </a>
      ) : fetching ? (
        <span>{attachment.name}</span>
      ) : (
        <span>{t("room.fileUnavailable", { name: attachment.name })}</span>
      )}{" "}
      <span className="muted">({size})</span>
    </p>
  );
}
