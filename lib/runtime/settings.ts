/**
 * Pipeline tuning from the environment (all optional, zod-validated, errors name the variable). The
 * defaults suit real SDRS jobs (minutes); tests and demos shorten them.
 */

import { DEFAULT_PIPELINE_SETTINGS, type PipelineSettings } from "../pipeline/deps.ts";
import * as z from "../zod.ts";

const seconds = z.coerce.number().check(z.int(), z.positive());

const settingsEnv = z.object({
  SDRS_JOB_TIMEOUT_SECONDS: z.optional(seconds),
  SDRS_JOB_FIRST_CHECK_SECONDS: z.optional(seconds.check(z.lte(900))),
  SDRS_JOB_RETRY_BASE_SECONDS: z.optional(seconds.check(z.lte(900))),
  SDRS_JOB_RETRY_MAX_SECONDS: z.optional(seconds.check(z.lte(900))),
  SDRS_MAX_DEFERRALS: z.optional(z.coerce.number().check(z.int(), z.nonnegative())),
  SDRS_MAX_ATTEMPTS: z.optional(seconds),
  SDRS_AMBIGUOUS_CHECK_SECONDS: z.optional(seconds.check(z.lte(900))),
});

export class SettingsError extends Error {
  readonly code = "INVALID_SETTINGS";
  override name = "SettingsError";
}

export function pipelineSettingsFromEnv(env: Record<string, string | undefined>): PipelineSettings {
  const parsed = settingsEnv.safeParse(env);
  if (!parsed.success) {
    throw new SettingsError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
  }
  const values = parsed.data;
  const base = DEFAULT_PIPELINE_SETTINGS;
  const first = values.SDRS_JOB_FIRST_CHECK_SECONDS;
  return {
    ...base,
    schedule: {
      ...base.schedule,
      ...(first ? { defaultFirstCheckSeconds: { single: first, batch: first, group: first, enable: first } } : {}),
      ...(values.SDRS_JOB_RETRY_BASE_SECONDS ? { retryBaseSeconds: values.SDRS_JOB_RETRY_BASE_SECONDS } : {}),
      ...(values.SDRS_JOB_RETRY_MAX_SECONDS ? { retryMaxSeconds: values.SDRS_JOB_RETRY_MAX_SECONDS } : {}),
      ...(values.SDRS_JOB_TIMEOUT_SECONDS ? { jobTimeoutSeconds: values.SDRS_JOB_TIMEOUT_SECONDS } : {}),
    },
    ...(values.SDRS_MAX_DEFERRALS !== undefined ? { maxDeferrals: values.SDRS_MAX_DEFERRALS } : {}),
    ...(values.SDRS_MAX_ATTEMPTS ? { maxAttempts: values.SDRS_MAX_ATTEMPTS } : {}),
    ...(values.SDRS_AMBIGUOUS_CHECK_SECONDS ? { ambiguousCheckDelaySeconds: values.SDRS_AMBIGUOUS_CHECK_SECONDS } : {}),
  };
}
