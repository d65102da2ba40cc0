/**
 * The process shell of the `sdrs-autoprotect` bin: runs the program against the real streams,
 * environment and signals, then exits with its code once stdout has been flushed.
 */
import { runCli } from "./run.ts";

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
// Exit explicitly: an interrupted command may still hold sockets or timers open.
process.stdout.write("", () => process.exit(code));
