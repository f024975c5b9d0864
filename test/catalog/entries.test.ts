// Our own catalog entries: the schema refuses hostile values with file:line:column, and each kind of version source
// (fixed URL, JSON feed, XML feed, GitHub latest release) is resolved over real HTTPS (local CA), then turned into a
// definition by the same rules as winget manifests.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadOrCreatePki } from "../../emulator/pki.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import type { Reply, ScriptedServer } from "../../src/clients/http/testing/scripted-server.js";
import { startScriptedServer } from "../../src/clients/http/testing/scripted-server.js";
import type { FetchTransport } from "../../src/clients/http/transport.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import { openCatalogSource, searchCatalog, showProduct } from "../../src/catalog/catalog.js";
import { globToRegExp, jsonAt, parseXml, xmlAt } from "../../src/catalog/entries/resolve.js";
import { EntriesSource, loadEntry } from "../../src/catalog/entries/source.js";
import { ManifestError } from "../../src/catalog/errors.js";
import type { CatalogHttp } from "../../src/catalog/http.js";
import { catalogHttp } from "../../src/catalog/http.js";
import { isPublisherError } from "../../src/core/errors.js";
import { useScratch } from "../support/scratch.js";

const SHA = "ab".repeat(32);

const rejectsWith = (code: string, pattern?: RegExp) => (e: unknown) =>
  isPublisherError(e) && e.code === code && (pattern === undefined || pattern.test(e.message));

function entryYaml(source: string, installer = "installer:\n  type: msi\n"): string {
  return `id: Contoso.Notes\nname: Contoso Notes\npublisher: Contoso Ltd.\ntags: [notes]\n${installer}source:\n${source}`;
}

describe("catalog entries: the schema refuses what it must, with positions", () => {
  const scratch = useScratch("catalog-entry-");
  const refused = async (text: string, expected: RegExp) => {
    const file = join(await scratch(), "entry.yaml");
    await writeFile(file, text);
    await assert.rejects(loadEntry(file), (e: unknown) => {
      assert.ok(e instanceof ManifestError, String(e));
      assert.match(e.message, expected);
      assert.match(e.message, /entry\.yaml:\d+:\d+: /);
      return true;
    });
  };

  it("accepts a complete entry", async () => {
    const file = join(await scratch(), "entry.yaml");
    await writeFile(file, entryYaml("  kind: fixed\n  url: https://contoso.example/notes/latest.msi\n"));
    const { entry } = await loadEntry(file);
    assert.equal(entry.installer.architecture, "x64");
    assert.equal(entry.source.kind, "fixed");
  });

  it("refuses unknown keys, and a source of an unknown kind", async () => {
    await refused(
      entryYaml("  kind: fixed\n  url: https://c.example/a.msi\n  mirror: x\n"),
      /source\.mirror: Unknown key "mirror"/,
    );
    await refused(entryYaml("  kind: ftp\n  url: https://c.example/a.msi\n"), /kind is fixed, json, xml or github/);
  });

  it("refuses an http:// URL unless a sha256 pins the file", async () => {
    await refused(
      entryYaml("  kind: fixed\n  url: http://c.example/a.msi\n"),
      /source\.url: An http:\/\/ URL needs sha256/,
    );
    const file = join(await scratch(), "ok.yaml");
    await writeFile(file, entryYaml(`  kind: fixed\n  url: http://c.example/a.msi\n  sha256: ${SHA}\n`));
    await loadEntry(file);
  });

  it("refuses control characters, a file name with .. or a folder, a fixed URL for an exe", async () => {
    await refused(
      entryYaml('  kind: fixed\n  url: "https://c.example/a.msi\\u0007"\n'),
      /source\.url: source\.url must be one line/,
    );
    await refused(
      entryYaml(
        "  kind: fixed\n  url: https://c.example/a.msi\n",
        "installer:\n  type: msi\n  fileName: ../evil.msi\n",
      ),
      /installer\.fileName: installer\.fileName is one file name/,
    );
    await refused(
      entryYaml("  kind: fixed\n  url: https://c.example/a.msi\n", "installer:\n  type: msi\n  fileName: a..msi\n"),
      /must not contain \.\./,
    );
    await refused(
      entryYaml(
        "  kind: fixed\n  url: https://c.example/a.exe\n",
        "installer:\n  type: exe\n  switches: { silent: /S }\n",
      ),
      /A fixed URL needs an MSI \(installer\.type msi or wix\).*give a feed that names the version/,
    );
    await refused(
      entryYaml(
        "  kind: json\n  feed: https://c.example/f.json\n  version: v\n  url: u\n",
        "installer:\n  type: exe\n",
      ),
      /An exe needs switches\.silent/,
    );
  });

  it("refuses paths that are not paths", async () => {
    await refused(
      entryYaml("  kind: json\n  feed: https://c.example/f.json\n  version: a..b\n  url: u\n"),
      /source\.version is a path/,
    );
    await refused(
      entryYaml("  kind: xml\n  feed: https://c.example/f.xml\n  version: rss/item\n  url: /a/@u\n"),
      /source\.version is a path/,
    );
  });
});

describe("catalog entries: feed paths", () => {
  it("reads JSON paths with dots and indexes", () => {
    const data = { releases: [{ version: "2.0", files: { x64: { url: "u" } } }], $meta: 1 };
    assert.equal(jsonAt(data, "releases[0].version"), "2.0");
    assert.equal(jsonAt(data, "$.releases[0].files.x64.url"), "u");
    assert.equal(jsonAt(data, "releases[1].version"), undefined);
    assert.equal(jsonAt(data, "constructor"), undefined, "no inherited properties");
  });
  it("reads XML paths with 1-based indexes, attributes and prefixes", () => {
    const doc = parseXml(
      '<rss xmlns:sparkle="s"><channel><item><enclosure url="https://a/1.msi" sparkle:version="1.0"/></item><item><enclosure url="https://a/2.msi" sparkle:version="2.0"/><title>Two</title></item></channel></rss>',
    );
    assert.equal(xmlAt(doc, "/rss/channel/item/enclosure/@url"), "https://a/1.msi");
    assert.equal(xmlAt(doc, "/rss/channel/item[2]/enclosure/@sparkle:version"), "2.0");
    assert.equal(xmlAt(doc, "/rss/channel/item[2]/title"), "Two");
    assert.throws(() => parseXml("<a><b></a>"));
  });
  it("matches asset patterns on the whole name, case-insensitively", () => {
    assert.ok(globToRegExp("*-x64.msi").test("Notes-2.0-X64.MSI"));
    assert.ok(!globToRegExp("*-x64.msi").test("Notes-2.0-x64.msi.sha256"));
    assert.ok(globToRegExp("notes-?.?.exe").test("notes-2.0.exe"));
    assert.ok(!globToRegExp("a.b").test("axb"), "a dot is a dot");
  });
});

describe("catalog entries: version sources over HTTPS", () => {
  let server: ScriptedServer;
  let transport: FetchTransport;
  let http: CatalogHttp;
  let origin: string;
  const scratch = useScratch("catalog-entries-");
  const replies = new Map<string, Reply>();

  before(async () => {
    const pki = await loadOrCreatePki();
    server = await startScriptedServer((req) => replies.get(req.url) ?? { status: 404, body: "" }, {
      cert: pki.serverCertPem,
      key: pki.serverKeyPem,
    });
    origin = server.origin;
    transport = createFetchTransport({ trustedCaPem: pki.caCertPem });
    http = catalogHttp(createHttpPipeline({ transport: transport.send, retry: { sleep: async () => undefined } }));
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  const folder = async (files: Record<string, string>) => {
    const dir = await scratch();
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return EntriesSource.open(dir, http);
  };

  it("a JSON feed: version, URL and hash from their paths; a definition like a winget one", async () => {
    replies.set("/notes/latest.json", {
      status: 200,
      body: {
        name: "Notes",
        releases: [{ version: "2.4.1", x64: { url: `${origin}/dl/notes-2.4.1-x64.msi`, sha256: SHA.toUpperCase() } }],
      },
    });
    const source = await folder({
      "notes.yaml": entryYaml(
        `  kind: json\n  feed: ${origin}/notes/latest.json\n  version: releases[0].version\n  url: releases[0].x64.url\n  sha256: releases[0].x64.sha256\n`,
        "installer:\n  type: msi\n  productCode: '{11111111-2222-3333-4444-555555555555}'\n",
      ),
    });
    assert.equal((await searchCatalog([source], "notes"))[0]!.id, "Contoso.Notes");
    const r = await showProduct(source, "Contoso.Notes");
    assert.equal(r.version, "2.4.1");
    assert.equal(r.installer.url, `${origin}/dl/notes-2.4.1-x64.msi`);
    assert.equal(r.installer.sha256, SHA);
    assert.equal(r.definition!.install.command, 'msiexec /i "notes-2.4.1-x64.msi" /qn /norestart ALLUSERS=1');
    assert.deepEqual(r.definition!.detection, [
      {
        type: "msi",
        productCode: "{11111111-2222-3333-4444-555555555555}",
        operator: "greaterThanOrEqual",
        value: "2.4.1",
      },
    ]);
    assert.ok(r.explanations.some((e) => e.includes(`the JSON feed ${origin}/notes/latest.json`)));
  });

  it("an XML feed (an appcast)", async () => {
    replies.set("/notes/appcast.xml", {
      status: 200,
      body: `<?xml version="1.0"?><rss xmlns:sparkle="http://www.andymatuschak.org/xml-namespaces/sparkle"><channel><item><enclosure url="${origin}/dl/notes-3.0.exe" sparkle:version="3.0"/></item></channel></rss>`,
      headers: { "content-type": "application/xml" },
    });
    const source = await folder({
      "notes.yaml": entryYaml(
        `  kind: xml\n  feed: ${origin}/notes/appcast.xml\n  version: /rss/channel/item/enclosure/@sparkle:version\n  url: /rss/channel/item/enclosure/@url\n`,
        "installer:\n  type: nullsoft\n  displayName: Contoso Notes\n",
      ),
    });
    const r = await showProduct(source, "Contoso.Notes");
    assert.equal(r.version, "3.0");
    assert.equal(r.installer.sha256, null, "no published hash: the first download records it in the lock file");
    assert.equal(r.definition!.install.command, '"notes-3.0.exe" /S');
    assert.match(r.files.find((f) => f.path === "detect.ps1")!.text, /^\$DisplayName = 'Contoso Notes'$/m);
  });

  it("a GitHub latest release: the one asset matching the pattern, its digest as the hash", async () => {
    replies.set("/api/repos/contoso/notes/releases/latest", {
      status: 200,
      body: {
        tag_name: "v5.1.0",
        assets: [
          {
            name: "notes-5.1.0-x64.msi",
            browser_download_url: `${origin}/gh/notes-5.1.0-x64.msi`,
            digest: `sha256:${SHA}`,
          },
          { name: "notes-5.1.0-arm64.msi", browser_download_url: `${origin}/gh/notes-5.1.0-arm64.msi` },
        ],
      },
    });
    const source = await folder({
      "notes.yaml": entryYaml(
        `  kind: github\n  repository: contoso/notes\n  asset: "*-x64.msi"\n  api: ${origin}/api\n`,
      ),
    });
    const r = await showProduct(source, "Contoso.Notes");
    assert.equal(r.version, "5.1.0");
    assert.equal(r.installer.url, `${origin}/gh/notes-5.1.0-x64.msi`);
    assert.equal(r.installer.sha256, SHA);
    const ambiguous = await folder({
      "notes.yaml": entryYaml(`  kind: github\n  repository: contoso/notes\n  asset: "*.msi"\n  api: ${origin}/api\n`),
    });
    await assert.rejects(
      showProduct(ambiguous, "Contoso.Notes"),
      rejectsWith("CatalogFeedInvalid", /2 assets of release v5\.1\.0 match/),
    );
  });

  it("a fixed URL: the version comes from the MSI after download; with its facts, a definition", async () => {
    const source = await folder({ "notes.yaml": entryYaml(`  kind: fixed\n  url: ${origin}/dl/latest.msi\n`) });
    const pending = await showProduct(source, "Contoso.Notes");
    assert.equal(pending.version, null);
    assert.equal(pending.definition, null);
    assert.match(pending.pending!, /ProductVersion/);
    const r = await showProduct(source, "Contoso.Notes", {
      msi: { productCode: "{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}", productVersion: "7.2.0" },
    });
    assert.equal(r.version, "7.2.0");
    assert.equal(r.definition!.uninstall.command, "msiexec /x {AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE} /qn /norestart");
  });

  it("refuses what a feed says when it is hostile: credentials, http without a hash, a version that is a path", async () => {
    const feed = (body: unknown) => {
      replies.set("/hostile.json", { status: 200, body });
      return folder({
        "e.yaml": entryYaml(
          `  kind: json\n  feed: ${origin}/hostile.json\n  version: v\n  url: u\n`,
          "installer:\n  type: msi\n",
        ),
      });
    };
    await assert.rejects(
      showProduct(await feed({ v: "1.0", u: "https://user:pw@c.example/a.msi" }), "Contoso.Notes"),
      (e: unknown) => rejectsWith("UrlWithCredentials")(e) && !(e as Error).message.includes("pw@"),
    );
    await assert.rejects(
      showProduct(await feed({ v: "1.0", u: "http://c.example/a.msi" }), "Contoso.Notes"),
      rejectsWith("InsecureUrl"),
    );
    await assert.rejects(
      showProduct(await feed({ v: "../../x", u: "https://c.example/a.msi" }), "Contoso.Notes"),
      rejectsWith("CatalogFeedInvalid", /cannot be a version/),
    );
    await assert.rejects(
      showProduct(await feed({ v: "1.0\n2", u: "https://c.example/a.msi" }), "Contoso.Notes"),
      rejectsWith("CatalogFeedInvalid"),
    );
    await assert.rejects(
      showProduct(await feed({ u: "https://c.example/a.msi" }), "Contoso.Notes"),
      rejectsWith("CatalogFeedInvalid", /no version at v/),
    );
    replies.set("/huge.json", {
      status: 200,
      body: "x".repeat(4 * 1024 * 1024 + 1),
      headers: { "content-length": String(4 * 1024 * 1024 + 1) },
    });
    const huge = await folder({
      "e.yaml": entryYaml(`  kind: json\n  feed: ${origin}/huge.json\n  version: v\n  url: u\n`),
    });
    await assert.rejects(showProduct(huge, "Contoso.Notes"), rejectsWith("ResponseTooLarge"));
  });

  it("a folder of entries: duplicate ids refused, found by openCatalogSource", async () => {
    const dir = await scratch();
    await writeFile(join(dir, "a.yaml"), entryYaml(`  kind: fixed\n  url: ${origin}/a.msi\n`));
    await writeFile(join(dir, "b.yaml"), entryYaml(`  kind: fixed\n  url: ${origin}/b.msi\n`));
    const source = await openCatalogSource(dir, { http });
    assert.equal(source.kind, "entries");
    await assert.rejects(
      source.index(),
      (e: unknown) => e instanceof ManifestError && /already used by .*a\.yaml/.test(e.message),
    );
  });
});
