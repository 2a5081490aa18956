import type { Catalog } from "../catalog";

// Keys of this area start with "seller.".
export const en = {
  "seller.title": "seller",
} as const;

export const ko: Catalog<typeof en> = {
  "seller.title": "seller",
};
