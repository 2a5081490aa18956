// Enum labels for values the API may extend (offices, facet values): the translation when the catalogue
// has one, else the value itself (no "missing translation" noise for an office code we never listed).
import { useCallback } from "react";
import { hasKey, useI18n } from "../../i18n";
import type { FilterKey } from "./searchState";

export function useEnumLabel(): (group: string, value: string) => string {
  const { te } = useI18n();
  return useCallback((group, value) => (hasKey(`enum.${group}.${value}`) ? te(group, value) : value), [te]);
}

/** The label of one filter value, as facets and saved searches show it. */
export function useFilterValueLabel(): (key: FilterKey, value: string | number) => string {
  const label = useEnumLabel();
  const { t } = useI18n();
  return useCallback(
    (key, value) => {
      const text = String(value);
      switch (key) {
        case "sector":
          return label("Sector", text);
        case "ownerKind":
          return label("OrgKind", text.toUpperCase());
        case "legalStatus":
          return label("legalStatus", text);
        case "transactionType":
          return label("TransactionType", text);
        case "priceBand":
          return label("PriceBand", text);
        case "remainingLife":
          return label("RemainingLifeBand", text);
        case "office":
          return label("office", text);
        case "ipc":
          return text.length === 1 ? label("ipcSection", text) : text;
        case "trl":
          return t("public.listing.trlShort", { trl: value });
      }
    },
    [label, t],
  );
}
