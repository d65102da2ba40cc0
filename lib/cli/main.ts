/**
 * The process shell of the `sdrs-autoprotect` bin: runs the program against the real streams,
 * environment and signals, then exits with its code once stdout has been flushed.
 */
import { runCli } from "./run.ts";

// A reader that goes away (`… | head -1`) must not crash a running simulator or receiver: the rest of
// the output is dropped, the work goes on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
// Exit explicitly: an interrupted command may still hold sockets or timers open.
const exit = () => process.exit(code);
if (process.stdout.destroyed) exit();
else process.stdout.write("", exit);
