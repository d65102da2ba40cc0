import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * An answer the simulator gives instead of a success: the HTTP status and the exact body the real
 * service (SDRS, ECS, AS, IAM or the API gateway) would send. Handlers return these as values.
 */
export interface ApiError {
  readonly kind: "api-error";
  readonly status: number;
  /** The stable code a program switches on (`SDRS.1305`, `APIGW.0301`, `Ecs.0114`). */
  readonly code: string;
  readonly body: Record<string, unknown>;
}

export type ServiceEnvelope = "error" | "badrequest" | "itemNotFound";

/** SDRS / ECS / AS: `{"error": {"code", "message"}}` (or keyed `badrequest` / `itemNotFound`). */
export function serviceError(
  status: number,
  code: string,
  message: string,
  envelope: ServiceEnvelope = "error",
): ApiError {
  return { kind: "api-error", status, code, body: { [envelope]: { code, message } } };
}

/**
 * Huawei's SDRS error table (sdrs-error-codes.tsv beside this file, a copy of the public table):
 * code → the HTTP status and the message that describes it.
 */
export const SDRS_ERROR_TABLE: ReadonlyMap<string, { status: number; message: string }> = new Map(
  readFileSync(fileURLToPath(new URL("./sdrs-error-codes.tsv", import.meta.url)), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const [status = "", code = "", message = ""] = line.split("\t");
      return [code, { status: Number(status), message }] as const;
    }),
);

/** An SDRS error with the table's HTTP status for its code (400 for a code the table does not list). */
export function sdrsError(code: string, message: string, envelope: ServiceEnvelope = "error"): ApiError {
  return serviceError(SDRS_ERROR_TABLE.get(code)?.status ?? 400, code, message, envelope);
}

/** API gateway / IAM: flat `{"error_code", "error_msg", "request_id"}`; request_id is filled in on send. */
export function gatewayError(status: number, code: string, message: string): ApiError {
  return { kind: "api-error", status, code, body: { error_code: code, error_msg: message } };
}

export function isApiError(value: unknown): value is ApiError {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "api-error";
}
