/*
 * Child process of bench/download.ts (`--floor`): the least a Node client can do for a verified download, as a
 * yardstick for ours: one TLS connection, one GET, every socket chunk added to a SHA-256 and gathered into 1 MiB
 * batches written with one positional `writev` each (no copy), at most 4 writes in flight. No HTTP parsing beyond
 * skipping the head, no checks, no retries, no cache: not a client to use, only the floor under ours.
 * Input: argv[2] = JSON {caPath, url, out}. Prints one JSON line {seconds, size, sha256, cpuSeconds}.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, writev } from "node:fs";
import { connect } from "node:tls";

const input = JSON.parse(process.argv[2] ?? "{}") as { caPath: string; url: string; out: string };
const url = new URL(input.url);
const fd = openSync(input.out, "w");
const hash = createHash("sha256");
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const socket = connect({
  host: url.hostname,
  port: Number(url.port),
  ca: readFileSync(input.caPath),
  servername: "localhost",
});
let head: Buffer | undefined = Buffer.alloc(0);
let size = 0;
let batch: Buffer[] = [];
let batched = 0;
let position = 0;
let inFlight = 0;
let closed = false;
const take = (chunk: Buffer): void => {
  size += chunk.length;
  hash.update(chunk);
  batch.push(chunk);
  batched += chunk.length;
  if (batched >= 1024 * 1024) flush();
};
const flush = (): void => {
  if (batched === 0) return;
  const buffers = batch;
  const at = position;
  position += batched;
  [batch, batched] = [[], 0];
  if (++inFlight >= 4) socket.pause();
  writev(fd, buffers, at, (e) => {
    if (e) throw e;
    inFlight--;
    socket.resume();
    if (closed && inFlight === 0) done();
  });
};
const done = (): void => {
  closeSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(JSON.stringify({ seconds, size, sha256: hash.digest("hex"), cpuSeconds }) + "\n");
};
socket.on("secureConnect", () =>
  socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`),
);
socket.on("data", (chunk: Buffer) => {
  if (head === undefined) return take(chunk);
  const all = Buffer.concat([head, chunk]);
  const end = all.indexOf("\r\n\r\n");
  if (end < 0) return void (head = all);
  head = undefined;
  if (all.length > end + 4) take(all.subarray(end + 4));
});
socket.on("close", () => {
  flush();
  closed = true;
  if (inFlight === 0) done();
});
socket.on("error", (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
