/**
 * A secret value (SK, security token, password, IAM token, webhook secret) that prints redacted in
 * logs, JSON, String() and util.inspect; `reveal()` is called only where the value is used.
 */
import { inspect } from "node:util";

export class Secret {
  readonly #value: string;
  readonly #label: string;

  /** `label` is what it prints as, e.g. "whsec_[REDACTED]" for a webhook secret. */
  constructor(value: string, label = "[redacted]") {
    this.#value = value;
    this.#label = label;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return this.#label;
  }

  toJSON(): string {
    return this.#label;
  }

  [inspect.custom](): string {
    return this.#label;
  }
}
