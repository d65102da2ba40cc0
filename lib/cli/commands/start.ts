/** `start`: the whole pipeline on this machine (placeholder until the local runtime is wired in). */
import type { Command } from "commander";
import type { CliContext } from "../context.ts";
import { registerNotYetAvailable } from "./not-yet.ts";

export function register(program: Command, _context: CliContext): void {
  registerNotYetAvailable(program, "start", "run the whole pipeline locally against the configured cloud or the simulator", "start");
}
