import type { Catalog } from "../catalog";

// Keys of this area start with "buyer.".
export const en = {
  "buyer.title": "buyer",
} as const;

export const ko: Catalog<typeof en> = {
  "buyer.title": "buyer",
};
