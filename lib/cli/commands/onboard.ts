/** `onboard`: protect a list of servers in bulk (placeholder until the pipeline is wired in). */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { registerNotYetAvailable } from "./not-yet.ts";

export function register(program: Command, _context: CliContext): void {
  registerNotYetAvailable(program, "onboard", "protect the given servers (bulk onboarding) and follow their jobs", "onboard --servers id1,id2");
}
