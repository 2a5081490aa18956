import type { Catalog } from "../catalog";

// Keys of this area start with "public.".
export const en = {
  "public.title": "public",
} as const;

export const ko: Catalog<typeof en> = {
  "public.title": "public",
};
