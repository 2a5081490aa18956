// Enum labels for values the API may extend (offices, facet values): the translation when the catalogue
// has one, else the value itself (no "missing translation" noise for an office code we never listed).
import { useCallback } from "react";
import { hasKey, useI18n } from "../../i18n";

export function useEnumLabel(): (group: string, value: string) => string {
  const { te } = useI18n();
  return useCallback((group, value) => (hasKey(`enum.${group}.${value}`) ? te(group, value) : value), [te]);
}
