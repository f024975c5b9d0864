/**
 * A throwaway redis-server per test file: started on a free port, no persistence, stopped with `redis-cli shutdown
 * nosave`. redis-server is required (CI's .ci/run installs it): without it the test fails saying so, it is never
 * skipped.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";

const run = promisify(execFile);

export interface TestRedis {
  port: number;
  url: string;
  /** a client for the test itself (inspect keys) */
  client: Redis;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), "ip-redis-"));
  const port = await freePort();
  try {
    await run("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "yes",
      "--dir",
      dir,
      "--pidfile",
      join(dir, "redis.pid"),
      ...extraArgs,
    ]);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? "redis-server is not installed: these tests need it (Debian: apt-get install redis-server; CI's .ci/run installs it)."
        : `redis-server did not start: ${(e as Error).message}`,
    );
  }
  const client = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 3, ...passwordOf(extraArgs) });
  for (let i = 0; ; i++) {
    try {
      await client.ping();
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    async stop() {
      client.disconnect();
      const auth = passwordOf(extraArgs).password;
      await run("redis-cli", [
        "-p",
        String(port),
        ...(auth === undefined ? [] : ["--no-auth-warning", "-a", auth]),
        "shutdown",
        "nosave",
      ]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function passwordOf(args: string[]): { password?: string } {
  const i = args.indexOf("--requirepass");
  return i === -1 ? {} : { password: args[i + 1]! };
}
