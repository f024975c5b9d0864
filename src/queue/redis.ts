/**
 * The `--queue` URL: `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS, certificates verified). The
 * password is a secret: it comes from the URL, else INTUNE_PUBLISHER_QUEUE_PASSWORD, else the file named by
 * INTUNE_PUBLISHER_QUEUE_PASSWORD_FILE; it is registered for redaction and never printed (`displayQueueUrl`).
 */
import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import type { SecretRegistry } from "../clients/http/redact.js";
import { PublisherError } from "../core/errors.js";
import { readBoundedText } from "../platform/fs.js";

export const QUEUE_PASSWORD_ENV = "INTUNE_PUBLISHER_QUEUE_PASSWORD";
export const QUEUE_PASSWORD_FILE_ENV = "INTUNE_PUBLISHER_QUEUE_PASSWORD_FILE";
/** A password file holds one line (limits.md). */
export const QUEUE_PASSWORD_MAX_BYTES = 4096;
/** How long the first connection may take before the queue is reported unreachable. */
export const QUEUE_CONNECT_TIMEOUT_MS = 10_000;

export interface QueueConnection {
  /** for people: the URL without its password */
  display: string;
  options: RedisOptions;
}

/** The URL with its password replaced by `***`. */
export function displayQueueUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.href;
  } catch {
    return "(an unparsable URL)";
  }
}

/** Parses `--queue` and finds its password; throws Usage for a malformed URL. */
export async function queueConnection(
  url: string,
  env: NodeJS.ProcessEnv,
  secrets?: SecretRegistry,
): Promise<QueueConnection> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PublisherError("Usage", "--queue is not a URL.", {
      hint: "Give redis://host:6379 or rediss://host:6380 (TLS); docs/workers.md.",
    });
  }
  secrets?.addFromUrl(url);
  if (u.protocol !== "redis:" && u.protocol !== "rediss:")
    throw new PublisherError("Usage", `--queue ${displayQueueUrl(url)}: only redis:// and rediss:// are supported.`, {
      hint: "Give redis://host:6379 or rediss://host:6380 (TLS); docs/workers.md.",
    });
  const db = u.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,2}$/.test(db))
    throw new PublisherError("Usage", `--queue ${displayQueueUrl(url)}: the path must be a database number.`, {
      hint: "Leave the path out, or give /0 to /15.",
    });
  let password = u.password === "" ? undefined : decodeURIComponent(u.password);
  password ??= env[QUEUE_PASSWORD_ENV] === "" ? undefined : env[QUEUE_PASSWORD_ENV];
  const file = env[QUEUE_PASSWORD_FILE_ENV];
  if (password === undefined && file !== undefined && file !== "")
    password = (
      await readBoundedText({ path: file, what: "queue password file", maxBytes: QUEUE_PASSWORD_MAX_BYTES })
    ).trim();
  secrets?.add(password);
  const options: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port === "" ? 6379 : Number(u.port),
    ...(u.username === "" ? {} : { username: decodeURIComponent(u.username) }),
    ...(password === undefined ? {} : { password }),
    ...(db === "" ? {} : { db: Number(db) }),
    ...(u.protocol === "rediss:" ? { tls: { servername: u.hostname } } : {}),
    // BullMQ's blocking commands must wait across reconnections
    maxRetriesPerRequest: null,
  };
  return { display: displayQueueUrl(url), options };
}

/** A connected client, or QueueUnavailable (nothing else is left running). */
export async function connectRedis(c: QueueConnection, signal?: AbortSignal): Promise<Redis> {
  const client = new Redis({ ...c.options, lazyConnect: true });
  let lastError = "";
  client.on("error", (e: Error) => (lastError = e.message));
  const timeout = AbortSignal.timeout(QUEUE_CONNECT_TIMEOUT_MS);
  const stop = signal === undefined ? timeout : AbortSignal.any([timeout, signal]);
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => stop.addEventListener("abort", () => reject(new Error("timed out")), { once: true })),
    ]);
    return client;
  } catch (e) {
    client.disconnect();
    const why = lastError || (e instanceof Error ? e.message : String(e));
    throw new PublisherError("QueueUnavailable", `The queue ${c.display} cannot be reached: ${why}.`, {
      hint: "Check that Redis runs there and the URL, password (INTUNE_PUBLISHER_QUEUE_PASSWORD) and TLS (rediss://) are right; docs/workers.md.",
    });
  }
}
