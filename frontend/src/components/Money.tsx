import { formatMoney } from "../i18n/format";
import { useI18n } from "../i18n";

export function Money({ amount, currency }: { amount: string | number | null | undefined; currency: string }) {
  const { locale } = useI18n();
  return <span className="money">{formatMoney(amount, currency, locale)}</span>;
}
