/**
 * The vendor host over real HTTPS (node:https with its CA, not our client): manifests, index and installers as a
 * catalog reads them, Range and If-Range, every fault, the admin API, the mirror of real winget manifests.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { isPublisherError } from "../../src/core/errors.js";
import { fixture } from "../../test/support/paths.js";
import { startVendorHost } from "./host.js";
import type { VendorHost } from "./host.js";
import { compareWingetVersions, manifestFolder } from "./manifests.js";
import { parseVendorSeed } from "./seed.js";

const TINY_MSI = fixture("msi", "tinyapp64-2.3.4-x64.msi");
const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** the body ended early (connection closed short of Content-Length) */
  aborted: boolean;
}

function get(host: VendorHost, url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: host.caCertPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let aborted = false;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("aborted", () => (aborted = true));
      res.on("error", () => (aborted = true));
      res.on("close", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const seed = {
  products: [
    {
      id: "Contoso.Tool",
      name: "Contoso Tool",
      publisher: "Contoso",
      tags: ["tool"],
      versions: [
        {
          version: "1.2.0",
          installers: [
            {
              architecture: "x64" as const,
              type: "msi" as const,
              content: { path: TINY_MSI },
              fields: { ProductCode: "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}" },
            },
          ],
        },
        {
          version: "1.10.0",
          installerFields: { InstallerSwitches: { Silent: "/S" } },
          installers: [
            { architecture: "x64" as const, type: "nullsoft" as const, content: { generate: { bytes: 300_000 } } },
            { architecture: "arm64" as const, type: "nullsoft" as const, content: { text: "arm64 build" } },
          ],
        },
      ],
    },
  ],
};

describe("vendor host", () => {
  let host: VendorHost;
  before(async () => {
    host = await startVendorHost({ seed, plainHttp: true });
  });
  after(async () => {
    await host.close();
  });
  beforeEach(async () => {
    await host.admin.reset();
  });

  it("serves the index in the community index's shape, with winget's latest version", async () => {
    const r = await get(host, host.indexUrl);
    assert.equal(r.status, 200);
    const rows = JSON.parse(r.body.toString("utf8")) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0]!), ["Name", "PackageId", "Version", "Tags", "LastUpdate"]);
    assert.equal(rows[0]!.PackageId, "Contoso.Tool");
    assert.equal(rows[0]!.Version, "1.10.0"); // 1.10.0 > 1.2.0 in winget's order, unlike a string sort
    assert.deepEqual(rows[0]!.Tags, ["tool"]);
    assert.match(rows[0]!.LastUpdate as string, /^\d{4}-\d\d-\d\dT.*\+00:00$/);
  });

  it("serves multi-file manifests whose InstallerUrl and InstallerSha256 are its own file and its real hash", async () => {
    const folder = `${host.origin}/${manifestFolder("Contoso.Tool", "1.2.0")}`;
    assert.equal(folder, `${host.origin}/manifests/c/Contoso/Tool/1.2.0`);
    const version = parseYaml((await get(host, `${folder}/Contoso.Tool.yaml`)).body.toString()) as Record<
      string,
      unknown
    >;
    assert.equal(version.ManifestType, "version");
    assert.equal(version.DefaultLocale, "en-US");
    const locale = parseYaml((await get(host, `${folder}/Contoso.Tool.locale.en-US.yaml`)).body.toString()) as Record<
      string,
      unknown
    >;
    assert.equal(locale.PackageName, "Contoso Tool");
    assert.equal(locale.Publisher, "Contoso");
    const inst = parseYaml((await get(host, `${folder}/Contoso.Tool.installer.yaml`)).body.toString()) as {
      Installers: { InstallerUrl: string; InstallerSha256: string; ProductCode: string }[];
    };
    const entry = inst.Installers[0]!;
    assert.equal(entry.ProductCode, "{C3D4E5F6-0718-4293-A4B5-C6D7E8F90A1B}");
    assert.ok(entry.InstallerUrl.startsWith(`${host.origin}/dl/`));
    const file = await get(host, entry.InstallerUrl);
    assert.deepEqual(file.body, await readFile(TINY_MSI));
    assert.equal(entry.InstallerSha256, sha256(await readFile(TINY_MSI)).toUpperCase());
    assert.equal((await get(host, `${folder}/Nope.yaml`)).status, 404);
  });

  it("answers conditional GETs: 304 for a current ETag or date, If-None-Match before If-Modified-Since, 200 once the index changed", async () => {
    const index = `${host.origin}/index.v2.json`;
    const first = await get(host, index);
    assert.equal(first.status, 200);
    const etag = first.headers.etag!;
    const date = first.headers["last-modified"]!;
    const same = await get(host, index, { "if-none-match": etag });
    assert.equal(same.status, 304);
    assert.equal(same.body.length, 0);
    assert.equal(same.headers.etag, etag);
    assert.equal((await get(host, index, { "if-none-match": `"x", W/${etag}` })).status, 304, "weak comparison");
    assert.equal((await get(host, index, { "if-none-match": "*" })).status, 304);
    assert.equal((await get(host, index, { "if-modified-since": date })).status, 304);
    const earlier = new Date(Date.parse(date) - 60_000).toUTCString();
    assert.equal((await get(host, index, { "if-modified-since": earlier })).status, 200);
    assert.equal((await get(host, index, { "if-modified-since": "not a date" })).status, 200);
    assert.equal(
      (await get(host, index, { "if-none-match": '"other"', "if-modified-since": date })).status,
      200,
      "If-Modified-Since is ignored when If-None-Match is sent",
    );
    assert.equal((await get(host, index, { "if-none-match": etag }, "HEAD")).status, 304);
    await host.admin.publish({
      id: "Conditional.Probe",
      name: "Probe",
      publisher: "Conditional",
      versions: [
        { version: "1.0", installers: [{ architecture: "x64", type: "nullsoft", content: { text: "probe\n" } }] },
      ],
    });
    const changed = await get(host, index, { "if-none-match": etag, "if-modified-since": date });
    assert.equal(changed.status, 200, "a new product changes the index's ETag");
    assert.notEqual(changed.headers.etag, etag);
    assert.match(changed.body.toString("utf8"), /Conditional\.Probe/);
    await host.admin.reset();
  });

  it("answers Range with 206 and Content-Range, a stale If-Range with the whole file, past the end with 416", async () => {
    const i = host.admin.installer("Contoso.Tool");
    const whole = await get(host, i.url);
    assert.equal(whole.headers["accept-ranges"], "bytes");
    assert.equal(sha256(whole.body), i.sha256);
    const etag = whole.headers.etag!;
    const part = await get(host, i.url, { range: "bytes=1000-", "if-range": etag });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes 1000-${i.size - 1}/${i.size}`);
    assert.deepEqual(part.body, whole.body.subarray(1000));
    const byDate = await get(host, i.url, { range: "bytes=0-9", "if-range": whole.headers["last-modified"]! });
    assert.equal(byDate.status, 206);
    assert.equal(byDate.body.length, 10);
    const stale = await get(host, i.url, { range: "bytes=1000-", "if-range": '"other"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, i.size);
    const past = await get(host, i.url, { range: `bytes=${i.size}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers["content-range"], `bytes */${i.size}`);
  });

  it("generates the same bytes for the same seed, at any offset", async () => {
    const i = host.admin.installer("Contoso.Tool", "1.10.0");
    const whole = await get(host, i.url);
    assert.equal(whole.body.length, 300_000);
    assert.equal(sha256(whole.body), i.sha256);
    const mid = await get(host, i.url, { range: "bytes=12345-200000" });
    assert.deepEqual(mid.body, whole.body.subarray(12345, 200001));
  });

  it("faults: wrong bytes keep the validators, a truncated body ends early, 404, status with Retry-After", async () => {
    const i = host.admin.installer("Contoso.Tool");
    const good = await get(host, i.url);
    host.admin.addFault({ kind: "wrongBytes", product: "Contoso.Tool", count: 1 });
    const wrong = await get(host, i.url);
    assert.equal(wrong.status, 200);
    assert.equal(wrong.headers.etag, good.headers.etag);
    assert.equal(wrong.body.length, i.size);
    assert.notEqual(sha256(wrong.body), i.sha256);
    assert.equal(sha256((await get(host, i.url)).body), i.sha256, "count: 1 affects one request");

    host.admin.addFault({ kind: "truncate", product: "Contoso.Tool", afterBytes: 4000, count: 1 });
    const cut = await get(host, i.url);
    assert.equal(cut.headers["content-length"], String(i.size));
    assert.equal(cut.body.length, 4000);
    assert.ok(cut.aborted);

    host.admin.addFault({ kind: "notFound", product: "Contoso.Tool", version: "1.2.0", count: 1 });
    assert.equal((await get(host, i.url)).status, 200, "another version is not affected");
    assert.equal((await get(host, host.admin.installer("Contoso.Tool", "1.2.0").url)).status, 404);

    host.admin.addFault({ kind: "status", path: "^/index\\.v2\\.json$", status: 503, retryAfter: 2, count: 1 });
    const busy = await get(host, host.indexUrl);
    assert.equal(busy.status, 503);
    assert.equal(busy.headers["retry-after"], "2");
  });

  it("faults: a redirect loop alternates two URLs; a redirect chain ends at the file; insecure goes to http://", async () => {
    const i = host.admin.installer("Contoso.Tool");
    host.admin.addFault({ kind: "redirectLoop", product: "Contoso.Tool" });
    const a = await get(host, i.url);
    assert.equal(a.status, 302);
    const b = await get(host, a.headers.location!);
    assert.equal(b.status, 302);
    assert.equal((await get(host, b.headers.location!)).headers.location, a.headers.location);
    host.admin.clearFaults();

    host.admin.addFault({ kind: "redirect", product: "Contoso.Tool", hops: 3, count: 1 });
    let url = i.url;
    let hops = 0;
    for (;;) {
      const r = await get(host, url);
      if (r.status !== 302) {
        assert.equal(sha256(r.body), i.sha256);
        break;
      }
      url = r.headers.location!;
      hops++;
    }
    assert.equal(hops, 3);

    host.admin.addFault({ kind: "redirect", product: "Contoso.Tool", insecure: true, count: 1 });
    const r = await get(host, i.url);
    assert.ok(r.headers.location!.startsWith(`${host.httpOrigin}/dl/`));
  });

  it("faults: no Range support, a changed file (new ETag, other bytes), a slow body that still completes", async () => {
    const i = host.admin.installer("Contoso.Tool");
    const first = await get(host, i.url);
    host.admin.addFault({ kind: "noRange", product: "Contoso.Tool", count: 1 });
    const noRange = await get(host, i.url, { range: "bytes=100-" });
    assert.equal(noRange.status, 200);
    assert.equal(noRange.headers["accept-ranges"], undefined);
    assert.equal(noRange.body.length, i.size);

    host.admin.addFault({ kind: "changed", product: "Contoso.Tool" });
    const changed = await get(host, i.url, { range: "bytes=100-", "if-range": first.headers.etag! });
    assert.equal(changed.status, 200, "If-Range with the old ETag gets the whole new file");
    assert.notEqual(changed.headers.etag, first.headers.etag);
    assert.notEqual(changed.headers["last-modified"], first.headers["last-modified"]);
    assert.equal(changed.body.length, i.size + 16);
    assert.deepEqual(changed.body.subarray(0, i.size), first.body);
    const tail = await get(host, i.url, { range: `bytes=${i.size - 4}-`, "if-range": changed.headers.etag! });
    assert.equal(tail.status, 206);
    assert.deepEqual(tail.body, changed.body.subarray(i.size - 4));
    host.admin.clearFaults();

    host.admin.addFault({ kind: "slow", product: "Contoso.Tool", bytesPerSecond: 200_000, count: 1 });
    const slow = await get(host, i.url);
    assert.equal(sha256(slow.body), i.sha256);
    assert.deepEqual(host.admin.requests().at(-1)!.faults, ["slow"]);
  });

  it("publishes a new version at run time: manifests, index Version and LastUpdate follow; a reset forgets it", async () => {
    const before = JSON.parse((await get(host, host.indexUrl)).body.toString()) as { LastUpdate: string }[];
    await new Promise((r) => setTimeout(r, 5));
    const [added] = await host.admin.publish({
      id: "Contoso.Tool",
      name: "Contoso Tool",
      publisher: "Contoso",
      versions: [{ version: "2.0.0", installers: [{ architecture: "x64", type: "exe", content: { text: "v2" } }] }],
    });
    assert.equal(added!.version, "2.0.0");
    const rows = JSON.parse((await get(host, host.indexUrl)).body.toString()) as {
      Version: string;
      LastUpdate: string;
    }[];
    assert.equal(rows[0]!.Version, "2.0.0");
    assert.ok(rows[0]!.LastUpdate > before[0]!.LastUpdate);
    assert.equal(
      (await get(host, `${host.origin}/${manifestFolder("Contoso.Tool", "2.0.0")}/Contoso.Tool.yaml`)).status,
      200,
    );
    await assert.rejects(
      host.admin.publish({
        id: "Contoso.Tool",
        name: "Contoso Tool",
        publisher: "Contoso",
        versions: [
          { version: "2.0.0", installers: [{ architecture: "x64", type: "exe", content: { text: "again" } }] },
        ],
      }),
      /already published/,
    );
    await host.admin.reset();
    assert.equal(host.admin.installer("Contoso.Tool").version, "1.10.0");
  });

  it("serves feeds for own catalog entries: JSON, XML and a GitHub-style latest release", async () => {
    const i = host.admin.installer("Contoso.Tool");
    const json = JSON.parse((await get(host, `${host.origin}/feeds/Contoso.Tool.json`)).body.toString()) as Record<
      string,
      unknown
    >;
    assert.deepEqual([json.version, json.url, json.sha256], ["1.10.0", i.url, i.sha256]);
    const xml = (await get(host, `${host.origin}/feeds/Contoso.Tool.xml`)).body.toString();
    assert.match(xml, /<version>1\.10\.0<\/version>/);
    assert.ok(xml.includes(`sha256="${i.sha256}"`));
    const gh = JSON.parse(
      (await get(host, `${host.origin}/github/repos/Contoso/Tool/releases/latest`)).body.toString(),
    ) as { tag_name: string; assets: { browser_download_url: string; digest: string }[] };
    assert.equal(gh.tag_name, "v1.10.0");
    assert.equal(gh.assets[0]!.browser_download_url, i.url);
    assert.equal(gh.assets[0]!.digest, `sha256:${i.sha256}`);
  });

  it("has an HTTP admin API: publish, faults, requests, reset", async () => {
    const call = async (method: string, path: string, body?: unknown): Promise<Got> =>
      new Promise((resolve, reject) => {
        const text = body === undefined ? "" : JSON.stringify(body);
        const req = httpsRequest(
          `${host.origin}/_vendor/${path}`,
          { method, ca: host.caCertPem, agent: false, headers: { "content-type": "application/json" } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks),
                aborted: false,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end(text);
      });
    const product = {
      id: "Fabrikam.Agent",
      name: "Fabrikam Agent",
      publisher: "Fabrikam",
      versions: [{ version: "3.1", installers: [{ architecture: "x86", type: "inno", content: { text: "agent" } }] }],
    };
    assert.equal((await call("POST", "products", product)).status, 201);
    assert.equal((await call("POST", "products", product)).status, 409);
    const bad = await call("POST", "products", { ...product, id: "no-dot" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.toString(), /PackageIdentifier/);
    assert.equal((await call("POST", "faults", { kind: "notFound", product: "Fabrikam.Agent", count: 1 })).status, 201);
    assert.equal((await call("POST", "faults", { kind: "teapot" })).status, 400);
    assert.equal((await get(host, host.admin.installer("Fabrikam.Agent").url)).status, 404);
    const log = JSON.parse((await call("GET", "requests")).body.toString()) as { url: string; status: number }[];
    assert.equal(log.at(-1)!.status, 404);
    assert.equal((await call("POST", "reset")).status, 204);
    assert.deepEqual(host.admin.requests(), []);
    assert.throws(() => host.admin.installer("Fabrikam.Agent"));
  });
});

describe("vendor host: mirror of real winget manifests", () => {
  let host: VendorHost;
  before(async () => {
    host = await startVendorHost({
      seed: {
        mirrors: [
          {
            folder: fixture("winget", "pkgs"),
            content: { msi: { path: TINY_MSI }, wix: { path: TINY_MSI }, default: { generate: { bytes: 2048 } } },
          },
        ],
      },
    });
  });
  after(async () => {
    await host.close();
  });

  it("rewrites every installer's URL and hash to the file it serves, keeping the rest of each manifest", async () => {
    const index = JSON.parse((await get(host, host.indexUrl)).body.toString()) as {
      PackageId: string;
      Version: string;
    }[];
    assert.ok(index.length >= 18);
    const seven = index.find((r) => r.PackageId === "7zip.7zip")!;
    assert.equal(seven.Version, "26.03");
    let checked = 0;
    for (const p of host.admin.packages()) {
      for (const v of p.versions) {
        const folder = `${host.origin}/${manifestFolder(p.id, v)}`;
        // The installer manifest (multi-file) or the singleton holds the installers.
        let r = await get(host, `${folder}/${p.id}.installer.yaml`);
        if (r.status === 404) r = await get(host, `${folder}/${p.id}.yaml`);
        assert.equal(r.status, 200, `${p.id} ${v}`);
        const m = parseYaml(r.body.toString()) as {
          PackageIdentifier: string;
          Installers: { InstallerUrl: string; InstallerSha256: string }[];
        };
        assert.equal(m.PackageIdentifier, p.id);
        for (const inst of m.Installers) {
          assert.ok(inst.InstallerUrl.startsWith(`${host.origin}/dl/`), inst.InstallerUrl);
          const file = await get(host, inst.InstallerUrl);
          assert.equal(sha256(file.body).toUpperCase(), inst.InstallerSha256, inst.InstallerUrl);
          checked++;
        }
      }
    }
    assert.ok(checked >= 40, `${checked} installers`);
    // An MSI-type installer gets the MSI fixture.
    const git = await get(host, `${host.origin}/${manifestFolder("7zip.7zip", "16.0.4")}/7zip.7zip.yaml`);
    const single = parseYaml(git.body.toString()) as { ManifestType: string; Installers: { InstallerUrl: string }[] };
    assert.equal(single.ManifestType, "singleton");
    assert.deepEqual((await get(host, single.Installers[0]!.InstallerUrl)).body, await readFile(TINY_MSI));
  });
});

describe("vendor host: paths as clients send them, seeds as callers give them", () => {
  it("a manifest path with percent-encoded characters (Notepad%2B%2B, as a client encodes Notepad++) is served", async () => {
    const host = await startVendorHost({
      seed: {
        mirrors: [
          { folder: fixture("winget", "pkgs"), packages: ["Notepad++.Notepad++"], content: { default: { text: "x" } } },
        ],
      },
    });
    try {
      const v = host.admin.packages()[0]!.latest;
      const plain = `${host.origin}/${manifestFolder("Notepad++.Notepad++", v)}/Notepad++.Notepad++.yaml`;
      const encoded = plain.replaceAll("+", "%2B");
      assert.equal((await get(host, plain)).status, 200);
      const r = await get(host, encoded);
      assert.equal(r.status, 200, encoded);
      assert.equal(
        (parseYaml(r.body.toString()) as { PackageIdentifier: string }).PackageIdentifier,
        "Notepad++.Notepad++",
      );
    } finally {
      await host.close();
    }
  });

  it("takes an already parsed seed (with its baseDir), e.g. the built-in demo seed", async () => {
    const parsed = parseVendorSeed({ products: seed.products.slice(0, 1) }, { baseDir: fixture("msi") });
    const host = await startVendorHost({ seed: parsed });
    try {
      assert.deepEqual(
        host.admin.packages().map((p) => p.id),
        ["Contoso.Tool"],
      );
    } finally {
      await host.close();
    }
  });
});

describe("vendor host: seed and options", () => {
  const refused = (input: unknown, pattern: RegExp): void => {
    assert.throws(
      () => parseVendorSeed(input),
      (e: unknown) => isPublisherError(e) && e.kind === "input" && pattern.test(e.message),
    );
  };
  const product = (patch: Record<string, unknown>, version: Record<string, unknown> = {}): unknown => ({
    products: [
      {
        id: "Contoso.Tool",
        name: "n",
        publisher: "p",
        versions: [
          { version: "1.0", installers: [{ architecture: "x64", type: "exe", content: { text: "x" } }], ...version },
        ],
        ...patch,
      },
    ],
  });

  it("refuses unknown keys, bad identifiers and versions, and fields the host writes, naming the field", () => {
    refused({ prodcts: [] }, /prodcts/);
    refused(product({ id: "NoDot" }), /products\.0\.id: .*PackageIdentifier/);
    refused(product({}, { version: ".." }), /products\.0\.versions\.0\.version/);
    refused(product({}, { version: "1/../../etc" }), /products\.0\.versions\.0\.version/);
    refused(
      product(
        {},
        {
          installers: [{ architecture: "x64", type: "exe", content: { text: "x" }, fields: { InstallerUrl: "x" } }],
        },
      ),
      /fields must not set InstallerUrl/,
    );
    refused({ faults: [{ kind: "redirect", path: "(" }] }, /path must be a valid regular expression/);
  });

  it("listens on loopback only", async () => {
    await assert.rejects(
      startVendorHost({ host: "0.0.0.0" }),
      (e: unknown) => isPublisherError(e) && e.code === "NotLoopback",
    );
  });

  it("orders versions as winget does", () => {
    const sorted = ["1.10.0", "1.2", "1.2.0.1", "1.0-beta", "1.0", "v2", "1.2.0"].sort(compareWingetVersions);
    assert.deepEqual(sorted, ["1.0-beta", "1.0", "1.2", "1.2.0", "1.2.0.1", "1.10.0", "v2"]);
  });
});
