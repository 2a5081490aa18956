// A small typed i18n: one English and one Korean catalogue per area (src/i18n/messages/*.ts). Keys are
// checked by the compiler; keys built at runtime (enum values) go through `te`, which reports a missing
// one on the console and shows it as ⟦key⟧, so the browser tests can catch it.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { type Locale } from "./format";
import * as common from "./messages/common";
import * as enums from "./messages/enums";
import * as publicPages from "./messages/public";
import * as seller from "./messages/seller";
import * as buyer from "./messages/buyer";
import * as deal from "./messages/deal";
import * as room from "./messages/room";
import * as broker from "./messages/broker";

const catalogs = {
  en: { ...common.en, ...enums.en, ...publicPages.en, ...seller.en, ...buyer.en, ...deal.en, ...room.en, ...broker.en },
  ko: { ...common.ko, ...enums.ko, ...publicPages.ko, ...seller.ko, ...buyer.ko, ...deal.ko, ...room.ko, ...broker.ko },
};

export type MessageKey = keyof typeof catalogs.en;
export type Vars = Record<string, string | number>;

const STORAGE_KEY = "ipmarket.locale";
export const MISSING_MARK = "⟦";

// "{count, plural, one {# result} other {# results}}": the form Intl.PluralRules picks for the locale, with
// # as the number (Korean needs no plural forms; English does).
const PLURAL = /\{(\w+), plural,((?:\s*\w+ \{[^{}]*\})+)\s*\}/g;
const PLURAL_FORM = /(\w+) \{([^{}]*)\}/g;

export function interpolate(text: string, vars?: Vars, locale: Locale = "en"): string {
  if (!vars) return text;
  const plural = text.replace(PLURAL, (whole, name: string, forms: string) => {
    if (!(name in vars)) return whole;
    const value = Number(vars[name]);
    const chosen = new Intl.PluralRules(locale).select(value);
    const options = new Map([...forms.matchAll(PLURAL_FORM)].map((m) => [m[1], m[2]]));
    const form = options.get(chosen) ?? options.get("other") ?? whole;
    return form.replace(/#/g, String(vars[name]));
  });
  return plural.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function translate(locale: Locale, key: string, vars?: Vars): string {
  const catalog = catalogs[locale] as Record<string, string>;
  const text = catalog[key];
  if (text === undefined) {
    console.error(`missing translation: ${locale} ${key}`);
    return `${MISSING_MARK}${key}⟧`;
  }
  return interpolate(text, vars, locale);
}

export function hasKey(key: string): boolean {
  return key in catalogs.en;
}

function initialLocale(): Locale {
  const stored = typeof localStorage !== "undefined" ? localStorage.getItem(STORAGE_KEY) : null;
  if (stored === "ko" || stored === "en") return stored;
  return typeof navigator !== "undefined" && navigator.language.toLowerCase().startsWith("ko") ? "ko" : "en";
}

interface I18n {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  /** A fixed key, checked by the compiler. */
  t: (key: MessageKey, vars?: Vars) => string;
  /** A key made at runtime, e.g. te("legalStatus", "registered") -> "enum.legalStatus.registered". */
  te: (group: string, value: string) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children, locale: fixed }: { children: ReactNode; locale?: Locale }) {
  const [locale, setLocaleState] = useState<Locale>(fixed ?? initialLocale);
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const setLocale = useCallback((next: Locale) => {
    localStorage.setItem(STORAGE_KEY, next);
    setLocaleState(next);
  }, []);
  const value = useMemo<I18n>(
    () => ({
      locale,
      setLocale,
      t: (key, vars) => translate(locale, key, vars),
      te: (group, value) => translate(locale, `enum.${group}.${value}`),
    }),
    [locale, setLocale],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
