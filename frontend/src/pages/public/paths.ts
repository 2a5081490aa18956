// Links to objects by global id. Relay ids are base64: "=" is fine in a path segment and kept as is
// (/deals/RGVhbDoxNQ==); "/" and "+" are escaped.
export function idSegment(id: string): string {
  return encodeURIComponent(id).replace(/%3D/g, "=");
}

export const listingPath = (id: string) => `/listings/${idSegment(id)}`;
export const dealPath = (id: string) => `/deals/${idSegment(id)}`;
