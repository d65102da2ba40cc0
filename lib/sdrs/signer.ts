/**
 * Huawei Cloud API gateway AK/SK signing, "SDK-HMAC-SHA256" (reference facts §7.2).
 *
 * Hand-written because no npm package implements it: Huawei's Node SDK (`@huaweicloud/huaweicloud-sdk-core`)
 * bundles it with an axios client and its whole request pipeline. Pure: the caller supplies the date.
 * The simulator verifies with the same functions, so client and gateway cannot drift apart silently;
 * the published Go SDK vectors pin both to the real algorithm.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const SIGNING_ALGORITHM = "SDK-HMAC-SHA256";
export const EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface SignableRequest {
  method: string;
  url: string | URL;
  /** Header names in any case; the ones to sign are chosen by `signedHeaders`. */
  headers: Record<string, string>;
  /** The exact bytes that are (or were) sent. */
  body?: string | Uint8Array | undefined;
}

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** Unreserved characters stay, everything else is %XX of its UTF-8 bytes (upper-case hex). */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    return component;
  }
}

export function canonicalUri(pathname: string): string {
  const encoded = pathname
    .split("/")
    .map((segment) => percentEncode(decode(segment)))
    .join("/");
  return encoded.endsWith("/") ? encoded : `${encoded}/`;
}

export function canonicalQueryString(search: string): string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (query === "") return "";
  const pairs = query
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? "" : pair.slice(eq + 1);
      return [
        percentEncode(decode(name.replace(/\+/g, " "))),
        percentEncode(decode(value.replace(/\+/g, " "))),
      ] as const;
    });
  pairs.sort(([nameA, valueA], [nameB, valueB]) => (nameA === nameB ? compare(valueA, valueB) : compare(nameA, nameB)));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sha256Hex(body: string | Uint8Array | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_BODY_SHA256;
  return createHash("sha256").update(body).digest("hex");
}

function lowerCaseHeaders(headers: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value.trim()]));
}

export function canonicalRequest(request: SignableRequest, signedHeaders: readonly string[]): string {
  const url = typeof request.url === "string" ? new URL(request.url) : request.url;
  const headers = lowerCaseHeaders(request.headers);
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headers.get(name) ?? ""}\n`).join("");
  const bodyHash = headers.get("x-sdk-content-sha256") ?? sha256Hex(request.body);
  return [
    request.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQueryString(url.search),
    canonicalHeaders,
    signedHeaders.join(";"),
    bodyHash,
  ].join("\n");
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${createHash("sha256").update(canonical).digest("hex")}`;
}

export function signature(secretKey: string, toSign: string): string {
  return createHmac("sha256", secretKey).update(toSign).digest("hex");
}

/** `20060102T150405Z` */
export function formatSdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export function parseSdkDate(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Signs a request: returns the headers to add (`X-Sdk-Date` when missing, `Authorization`).
 * Signs every header given except Content-Type-less defaults: the caller decides the set by what it passes.
 */
export function signRequest(
  request: SignableRequest,
  credentials: Credentials,
  now: Date,
): { "X-Sdk-Date": string; Authorization: string } {
  const headers = { ...request.headers };
  const existingDate = Object.entries(headers).find(([name]) => name.toLowerCase() === "x-sdk-date")?.[1];
  const sdkDate = existingDate ?? formatSdkDate(now);
  if (!existingDate) headers["X-Sdk-Date"] = sdkDate;
  const signedHeaders = [...lowerCaseHeaders(headers).keys()].sort();
  const canonical = canonicalRequest({ ...request, headers }, signedHeaders);
  const sig = signature(credentials.secretKey, stringToSign(sdkDate, canonical));
  return {
    "X-Sdk-Date": sdkDate,
    Authorization: `${SIGNING_ALGORITHM} Access=${credentials.accessKey}, SignedHeaders=${signedHeaders.join(";")}, Signature=${sig}`,
  };
}

export interface ParsedAuthorization {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const match = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/.exec(
    header.trim(),
  );
  if (!match) return undefined;
  const [, accessKey = "", signedHeaders = "", sig = ""] = match;
  return { accessKey, signedHeaders: signedHeaders.split(";"), signature: sig };
}

/** Recomputes the signature the way the gateway does; constant-time comparison. */
export function verifySignature(
  request: SignableRequest,
  authorization: ParsedAuthorization,
  secretKey: string,
): boolean {
  const headers = lowerCaseHeaders(request.headers);
  const sdkDate = headers.get("x-sdk-date");
  if (sdkDate === undefined) return false;
  const canonical = canonicalRequest(request, authorization.signedHeaders);
  const expected = Buffer.from(signature(secretKey, stringToSign(sdkDate, canonical)), "hex");
  const given = Buffer.from(authorization.signature, "hex");
  return expected.length === given.length && timingSafeEqual(expected, given);
}
