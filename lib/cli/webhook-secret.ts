/**
 * The webhook secret as the CLI takes it: `webhooks listen --secret` and `onboard --webhook-secret` both read
 * it from one variable when the flag is absent (argv is visible in ps), and refuse a missing one alike.
 */
import { type CliError, usageError } from "./errors.ts";

/** Where `webhooks listen` and `onboard` read the secret from when the flag is not given. */
export const WEBHOOK_SECRET_VARIABLE = "SDRS_WEBHOOK_SECRET";

/**
 * The secret: the flag's value, else the variable of the command's environment (the process's in the bin,
 * a test's in process; never process.env behind the program's back).
 */
export function webhookSecretOf(
  flagValue: string | undefined,
  env: Record<string, string | undefined>,
): string | undefined {
  return flagValue ?? env[WEBHOOK_SECRET_VARIABLE];
}

/** The flag's help: commander's own wording for a variable it would read. */
export function webhookSecretHelp(): string {
  return `the endpoint's secret (whsec_ + base64); prefer the ${WEBHOOK_SECRET_VARIABLE} variable, which ps cannot show (env: ${WEBHOOK_SECRET_VARIABLE})`;
}

/** `--secret: required (or set SDRS_WEBHOOK_SECRET); make one with …`; `condition` e.g. "with --webhook". */
export function webhookSecretRequired(flag: string, condition?: string): CliError {
  return usageError(
    `${flag}: required${condition === undefined ? "" : ` ${condition}`} (or set ${WEBHOOK_SECRET_VARIABLE}); make one with "sdrs-autoprotect webhooks secret"`,
  );
}
