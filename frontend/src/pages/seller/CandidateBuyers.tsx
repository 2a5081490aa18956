// Placeholder: replaced by the page's implementation.
import { useI18n } from "../../i18n";

export default function Page() {
  const { t } = useI18n();
  return <h1>{t("seller.title")}</h1>;
}
