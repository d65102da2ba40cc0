/**
 * Argument parsers for commander: each refuses a bad value with the rule, and commander names the flag
 * ("option '--port <port>' argument 'x' is invalid. must be a whole number from 0 to 65535"), exit 2.
 */
import { InvalidArgumentError } from "commander";

export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return number;
  };
}

export const portNumber = wholeNumber(0, 65_535);

/** "a,b , c" → ["a", "b", "c"]; duplicates dropped, order kept. */
export function idList(value: string): string[] {
  const ids = [
    ...new Set(
      value
        .split(",")
        .map((id) => id.trim())
        .filter((id) => id !== ""),
    ),
  ];
  if (ids.length === 0) throw new InvalidArgumentError("must be a comma-separated list of server ids");
  return ids;
}

/** Host names and IP literals; no scheme, port or path. */
export function hostName(value: string): string {
  const host = value.trim();
  if (!/^[A-Za-z0-9.:_-]+$/.test(host) || host === "") {
    throw new InvalidArgumentError("must be a host name or IP address such as 127.0.0.1 (no scheme, port or path)");
  }
  return host;
}
