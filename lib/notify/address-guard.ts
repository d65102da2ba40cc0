/**
 * Webhook URLs may not reach the deployment's own network (server-side request forgery): in cloud mode a
 * webhook host that is, or resolves to, a loopback, link-local (instance metadata 169.254.169.254), private,
 * CGNAT, unique-local or other non-public address is refused when the configuration loads, and the address
 * is checked again when each connection is made, so a name that resolved to a public address at load time
 * and to an internal one later (DNS rebinding) is still refused. Hosts and networks a user really runs are
 * allowed explicitly (`allowedPrivateHosts`). IP range classification is ipaddr.js's (the IANA special-
 * purpose registries), not a hand-written table.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import ipaddr from "ipaddr.js";

/** Names that reach the host itself or a cloud metadata service without looking like an address. */
const INTERNAL_NAMES = ["localhost", "metadata.google.internal", "metadata.goog", "instance-data"];
const INTERNAL_SUFFIXES = [".localhost", ".internal"];

export interface AddressRules {
  /**
   * Hostnames (exact, case-insensitive) and networks (CIDR, e.g. `10.20.0.0/16`, or one address) a webhook
   * may reach although they are not public: endpoints a user runs inside their own network.
   */
  allowedPrivateHosts?: readonly string[];
}

/** Whether an allow-list entry is usable: a hostname, an address or a CIDR range. */
export function allowListEntryProblem(entry: string): string | undefined {
  if (ipaddr.isValidCIDR(entry) || ipaddr.isValid(entry)) return undefined;
  if (/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(entry))
    return undefined;
  return `"${entry}" is neither a hostname, an IP address nor a CIDR range`;
}

function bareHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

function allowedAddress(address: ipaddr.IPv4 | ipaddr.IPv6, rules: AddressRules): boolean {
  return (rules.allowedPrivateHosts ?? []).some((entry) => {
    if (!ipaddr.isValidCIDR(entry) && !ipaddr.isValid(entry)) return false;
    const range = ipaddr.isValidCIDR(entry)
      ? ipaddr.parseCIDR(entry)
      : ([ipaddr.parse(entry), ipaddr.parse(entry).kind() === "ipv4" ? 32 : 128] as const);
    return address.kind() === range[0].kind() && address.match(range[0], range[1]);
  });
}

/** Why `address` (an IP literal) may not be reached, or undefined when it is a public unicast address or allowed. */
export function blockedAddressReason(text: string, rules: AddressRules = {}): string | undefined {
  if (!ipaddr.isValid(text)) return `"${text}" is not an IP address`;
  let address = ipaddr.parse(text);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress())
    address = (address as ipaddr.IPv6).toIPv4Address();
  const range = address.range();
  if (range === "unicast" || allowedAddress(address, rules)) return undefined;
  return `${address.toString()} is a ${range} address`;
}

/** Why the URL's host may not be reached before any lookup (an internal name or a non-public literal), or undefined. */
export function blockedHostReason(hostname: string, rules: AddressRules = {}): string | undefined {
  const host = bareHost(hostname);
  if ((rules.allowedPrivateHosts ?? []).some((entry) => entry.toLowerCase() === host)) return undefined;
  if (ipaddr.isValid(host)) return blockedAddressReason(host, rules);
  if (INTERNAL_NAMES.includes(host) || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix)))
    return `${host} is an internal name`;
  return undefined;
}

/** Every address a name resolves to (dns.lookup, as the connection would). Injected in tests. */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((entry) => entry.address)),
    );
  });

/** Why the host may not be reached: its name, or any address it resolves to. Undefined when every address is public or allowed. */
export async function resolvedHostReason(
  hostname: string,
  rules: AddressRules,
  resolver: Resolver = systemResolver,
): Promise<string | undefined> {
  const host = bareHost(hostname);
  const early = blockedHostReason(host, rules);
  if (early !== undefined || ipaddr.isValid(host)) return early;
  if ((rules.allowedPrivateHosts ?? []).some((entry) => entry.toLowerCase() === host)) return undefined;
  let addresses: string[];
  try {
    addresses = await resolver(host);
  } catch (error) {
    return `${host} does not resolve (${error instanceof Error && "code" in error ? String(error.code) : "lookup failed"})`;
  }
  for (const address of addresses) {
    const reason = blockedAddressReason(address, rules);
    if (reason !== undefined) return `${host} resolves to ${reason.replace(/^\S+ is/, `${address}, which is`)}`;
  }
  return undefined;
}

export class BlockedAddressError extends Error {
  readonly code = "WEBHOOK_ADDRESS_BLOCKED";
  constructor(message: string) {
    super(message);
    this.name = "BlockedAddressError";
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/tls connections that resolves with `resolver` and refuses, before any connection is
 * made, when any address of the name is not public (and not allowed): the connection-time check.
 */
export function guardedLookup(rules: AddressRules, resolver: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean } | number | undefined, callback: LookupCallback): void => {
    const host = bareHost(hostname);
    const allowedByName = (rules.allowedPrivateHosts ?? []).some((entry) => entry.toLowerCase() === host);
    const nameReason = allowedByName ? undefined : blockedHostReason(host, rules);
    if (nameReason !== undefined) {
      callback(new BlockedAddressError(`webhook host refused: ${nameReason}`), []);
      return;
    }
    resolver(host).then(
      (addresses) => {
        const blocked = allowedByName
          ? undefined
          : addresses.map((address) => blockedAddressReason(address, rules)).find((reason) => reason !== undefined);
        if (blocked !== undefined) {
          callback(
            new BlockedAddressError(`webhook host refused at connection time: ${host} resolves to ${blocked}`),
            [],
          );
          return;
        }
        const entries = addresses.map((address) => ({
          address,
          family: ipaddr.parse(address).kind() === "ipv6" ? 6 : 4,
        }));
        const first = entries[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" }), []);
          return;
        }
        if (typeof options === "object" && options?.all) callback(null, entries);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}

/**
 * A fetch whose connections go through guardedLookup: what the notifier uses in cloud mode. Written over
 * node:http(s), which take a `lookup`, rather than undici's Agent: bundling undici would add about 550 KB to
 * the notify function for the one option. `agent: false`: every request opens its own connection, so every
 * request's address is checked (a kept-alive socket would skip the lookup). It does what postWebhook asks of fetch: a method, headers, a string
 * body and an abort signal; redirects are never followed; the answer is a standard Response.
 */
export function guardedFetch(rules: AddressRules, resolver: Resolver = systemResolver): typeof fetch {
  const lookup = guardedLookup(rules, resolver);
  return (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    // Loaded on the first delivery, not at import: node:http alone costs a fresh process ~45 ms, paid
    // otherwise by every cold start of the notify function, also one that only publishes to SNS.
    const { request: send } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const request = send(
        url,
        {
          method: init.method ?? "GET",
          headers: Object.fromEntries(new Headers(init.headers).entries()),
          lookup: lookup as never,
          agent: false,
        },
        (answer) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          answer.resume(); // the body is not read: release the connection
          const status = answer.statusCode ?? 0;
          resolve(new Response(null, { status: status >= 200 && status <= 599 ? status : 502, headers }));
        },
      );
      const onAbort = () => request.destroy(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      request.once("error", (error) => {
        signal?.removeEventListener("abort", onAbort);
        // As fetch does: a TypeError whose cause is the network error (postWebhook reads its code).
        reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: error }));
      });
      request.once("close", () => signal?.removeEventListener("abort", onAbort));
      if (typeof init.body === "string") request.write(init.body);
      request.end();
    });
  }) as typeof fetch;
}
