import type { Catalog } from "../catalog";

// Keys of this area start with "deal.".
export const en = {
  "deal.title": "deal",
} as const;

export const ko: Catalog<typeof en> = {
  "deal.title": "deal",
};
