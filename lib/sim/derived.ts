/**
 * Stable values the simulator derives when the estate leaves them out: ids, IPv4 addresses inside a
 * subnet, MAC addresses. A hash of what they belong to, so a run on the same estate answers the same.
 * Picking an address inside a CIDR is a few lines of arithmetic, not worth a dependency.
 */
import { createHash } from "node:crypto";

function digest(parts: readonly string[]): Buffer {
  return createHash("sha256").update(parts.join("\u0000")).digest();
}

/** A UUID-shaped id (8-4-4-4-12 hex) for `parts`. */
export function derivedUuid(...parts: string[]): string {
  const hex = digest(parts).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `length` hex digits for `parts`. */
export function derivedHex(length: number, ...parts: string[]): string {
  return digest(parts).toString("hex").slice(0, length);
}

/** An OpenStack-style MAC (fa:16:3e:…) for `parts`. */
export function derivedMac(...parts: string[]): string {
  const bytes = digest(parts);
  return ["fa", "16", "3e", ...[0, 1, 2].map((index) => (bytes[index] ?? 0).toString(16).padStart(2, "0"))].join(":");
}

function ipToNumber(ip: string): number {
  return ip.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

function parseCidr(cidr: string): { network: number; size: number } {
  const [base = "0.0.0.0", prefix = "32"] = cidr.split("/");
  const size = 2 ** (32 - Number(prefix));
  return { network: Math.floor(ipToNumber(base) / size) * size, size };
}

/**
 * A host address of the subnet for `parts`: never the network address, the gateway (.1, VPC
 * convention) or the broadcast address.
 */
export function derivedIpInCidr(cidr: string, ...parts: string[]): string {
  const { network, size } = parseCidr(cidr);
  const usable = Math.max(1, size - 3);
  return numberToIp(network + 2 + (digest(parts).readUInt32BE(0) % usable));
}

/** The gateway of a VPC subnet: the first host address. */
export function gatewayOf(cidr: string): string {
  return numberToIp(parseCidr(cidr).network + 1);
}
