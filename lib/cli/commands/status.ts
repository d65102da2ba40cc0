/** `status`: what the pipeline knows about servers and requests (placeholder until the store is wired in). */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { registerNotYetAvailable } from "./not-yet.ts";

export function register(program: Command, _context: CliContext): void {
  registerNotYetAvailable(program, "status", "show the protection status of servers and onboarding requests", "status");
}
