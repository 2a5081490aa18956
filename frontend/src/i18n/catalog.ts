/** A translation with exactly the English catalogue's keys: a missing Korean key fails `tsc`. */
export type Catalog<T> = { [K in keyof T]: string };
