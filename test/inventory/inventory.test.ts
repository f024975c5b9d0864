import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { zipStream } from "../../emulator/graph/reports/zip-stream.js";
import { defaultSeed } from "../../emulator/seed.js";
import { startLocalTenant } from "../../emulator/server.js";
import { GraphClient } from "../../src/clients/graph/client.js";
import { IntuneApi } from "../../src/clients/graph/intune.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import { createStreamTransport } from "../../src/clients/http/stream-transport.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import { isPublisherError } from "../../src/core/errors.js";
import { parseCsv } from "../../src/inventory/csv.js";
import { readInventoryByExport, readReportZip, REPORT_COLUMNS } from "../../src/inventory/export.js";
import { CatalogMatcher, normaliseName, normalisePublisher } from "../../src/inventory/match.js";
import { readInventoryByDetectedApps } from "../../src/inventory/read.js";
import { buildReport } from "../../src/inventory/report.js";
import { definitionIdFor, legacyUpdateOnlyDefinitionId } from "../../src/catalog/to-definition.js";
import { planAutoPublish, updateOnlyTwinId } from "../../src/publish/sync/auto-publish.js";
import type { AutoRecord } from "../../src/publish/sync/auto-publish.js";
import { checkSubscriptionsText } from "../../src/publish/sync/subscriptions.js";
import { useScratch } from "../support/scratch.js";

const scratch = useScratch("ip-inventory-");

async function records(chunks: string[]): Promise<string[][]> {
  const out: string[][] = [];
  for await (const r of parseCsv(
    (async function* () {
      yield* chunks;
    })(),
    "test.csv",
  ))
    out.push(r);
  return out;
}

describe("CSV parser (RFC 4180, streaming)", () => {
  it("quoted commas, doubled quotes and line breaks, CRLF or LF, split anywhere across chunks", async () => {
    const text = 'a,"b,1","say ""hi"""\r\n"multi\r\nline",,x\n"",y,"z"\r\n';
    const whole = await records([text]);
    assert.deepEqual(whole, [
      ["a", "b,1", 'say "hi"'],
      ["multi\r\nline", "", "x"],
      ["", "y", "z"],
    ]);
    for (let i = 1; i < text.length; i++)
      assert.deepEqual(await records([text.slice(0, i), text.slice(i)]), whole, `split at ${i}`);
    for (let i = 1; i < text.length - 1; i++)
      assert.deepEqual(await records([...text.slice(0, i)].concat(text.slice(i))), whole, `chars to ${i}`);
  });

  for (const [text, why] of [
    ['a,"b\r\n', /line 1 .*not closed/],
    ['a,b\r\nc,"d"e\r\n', /line 2 .*text after a closing quote/],
    ['a,b"c\r\n', /line 1 .*quote inside an unquoted field/],
  ] as const) {
    it(`refuses ${JSON.stringify(text)} naming the line`, async () => {
      await assert.rejects(
        records([text]),
        (e: unknown) => isPublisherError(e) && e.code === "MalformedReport" && why.test(e.message),
      );
    });
  }
});

describe("matching", () => {
  it("normalises versions, architectures, trademark signs, brackets and company forms", () => {
    assert.equal(normaliseName("Notepad++ (64-bit x64)"), "notepad++");
    assert.equal(normaliseName("WinSCP 6.5.7"), "winscp");
    assert.equal(normaliseName("Contoso® Editor™ v2.1 x64"), "contoso editor");
    assert.equal(normalisePublisher("Fabrikam, Inc."), "fabrikam");
    assert.equal(normalisePublisher("Microsoft Corporation"), "microsoft");
  });

  it("ranks AppsAndFeaturesEntries over the product name, then the package id and tags; each says why", () => {
    const m = new CatalogMatcher([
      {
        id: "Contoso.Editor",
        name: "Editor",
        publisher: "Contoso",
        version: "3.0",
        tags: [],
        arp: [{ displayName: "Contoso Editor (x64)", publisher: "Contoso Ltd" }],
      },
      { id: "Fabrikam.Viewer", name: "Fabrikam Viewer", publisher: "Fabrikam", version: "1.0", tags: ["pdf-viewer"] },
      { id: "Tailspin.Agent", name: "Agent", publisher: "Tailspin", version: "1.0", tags: [] },
    ]);
    assert.deepEqual(m.match("Contoso Editor 2.0", "Contoso, Ltd."), {
      catalogId: "Contoso.Editor",
      confidence: 0.95,
      reason: "AppsAndFeaturesEntries DisplayName and publisher",
    });
    assert.equal(m.match("Fabrikam Viewer", "Fabrikam Inc")?.reason, "product name and publisher");
    assert.equal(m.match("Fabrikam Viewer", "Someone")?.reason, "product name (publisher differs)");
    assert.equal(m.match("Agent", "Tailspin")?.catalogId, "Tailspin.Agent");
    assert.equal(m.match("Tailspin Agent", "")?.reason, "package id");
    assert.equal(m.match("PDF Viewer", "")?.reason, "tag");
    assert.equal(m.match("Unknown Thing", "Nobody"), undefined);
  });

  it("outdated devices use winget's ordering (1.10 is newer than 1.9)", () => {
    const m = new CatalogMatcher([{ id: "A.B", name: "Thing", publisher: "A", version: "1.10", tags: [] }]);
    const [row] = buildReport(
      [
        { name: "Thing", publisher: "A", version: "1.9", devices: 4 },
        { name: "Thing", publisher: "A", version: "1.10", devices: 2 },
      ],
      m,
    );
    assert.deepEqual(
      row?.versions.map((v) => v.version),
      ["1.10", "1.9"],
    );
    assert.equal(row?.outdatedDevices, 4);
  });

  it("published: by the definition ids sync gives the product (Notepad++ → notepadpp.notepadpp, -x86, -updates); subscribed as given", () => {
    const m = new CatalogMatcher([
      { id: "Notepad++.Notepad++", name: "Notepad++", publisher: "Notepad++", version: "8.6", tags: [] },
      { id: "Contoso.Tool", name: "Tool", publisher: "Contoso", version: "2.0", tags: [] },
      { id: "Fabrikam.Editor", name: "Editor", publisher: "Fabrikam", version: "1.0", tags: [] },
    ]);
    const rows = buildReport(
      [
        { name: "Notepad++ (64-bit x64)", publisher: "Notepad++ Team", version: "8.5", devices: 3 },
        { name: "Tool", publisher: "Contoso", version: "1.0", devices: 2 },
        { name: "Editor", publisher: "Fabrikam", version: "1.0", devices: 1 },
      ],
      m,
      {
        published: new Set(["notepadpp.notepadpp", "contoso.tool-x86-updates", "fabrikam.editor.old"]),
        subscribed: new Map([
          ["contoso.tool", "auto"],
          ["fabrikam.editor", "file"],
        ]),
      },
    );
    assert.deepEqual(
      rows.map((r) => [r.catalogId, r.published, r.subscribed]),
      [
        ["Notepad++.Notepad++", true, null],
        ["Contoso.Tool", true, "auto"],
        ["Fabrikam.Editor", false, "file"],
      ],
    );
  });
});

describe("report zip", () => {
  it("an entry whose inflated size differs from the size the zip declares is refused as damaged", async () => {
    const csv =
      '"ApplicationName","ApplicationPublisher","ApplicationVersion","DeviceId"\r\n"Tool","Contoso","1.0","d1"\r\n';
    const parts: Buffer[] = [];
    for await (const b of zipStream("r.csv", [csv], { now: new Date("2026-01-01T00:00:00Z") })) parts.push(b as Buffer);
    const zip = Buffer.concat(parts);
    const dir = await scratch();
    const good = join(dir, "good.zip");
    await writeFile(good, zip);
    assert.equal((await readReportZip(good, "The report")).rows, 1);
    // the central directory's uncompressed size (offset 24 of its header) one byte larger
    const central = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    zip.writeUInt32LE(zip.readUInt32LE(central + 24) + 1, central + 24);
    const bad = join(dir, "bad.zip");
    await writeFile(bad, zip);
    await assert.rejects(
      readReportZip(bad, "The report"),
      (e: unknown) => isPublisherError(e) && e.code === "TruncatedReport",
    );
  });
});

describe("update-only twins of long catalog ids", () => {
  // 57 and 71 characters as definition ids: the twin's id (`-updates` added) must be cut to 64
  const long57 = "Contoso.Enterprise.DocumentManagement.Suite.Desktop.Alpha";
  const long71 = "Contoso.Enterprise.DocumentManagement.Suite.Desktop.Client.Edition.2024";
  const products = [long57, long71].map((id) => ({ id, name: id, publisher: "Contoso", version: "1.0", tags: [] }));

  it("the inventory's published column finds the twin sync creates for an id over 56 characters", () => {
    for (const id of [long57, long71]) {
      const twin = updateOnlyTwinId(id);
      assert.ok(twin.length <= 64 && twin.endsWith("-updates"), twin);
      const [row] = buildReport(
        [{ name: id, publisher: "Contoso", version: "1.0", devices: 5 }],
        new CatalogMatcher(products),
        {
          published: new Set([twin]),
        },
      );
      assert.equal(row?.catalogId, id);
      assert.equal(row?.published, true, `${id}: its twin ${twin} is published`);
    }
  });

  // Earlier versions cut the twin's id to 56 characters and added `-updates` (no hash).
  const oldCut = (id: string): string =>
    `${definitionIdFor(id)
      .slice(0, 56)
      .replace(/[^a-z0-9]+$/, "")}-updates`;

  it("the published column finds a twin published under the cut id of earlier versions", () => {
    for (const id of [long57, long71]) {
      assert.notEqual(oldCut(id), updateOnlyTwinId(id), "the two ids differ for a long id");
      assert.equal(legacyUpdateOnlyDefinitionId(definitionIdFor(id)), oldCut(id));
      const [row] = buildReport(
        [{ name: id, publisher: "Contoso", version: "1.0", devices: 5 }],
        new CatalogMatcher(products),
        {
          published: new Set([oldCut(id)]),
        },
      );
      assert.equal(row?.published, true, `${id}: its twin ${oldCut(id)} is published`);
    }
  });

  it("auto-publish keeps a recorded twin under the cut id it was published with; a new twin gets the current id", () => {
    const subscriptions = checkSubscriptionsText(
      ["source: https://vendor.example", "products: []", "autoPublish:", "  minDevices: 2", "  mode: both", ""].join(
        "\n",
      ),
      "subscriptions.yaml",
    );
    const apps = [long57, long71].map((id) => ({ name: id, publisher: "Contoso", version: "1.0", devices: 5 }));
    const entry = (id: string, mode: "application" | "updateOnly", definitionId: string) => ({
      id,
      mode,
      definitionId,
      devices: 5,
      minDevices: 2,
      firstPublishedAt: "2026-12-01T00:00:00.000Z",
      lastSyncedAt: "2026-12-01T00:00:00.000Z",
      reason: "auto: seen on 5 devices ≥ 2",
    });
    const record: AutoRecord = {
      format: 1,
      tenant: "t",
      products: [entry(long57, "application", definitionIdFor(long57)), entry(long57, "updateOnly", oldCut(long57))],
    };
    const twins = (r: AutoRecord) =>
      planAutoPublish({ subscriptions, apps, catalog: products, record: r })
        .filter((e) => e.sub.mode === "updateOnly")
        .map((e) => [e.sub.id, e.definitionId, e.auto.recorded]);
    assert.deepEqual(twins(record), [
      [long57, oldCut(long57), true],
      [long71, updateOnlyTwinId(long71), false],
    ]);
    assert.deepEqual(twins({ ...record, products: [] }), [
      [long57, updateOnlyTwinId(long57), false],
      [long71, updateOnlyTwinId(long71), false],
    ]);
  });

  it("ids that differ only after the 56th character get different twins, each within 64 characters", () => {
    const a = updateOnlyTwinId(`${long57}One`);
    const b = updateOnlyTwinId(`${long57}Two`);
    const c = updateOnlyTwinId(`${long71}.One`);
    const d = updateOnlyTwinId(`${long71}.Two`);
    assert.equal(new Set([a, b, c, d]).size, 4, [a, b, c, d].join(" "));
    for (const t of [a, b, c, d]) assert.ok(t.length <= 64 && t.endsWith("-updates"), t);
    assert.equal(updateOnlyTwinId("Contoso.Tool"), "contoso.tool-updates", "short ids keep the plain suffix");
  });
});

describe("export path against the local tenant", () => {
  it("generated inventory: the export and detectedApps give the same apps; a stuck job times out; 403 without the permission", async () => {
    const seed = { ...defaultSeed(), detectedApps: { devices: 300, appsPerDevice: 6, seed: 2 } };
    const lt = await startLocalTenant({ seed, throttling: false, exportJobs: { startDelayMs: 20, runDelayMs: 20 } });
    const fetch = createFetchTransport({ trustedCaPem: lt.caCertPem });
    const stream = createStreamTransport({ trustedCaPem: lt.caCertPem });
    const apiWith = (roles?: string[]) =>
      new IntuneApi(
        new GraphClient({
          pipeline: createHttpPipeline({
            transport: fetch.send,
            tokenProvider: {
              getToken: async () => ({
                token: lt.admin.issueToken(roles ? { roles } : {}),
                expiresOn: Date.now() + 3_600_000,
              }),
            },
          }),
          baseUrl: lt.graphBaseUrl,
        }),
      );
    const api = apiWith();
    const workDir = await scratch();
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      await new Promise((r) => setTimeout(r, 5));
    };
    try {
      const exported = await readInventoryByExport({
        api,
        transport: stream,
        workDir,
        poll: { initialIntervalMs: 10, sleep },
      });
      assert.equal(exported.rows, 300 * 6);
      const detected = await readInventoryByDetectedApps(api);
      const key = (a: { name: string; version: string; devices: number }) => `${a.name}|${a.version}|${a.devices}`;
      assert.deepEqual(exported.apps.map(key).sort(), detected.map(key).sort());

      lt.admin.addExportJobFault("stuck");
      waits.length = 0;
      await assert.rejects(
        readInventoryByExport({
          api,
          transport: stream,
          workDir,
          poll: { initialIntervalMs: 100, maxIntervalMs: 400, deadlineMs: 3000, sleep },
        }),
        (e: unknown) => isPublisherError(e) && e.kind === "timeout" && /still inProgress/.test(e.message),
      );
      assert.deepEqual(
        waits,
        [100, 100, 100, 100, 100, 125, 156, 195, 244, 305, 381, 400, 400, 294],
        "each wait is a quarter of the time waited, at least the first interval and at most the maximum, until the deadline",
      );

      await assert.rejects(
        apiWith(["DeviceManagementApps.Read.All"]).createExportJob({
          reportName: "AppInvRawData",
          format: "csv",
          select: [...REPORT_COLUMNS],
          localizationType: "localizedValuesAsAdditionalColumn",
        }),
        (e: unknown) => isPublisherError(e) && e.kind === "permission",
      );
    } finally {
      await stream.close();
      await fetch.close();
      await lt.admin.exportJobsSettled();
      await lt.close();
    }
  });
});
