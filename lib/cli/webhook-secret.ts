/**
 * The webhook secret as the CLI takes it: `webhooks listen --secret` and `onboard --webhook-secret` both read
 * it from one variable when the flag is absent (argv is visible in ps), and refuse a missing one alike.
 */
import { type CliError, usageError } from "./errors.ts";

/** Where `webhooks listen` and `onboard` read the secret from when the flag is not given. */
export const WEBHOOK_SECRET_VARIABLE = "SDRS_WEBHOOK_SECRET";

/** `--secret: required (or set SDRS_WEBHOOK_SECRET); make one with …`; `condition` e.g. "with --webhook". */
export function webhookSecretRequired(flag: string, condition?: string): CliError {
  return usageError(
    `${flag}: required${condition === undefined ? "" : ` ${condition}`} (or set ${WEBHOOK_SECRET_VARIABLE}); make one with "sdrs-autoprotect webhooks secret"`,
  );
}
