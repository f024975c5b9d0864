// Test preload (`node --import`): a run stuck in a blocking read. When the CLI starts listening for SIGTERM, it
// puts a read of a named pipe nobody writes on the process's only thread-pool thread (UV_THREADPOOL_SIZE=1): the
// CLI's next file operation (and every one after it) waits forever, whatever the abort signal says. It writes
// "ready" on stderr then.
import { readFile } from "node:fs";

const fifo = process.env["BLOCK_FIFO"];
if (fifo !== undefined) {
  const block = (event: string | symbol): void => {
    if (event !== "SIGTERM") return;
    process.off("newListener", block);
    readFile(fifo, () => undefined);
    process.stderr.write("ready\n");
  };
  process.on("newListener", block);
}
