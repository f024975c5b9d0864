/**
 * The downloader against the local tenant's vendor host: real HTTPS through our transport with the local CA trusted
 * explicitly, real files in a scratch cache, faults from the host, requests counted at the host. Waits between
 * attempts are recorded, not slept.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { startVendorHost } from "../../../emulator/vendor/host.js";
import type { VendorHost } from "../../../emulator/vendor/host.js";
import type { ContentInput, ProductInput, VendorSeedInput } from "../../../emulator/vendor/seed.js";
import { isPublisherError } from "../../core/errors.js";
import type { PublisherError } from "../../core/errors.js";
import { createStreamTransport } from "../../clients/http/stream-transport.js";
import type { StreamTransport } from "../../clients/http/stream-transport.js";
import type { Sleep } from "../../clients/http/types.js";
import { fixture } from "../../../test/support/paths.js";
import { useScratch } from "../../../test/support/scratch.js";
import { stopHashThread } from "./digest.js";
import { Downloader } from "./downloader.js";
import type { DownloadEvent, DownloaderOptions } from "./downloader.js";
import { msiProductVersion } from "./msi-version.js";
import { saveDownload } from "./save.js";

const MiB = 1024 * 1024;
const TINY_MSI = fixture("msi", "tinyapp64-2.3.4-x64.msi");
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

const product = (id: string, version: string, content: ContentInput): ProductInput => ({
  id,
  name: id,
  publisher: "Contoso",
  versions: [{ version, installers: [{ architecture: "x64", type: "exe", content }] }],
});

const seed: VendorSeedInput = {
  products: [
    product("Contoso.Big", "1.0.0", { generate: { bytes: 3 * MiB + 123, seed: "big" } }),
    product("Contoso.Small", "4.2", { text: "a small installer\n" }),
    product("Contoso.Other", "7.0", { generate: { bytes: 200_000, seed: "other" } }),
    {
      id: "Contoso.Msi",
      name: "Contoso MSI",
      publisher: "Contoso",
      versions: [{ version: "2.3.4", installers: [{ architecture: "x64", type: "msi", content: { path: TINY_MSI } }] }],
    },
  ],
};

/** Asserts a PublisherError with this kind and code, returning it. */
async function refusal(p: Promise<unknown>, kind: string, code: string): Promise<PublisherError> {
  let caught: unknown;
  await p.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => (caught = e),
  );
  assert.ok(isPublisherError(caught), String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.kind, kind);
  return caught;
}

/** Every file under `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
  } catch {
    return [];
  }
}

describe("downloader against the vendor host", () => {
  const scratch = useScratch("ip-download-");
  let host: VendorHost;
  let transport: StreamTransport;
  let waits: number[];
  let onSleep: (() => void) | undefined;
  const sleep: Sleep = async (ms) => {
    waits.push(ms);
    onSleep?.();
  };

  before(async () => {
    host = await startVendorHost({ seed, plainHttp: true });
    transport = createStreamTransport({ trustedCaPem: host.caCertPem });
  });
  after(async () => {
    await transport.close();
    await host.close();
  });
  beforeEach(async () => {
    await host.admin.reset();
    waits = [];
    onSleep = undefined;
  });

  const downloader = async (o: Partial<DownloaderOptions> = {}): Promise<{ d: Downloader; cacheDir: string }> => {
    const cacheDir = o.cacheDir ?? join(await scratch(), "cache");
    return { d: new Downloader({ cacheDir, transport, sleep, ...o }), cacheDir };
  };
  const big = (): ReturnType<VendorHost["admin"]["installer"]> => host.admin.installer("Contoso.Big");

  it("downloads, verifies and caches by hash; the second call is answered from the cache without a request", async () => {
    const i = big();
    const events: DownloadEvent[] = [];
    const { d, cacheDir } = await downloader({ onProgress: (e) => events.push(e) });
    const r = await d.download({ url: i.url, sha256: i.sha256.toUpperCase(), product: i.id, version: i.version });
    assert.equal(r.sha256, i.sha256);
    assert.equal(r.check, "published");
    assert.equal(r.fromCache, false);
    assert.equal(r.path, join(cacheDir, "sha256", i.sha256));
    assert.equal(sha256(await readFile(r.path)), i.sha256, "independent hash of the cached file");
    assert.equal(r.size, i.size);
    assert.equal(r.fileName, i.fileName);
    assert.deepEqual(await filesUnder(cacheDir), [join("sha256", i.sha256)], "no partial file left");
    assert.equal(host.admin.requests().length, 1);
    assert.equal(events[0]!.type, "start");
    const last = events.filter((e) => e.type === "progress").at(-1);
    assert.equal(last?.type === "progress" && last.bytes, i.size);
    assert.equal(events.at(-1)!.type, "done");

    const again = await d.download({ url: i.url, sha256: i.sha256, product: i.id, version: i.version });
    assert.equal(again.fromCache, true);
    assert.equal(again.path, r.path);
    assert.equal(host.admin.requests().length, 1, "no request for a cached file");
  });

  it("a cached file that was altered is hashed again, dropped and downloaded anew", async () => {
    const i = big();
    const { d } = await downloader();
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    await writeFile(r.path, "tampered");
    const again = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(again.fromCache, false);
    assert.equal(sha256(await readFile(again.path)), i.sha256);
    assert.equal(host.admin.requests().length, 2);
  });

  it("a hash mismatch fails naming URL, expected and actual hash, and leaves nothing in the cache", async () => {
    const i = big();
    host.admin.addFault({ kind: "wrongBytes", product: i.id });
    const { d, cacheDir } = await downloader();
    const e = await refusal(d.download({ url: i.url, sha256: i.sha256 }), "integrity", "HashMismatch");
    assert.ok(e.message.includes(i.url), e.message);
    assert.ok(e.message.includes(`expected SHA-256 ${i.sha256}`), e.message);
    const actual = /got ([0-9a-f]{64})/.exec(e.message)?.[1];
    assert.ok(actual !== undefined && actual !== i.sha256, e.message);
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it("resumes a truncated body with Range and If-Range; the final hash is right", async () => {
    const i = big();
    host.admin.addFault({ kind: "truncate", product: i.id, afterBytes: MiB + 7, count: 1 });
    const events: DownloadEvent[] = [];
    const { d } = await downloader({ onProgress: (e) => events.push(e) });
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
    const [first, second] = host.admin.requests();
    assert.equal(host.admin.requests().length, 2);
    assert.equal(first!.range, undefined);
    assert.equal(first!.bytesSent, MiB + 7);
    assert.equal(second!.range, `bytes=${MiB + 7}-`);
    assert.match(second!.ifRange ?? "", /^"[0-9a-f]{32}"$/);
    assert.equal(second!.status, 206);
    assert.equal(second!.bytesSent, i.size - MiB - 7);
    assert.equal(waits.length, 1, "one backoff before the resume");
    const starts = events.filter((e) => e.type === "start");
    assert.deepEqual(
      starts.map((e) => e.type === "start" && e.resumedFrom),
      [0, MiB + 7],
    );
  });

  it("hashing on the download's own thread (hashThread: false) resumes and verifies alike", async () => {
    const i = big();
    host.admin.addFault({ kind: "truncate", product: i.id, afterBytes: MiB + 7, count: 1 });
    const { d } = await downloader({ hashThread: false });
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
    assert.equal(host.admin.requests()[1]!.range, `bytes=${MiB + 7}-`);
  });

  it("a partial download left by an earlier run is resumed by the next run", async () => {
    const i = big();
    host.admin.addFault({ kind: "truncate", product: i.id, afterBytes: 2 * MiB, count: 1 });
    const { d: first, cacheDir } = await downloader({ maxAttempts: 1 });
    const e = await refusal(first.download({ url: i.url, sha256: i.sha256 }), "network", "DownloadIncomplete");
    assert.match(e.message, /kept to resume/);
    assert.ok((await filesUnder(cacheDir)).some((f) => f.endsWith(".partial")));
    const { d: next } = await downloader({ cacheDir });
    const r = await next.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
    assert.equal(host.admin.requests().at(-1)!.range, `bytes=${2 * MiB}-`);
    assert.deepEqual(await filesUnder(cacheDir), [join("sha256", i.sha256)]);
  });

  it("a server that ignores Range gets the whole file again (restart from zero)", async () => {
    const i = big();
    host.admin.addFault({ kind: "truncate", product: i.id, afterBytes: MiB, count: 1 });
    host.admin.addFault({ kind: "noRange", product: i.id, path: "^/dl/", count: 10 });
    // The first answer has no Accept-Ranges: the downloader does not even try a Range.
    const { d } = await downloader();
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
    const reqs = host.admin.requests();
    assert.equal(reqs.length, 2);
    assert.equal(reqs[1]!.range, undefined);
    assert.equal(reqs[1]!.status, 200);

    // Ranges announced on the first answer, then ignored on the resume: 200, restart from zero.
    await host.admin.reset();
    host.admin.addFault({ kind: "truncate", product: i.id, afterBytes: MiB, count: 1 });
    onSleep = () => void host.admin.addFault({ kind: "noRange", product: i.id, count: 1 });
    const { d: d2 } = await downloader();
    const r2 = await d2.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r2.path)), i.sha256);
    const [, resume] = host.admin.requests();
    assert.equal(resume!.range, `bytes=${MiB}-`);
    assert.equal(resume!.status, 200);
    assert.equal(resume!.bytesSent, i.size);
  });

  it("a file changed at the same URL fails If-Range: the whole new file comes, and the hash check refuses it", async () => {
    const i = big();
    host.admin.addFault({ kind: "truncate", product: i.id, afterBytes: MiB, count: 1 });
    onSleep = () => void host.admin.addFault({ kind: "changed", product: i.id });
    const { d, cacheDir } = await downloader();
    const e = await refusal(d.download({ url: i.url, sha256: i.sha256 }), "integrity", "HashMismatch");
    assert.ok(e.message.includes(i.sha256));
    const [, second] = host.admin.requests();
    assert.equal(second!.range, `bytes=${MiB}-`);
    assert.ok(second!.ifRange !== undefined);
    assert.equal(second!.status, 200, "If-Range no longer matches: whole file");
    assert.equal(second!.bytesSent, i.size + 16);
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it("a redirect loop and too many redirects end with a bounded error; a short chain is followed", async () => {
    const i = big();
    host.admin.addFault({ kind: "redirectLoop", product: i.id });
    const { d } = await downloader();
    const loop = await refusal(d.download({ url: i.url, sha256: i.sha256 }), "network", "RedirectLoop");
    assert.ok(loop.message.includes(i.url));
    assert.ok(host.admin.requests().length <= 3);

    await host.admin.reset();
    host.admin.addFault({ kind: "redirect", product: i.id, hops: 12 });
    await refusal(d.download({ url: i.url, sha256: i.sha256 }), "network", "TooManyRedirects");
    assert.equal(host.admin.requests().length, 11, "the first request and 10 redirects");

    await host.admin.reset();
    host.admin.addFault({ kind: "redirect", product: i.id, hops: 3, count: 1 });
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(r.finalUrl, `${i.url}?hop=3&hops=3`);
    assert.equal(r.fileName, i.fileName);
  });

  it("refuses http:// without a hash before any request; allows it when a hash pins the file; refuses a downgrade", async () => {
    const i = host.admin.installer("Contoso.Small");
    const plain = i.url.replace(host.origin, host.httpOrigin!);
    const { d } = await downloader();
    const e = await refusal(d.download({ url: plain }), "input", "InsecureUrl");
    assert.match(e.hint ?? "", /https:\/\/ URL, or give the file's published SHA-256/);
    assert.equal(host.admin.requests().length, 0);

    const r = await d.download({ url: plain, sha256: i.sha256 });
    assert.equal(r.sha256, i.sha256);
    assert.equal(host.admin.requests()[0]!.secure, false);

    const b = big();
    host.admin.addFault({ kind: "redirect", product: b.id, insecure: true });
    await refusal(d.download({ url: b.url, product: b.id, version: b.version }), "network", "InsecureRedirect");
    // Pinned, the same redirect is followed to the plain-HTTP listener.
    const pinned = await d.download({ url: b.url, sha256: b.sha256 });
    assert.ok(pinned.finalUrl.startsWith(`${host.httpOrigin}/`));
  });

  it("refuses a URL with credentials without sending it, and never shows the password", async () => {
    const i = big();
    const url = i.url.replace("https://", "https://admin:hunter2secret@");
    const { d } = await downloader();
    const e = await refusal(d.download({ url, sha256: i.sha256 }), "input", "UrlWithCredentials");
    assert.ok(!e.message.includes("hunter2secret"), e.message);
    assert.equal(host.admin.requests().length, 0);
    await refusal(d.download({ url: "ftp://127.0.0.1/x", sha256: i.sha256 }), "input", "InvalidDownloadUrl");
    await refusal(d.download({ url: i.url, sha256: "abc" }), "input", "InvalidSha256");
  });

  it("enforces the size cap: from Content-Length before reading, and on a body without one", async () => {
    const i = big();
    const { d, cacheDir } = await downloader({ maxBytes: MiB });
    const e = await refusal(d.download({ url: i.url, sha256: i.sha256 }), "input", "DownloadTooLarge");
    assert.match(e.message, /3\.0 MiB, over the download limit of 1 MiB/);
    host.admin.addFault({ kind: "noLength", product: i.id });
    const e2 = await refusal(d.download({ url: i.url, sha256: i.sha256 }), "input", "DownloadTooLarge");
    assert.match(e2.message, /more than the download limit of 1 MiB/);
    assert.deepEqual(await filesUnder(cacheDir), []);
  });

  it("records the first download's hash in the lock file and holds later downloads of that version to it", async () => {
    const i = host.admin.installer("Contoso.Other");
    const dir = await scratch();
    const lockFile = join(dir, "catalog.lock.json");
    const request = { url: i.url, product: i.id, version: i.version };
    const { d } = await downloader({ lockFile });
    const first = await d.download(request);
    assert.equal(first.check, "recorded");
    const lock = JSON.parse(await readFile(lockFile, "utf8")) as { lockVersion: number; downloads: unknown[] };
    assert.equal(lock.lockVersion, 1);
    assert.deepEqual(lock.downloads, [
      {
        id: i.id,
        version: i.version,
        url: i.url,
        size: i.size,
        sha256: i.sha256,
        recorded: (lock.downloads[0] as { recorded: string }).recorded,
      },
    ]);
    assert.equal((await stat(lockFile)).mode & 0o777, 0o644);

    // Same machine: the lock's hash finds the cached file, no request.
    const cached = await d.download(request);
    assert.deepEqual([cached.fromCache, cached.check], [true, "lock"]);
    assert.equal(host.admin.requests().length, 1);

    // Another machine (empty cache) sharing the lock file: same bytes pass, changed bytes fail.
    const { d: other } = await downloader({ lockFile });
    assert.equal((await other.download(request)).check, "lock");
    host.admin.addFault({ kind: "changed", product: i.id });
    const { d: third, cacheDir } = await downloader({ lockFile });
    const e = await refusal(third.download(request), "integrity", "LockMismatch");
    assert.ok(e.message.includes(lockFile) && e.message.includes(i.sha256) && e.message.includes(i.url), e.message);
    assert.deepEqual(await filesUnder(cacheDir), []);
    // A new version is recorded beside the old one.
    const newer = await third.download({ ...request, version: "7.1" });
    assert.equal(newer.check, "recorded");
    const rows = (JSON.parse(await readFile(lockFile, "utf8")) as { downloads: { version: string }[] }).downloads;
    assert.deepEqual(
      rows.map((r) => r.version),
      ["7.0", "7.1"],
    );
  });

  it("reads the version of a fixed-URL MSI from the file and locks that version", async () => {
    const i = host.admin.installer("Contoso.Msi");
    const lockFile = join(await scratch(), "catalog.lock.json");
    const { d } = await downloader({ lockFile });
    const r = await d.download({ url: i.url, product: "Contoso.Msi", versionFromFile: msiProductVersion });
    assert.equal(r.version, "2.3.4");
    assert.equal(r.check, "recorded");
    const rows = (JSON.parse(await readFile(lockFile, "utf8")) as { downloads: { version: string }[] }).downloads;
    assert.equal(rows[0]!.version, "2.3.4");
  });

  it("retries 503 with its Retry-After and a 404 fails at once, naming the URL with its query redacted", async () => {
    const i = big();
    host.admin.addFault({ kind: "status", product: i.id, status: 503, retryAfter: 3, count: 2 });
    const { d } = await downloader();
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(r.sha256, i.sha256);
    assert.deepEqual(waits, [3000, 3000]);

    host.admin.addFault({ kind: "notFound", product: i.id });
    const { d: d2 } = await downloader();
    const e = await refusal(
      d2.download({ url: `${i.url}?sig=s3cr3tsignature`, sha256: i.sha256 }),
      "network",
      "DownloadHttpError",
    );
    assert.match(e.message, /HTTP 404/);
    assert.ok(!e.message.includes("s3cr3tsignature"), e.message);
    assert.equal(host.admin.requests().filter((q) => q.status === 404).length, 1);
  });

  it("downloads in parallel up to the limit, each download failing on its own; the same file is fetched once", async () => {
    let open = 0;
    let most = 0;
    const counting: DownloaderOptions["transport"] = {
      async stream(request) {
        open++;
        most = Math.max(most, open);
        const res = await transport.stream(request);
        res.body.once("close", () => open--);
        return res;
      },
    };
    host.admin.addFault({ kind: "notFound", product: "Contoso.Small" });
    const { d } = await downloader({ transport: counting, concurrency: 2 });
    const items = ["Contoso.Big", "Contoso.Small", "Contoso.Other", "Contoso.Msi"].map((id) =>
      host.admin.installer(id),
    );
    const outcomes = await d.downloadAll(items.map((i) => ({ url: i.url, sha256: i.sha256, product: i.id })));
    assert.deepEqual(
      outcomes.map((o) => (o.error === undefined ? "ok" : o.error.code)),
      ["ok", "DownloadHttpError", "ok", "ok"],
    );
    assert.ok(most <= 2, `at most 2 at once, saw ${most}`);

    await host.admin.reset();
    const b = big();
    const { d: d2 } = await downloader();
    const [x, y] = await Promise.all([
      d2.download({ url: b.url, sha256: b.sha256 }),
      d2.download({ url: b.url, sha256: b.sha256 }),
    ]);
    assert.equal(x.path, y.path);
    assert.equal(host.admin.requests().length, 1);
  });

  it("downloads a body without Content-Length (chunked); progress then has no ETA", async () => {
    const i = big();
    host.admin.addFault({ kind: "noLength", product: i.id });
    const events: DownloadEvent[] = [];
    const { d } = await downloader({ onProgress: (e) => events.push(e) });
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
    const progress = events.filter((e) => e.type === "progress");
    assert.ok(progress.length > 0 && progress.every((e) => e.type === "progress" && e.etaSeconds === undefined));
  });

  it("a cancelled download stops with kind cancelled and keeps its part for the next run", async () => {
    const i = big();
    host.admin.addFault({ kind: "slow", product: i.id, bytesPerSecond: 256 * 1024, count: 1 });
    const controller = new AbortController();
    const { d, cacheDir } = await downloader({
      progressIntervalMs: 0,
      onProgress: (e) => {
        if (e.type === "progress" && e.bytes > 0) controller.abort();
      },
    });
    await refusal(d.download({ url: i.url, sha256: i.sha256, signal: controller.signal }), "cancelled", "Cancelled");
    assert.ok((await filesUnder(cacheDir)).some((f) => f.endsWith(".partial")));
    const { d: next } = await downloader({ cacheDir });
    const r = await next.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
    assert.match(host.admin.requests().at(-1)!.range ?? "", /^bytes=[1-9]\d*-$/);
  });

  it("the hashing thread's death mid-body fails the download (Internal) and nothing unverified is kept", async () => {
    const i = big();
    host.admin.addFault({ kind: "slow", product: i.id, bytesPerSecond: 512 * 1024, count: 1 });
    let stopping: Promise<void> | undefined;
    const { d, cacheDir } = await downloader({
      hashThread: true,
      progressIntervalMs: 0,
      onProgress: (e) => {
        if (e.type === "progress" && e.bytes > 0) stopping ??= stopHashThread();
      },
    });
    const e = await refusal(d.download({ url: i.url, sha256: i.sha256 }), "internal", "Internal");
    assert.match(e.message, /hashing thread stopped unexpectedly/);
    await stopping;
    assert.ok(!(await filesUnder(cacheDir)).some((f) => f.startsWith("sha256")), "nothing in the cache");
    // The next download starts a new thread and resumes from what was written, hashing it again from disk.
    const r = await (await downloader({ cacheDir, hashThread: true })).d.download({ url: i.url, sha256: i.sha256 });
    assert.equal(sha256(await readFile(r.path)), i.sha256);
  });

  it("refuses a damaged lock file, naming it and what is wrong", async () => {
    const i = host.admin.installer("Contoso.Other");
    const lockFile = join(await scratch(), "catalog.lock.json");
    await writeFile(lockFile, JSON.stringify({ lockVersion: 1, downloads: [{ id: "x", version: "1" }] }));
    const { d } = await downloader({ lockFile });
    const e = await refusal(d.download({ url: i.url, product: i.id, version: i.version }), "input", "LockFileInvalid");
    assert.ok(e.message.includes(lockFile) && /downloads\.0\.url/.test(e.message), e.message);
    assert.equal(host.admin.requests().length, 0);
  });

  it("says so when the lock file cannot be written (the verified download stays in the cache)", async () => {
    const i = host.admin.installer("Contoso.Other");
    const dir = await scratch();
    await writeFile(join(dir, "not-a-folder"), "x");
    const { d, cacheDir } = await downloader({ lockFile: join(dir, "not-a-folder", "catalog.lock.json") });
    const e = await refusal(
      d.download({ url: i.url, product: i.id, version: i.version }),
      "input",
      "LockFileNotWritable",
    );
    assert.match(e.message, /not-a-folder/);
    assert.deepEqual(await filesUnder(cacheDir), [join("sha256", i.sha256)]);
  });

  it("saves a verified download into a folder under its safe name", async () => {
    const i = host.admin.installer("Contoso.Small");
    const { d } = await downloader();
    const r = await d.download({ url: i.url, sha256: i.sha256 });
    const out = join(await scratch(), "out");
    const saved = await saveDownload(r, out);
    assert.equal(saved, join(out, i.fileName));
    assert.equal(await readFile(saved, "utf8"), "a small installer\n");
    assert.equal(await saveDownload(r, out, "../../evil.exe"), join(out, "evil.exe"));
    assert.deepEqual((await readdir(out)).sort(), ["Contoso.Small-4.2-x64.exe", "evil.exe"]);
  });
});
