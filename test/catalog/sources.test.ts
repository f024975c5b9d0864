// Catalog sources: a folder in the winget-pkgs layout (the real corpus) and an HTTPS base URL with index.v2.json
// (a real HTTPS server with the local tenant's CA, serving the same corpus), search over their indexes, and what a
// hostile tree, index or server gets.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadOrCreatePki } from "../../emulator/pki.js";
import { NetworkError, ResponseTooLargeError } from "../../src/clients/http/errors.js";
import { createHttpPipeline } from "../../src/clients/http/pipeline.js";
import type { Reply, ScriptedServer } from "../../src/clients/http/testing/scripted-server.js";
import { startScriptedServer } from "../../src/clients/http/testing/scripted-server.js";
import type { FetchTransport } from "../../src/clients/http/transport.js";
import { createFetchTransport } from "../../src/clients/http/transport.js";
import { openCatalogSource, searchCatalog, showProduct } from "../../src/catalog/catalog.js";
import { isPublisherError } from "../../src/core/errors.js";
import type { CatalogHttp } from "../../src/catalog/http.js";
import { catalogHttp } from "../../src/catalog/http.js";
import { CatalogIndex, parseIndexJson } from "../../src/catalog/search.js";
import { WingetFolderSource } from "../../src/catalog/sources/winget-folder.js";
import { WingetHttpsSource } from "../../src/catalog/sources/winget-https.js";
import { useScratch } from "../support/scratch.js";
import { WINGET_PKGS } from "../support/winget.js";

const rejectsWith = (code: string, pattern?: RegExp) => (e: unknown) =>
  isPublisherError(e) && e.code === code && (pattern === undefined || pattern.test(e.message)) && e.hint !== undefined;

describe("catalog source: a folder in the winget-pkgs layout", () => {
  let source: WingetFolderSource;
  before(async () => {
    source = await WingetFolderSource.open(WINGET_PKGS);
  });

  it("builds its index by walking the tree when it has no index.v2.json (names, monikers, tags, every version)", async () => {
    const index = await source.index();
    assert.equal(index.entries.length, 18);
    const npp = index.get("notepad++.notepad++")!;
    assert.equal(npp.name, "Notepad++");
    assert.equal(npp.version, "8.9.8.1");
    assert.deepEqual(npp.versions!.sort(), ["8.4.9", "8.9.8.1"]);
    assert.equal(index.get("Microsoft.PowerToys")!.version, "0.101.2362.0", "winget's order, not text order");
  });

  it("searches ids, names, monikers and tags, best matches first", async () => {
    const [first] = await searchCatalog([source], "notepad++");
    assert.equal(first!.id, "Notepad++.Notepad++");
    assert.equal(first!.source, source.label);
    assert.deepEqual(
      (await searchCatalog([source], "python")).map((h) => h.id),
      ["Python.Python.3.12"],
    );
    const code = await searchCatalog([source], "vscode");
    assert.equal(code[0]!.id, "Microsoft.VisualStudioCode");
    const words = await searchCatalog([source], "visual studio code");
    assert.equal(words[0]!.id, "Microsoft.VisualStudioCode");
    assert.deepEqual(await searchCatalog([source], "no-such-product-anywhere"), []);
  });

  it("lists versions newest first and refuses ids and versions that cannot name a folder", async () => {
    assert.deepEqual(await source.versions("Git.Git"), ["2.55.0.5", "2.33.1.windows.1"]);
    assert.deepEqual(await source.versions("Nobody.Nothing"), []);
    for (const id of ["../etc", "Git", "Git..Git", "a/b.c", "Git.Git\u0000"])
      await assert.rejects(showProduct(source, id), rejectsWith("InvalidPackageId"));
    for (const version of ["..", ".", "1/2", "1\\2", "1\n2"])
      await assert.rejects(showProduct(source, "Git.Git", { version }), rejectsWith("InvalidPackageVersion"));
    await assert.rejects(showProduct(source, "Git.Git", { version: "9.9.9" }), rejectsWith("PackageVersionNotFound"));
    await assert.rejects(
      showProduct(source, "Nobody.Nothing"),
      rejectsWith("PackageNotFound", /Nobody\.Nothing is not in winget folder/),
    );
  });
});

describe("catalog source: a hostile folder", () => {
  const scratch = useScratch("catalog-folder-");
  const manifest = (id: string, version: string) =>
    [
      `PackageIdentifier: ${id}`,
      `PackageVersion: ${version}`,
      "PackageLocale: en-US",
      "PackageName: Demo",
      "Publisher: Demo",
      "License: MIT",
      "ShortDescription: demo",
      "InstallerType: nullsoft",
      "Installers:",
      "  - Architecture: x64",
      "    InstallerUrl: https://vendor.example/demo.exe",
      `    InstallerSha256: ${"A".repeat(64)}`,
      "ManifestType: singleton",
      "ManifestVersion: 1.6.0",
      "",
    ].join("\n");
  const layout = async () => {
    const root = await scratch();
    const dir = join(root, "manifests", "d", "Demo", "App", "1.0");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "Demo.App.yaml"), manifest("Demo.App", "1.0"));
    return { root, dir };
  };

  it("reads a manifest of its own tree", async () => {
    const { root } = await layout();
    const r = await showProduct(await WingetFolderSource.open(root), "Demo.App");
    assert.equal(r.definition!.install.command, '"demo.exe" /S');
  });

  it("refuses a version folder that is a link leading out of the tree", async () => {
    const { root } = await layout();
    const outside = await scratch();
    await writeFile(join(outside, "Demo.App.yaml"), manifest("Demo.App", "2.0"));
    await symlink(outside, join(root, "manifests", "d", "Demo", "App", "2.0"));
    const source = await WingetFolderSource.open(root);
    await assert.rejects(showProduct(source, "Demo.App", { version: "2.0" }), rejectsWith("OutsideAllowedRoots"));
  });

  it("refuses a manifest that is a named pipe or over 1 MiB, naming the file and the limit", async () => {
    const { root, dir } = await layout();
    execFileSync("mkfifo", [join(dir, "Demo.App.locale.de-DE.yaml")]);
    const source = await WingetFolderSource.open(root);
    await assert.rejects(showProduct(source, "Demo.App"), rejectsWith("NotRegularFile", /named pipe/));
    const big = await layout();
    await writeFile(join(big.dir, "Demo.App.yaml"), `# ${"x".repeat(1024 * 1024)}\n${manifest("Demo.App", "1.0")}`);
    await assert.rejects(
      showProduct(await WingetFolderSource.open(big.root), "Demo.App"),
      rejectsWith("FileTooLarge", /over the limit of 1 MiB/),
    );
  });

  it("refuses a manifest that is not the package its folder names", async () => {
    const { root, dir } = await layout();
    await writeFile(join(dir, "Demo.App.yaml"), manifest("Other.App", "1.0"));
    await assert.rejects(
      showProduct(await WingetFolderSource.open(root), "Demo.App"),
      rejectsWith("ManifestMismatch", /Other\.App 1\.0, not Demo\.App 1\.0/),
    );
  });

  it("refuses a folder without manifests/ with the fix", async () => {
    await assert.rejects(
      WingetFolderSource.open(await scratch()),
      rejectsWith("NotWingetLayout", /no manifests\/ folder/),
    );
  });
});

describe("package index (index.v2.json)", () => {
  it("reads the community shape and keeps good entries when some are hostile", () => {
    const index = parseIndexJson(
      JSON.stringify([
        {
          Name: "7-Zip",
          PackageId: "7zip.7zip",
          Version: "25.01",
          Tags: ["zip"],
          LastUpdate: "2025-08-03T16:38:31+00:00",
        },
        { Name: "Evil", PackageId: "../../etc", Version: "1.0", Tags: [] },
        { Name: "Evil", PackageId: "Evil.Version", Version: "..", Tags: [] },
        { Name: "Bell\u0007", PackageId: "Evil.Bell", Version: "1.0", Tags: [] },
        { Name: "Many", PackageId: "Many.Versions", Version: "1.0", Versions: ["1.9", "1.10", "1.2"] },
        "not an object",
      ]),
      "test",
    );
    assert.deepEqual(
      index.entries.map((e) => [e.id, e.version]),
      [
        ["7zip.7zip", "25.01"],
        ["Many.Versions", "1.10"],
      ],
    );
    assert.equal(index.skipped.length, 4);
    assert.match(index.skipped.join("\n"), /\[1\]: PackageId "\.\.\/\.\.\/etc" is not a package id/);
  });

  it("refuses a document that is not a JSON array", () => {
    assert.throws(() => parseIndexJson("{}", "idx"), rejectsWith("InvalidCatalogIndex", /not a JSON array/));
    assert.throws(() => parseIndexJson("[", "idx"), rejectsWith("InvalidCatalogIndex", /not JSON/));
  });

  it("refuses an empty or overlong search", () => {
    const index = new CatalogIndex([]);
    assert.throws(() => index.search("   "), rejectsWith("EmptySearch"));
    assert.throws(() => index.search("x".repeat(201)), rejectsWith("SearchTooLong"));
  });
});

describe("catalog source: an HTTPS base URL with index.v2.json", () => {
  let server: ScriptedServer;
  let transport: FetchTransport;
  let http: CatalogHttp;
  let base: string;
  const corpusFile = (path: string) => readFileSync(join(WINGET_PKGS, decodeURIComponent(path)));
  const index = JSON.stringify([
    {
      Name: "Notepad++",
      PackageId: "Notepad++.Notepad++",
      Version: "8.9.8.1",
      Tags: ["editor"],
      Versions: ["8.4.9", "8.9.8.1"],
    },
    { Name: "7-Zip", PackageId: "7zip.7zip", Version: "26.03", Tags: ["zip"], Versions: ["16.0.4", "26.03"] },
    { Name: "Hostile", PackageId: "Evil.Mismatch", Version: "1.0", Tags: [] },
  ]);

  before(async () => {
    const pki = await loadOrCreatePki();
    server = await startScriptedServer(
      (req): Reply => {
        const url = req.url;
        if (url === "/repo/index.v2.json")
          return { status: 200, body: index, headers: { "content-type": "application/json" } };
        if (url === "/moved/index.v2.json") return { status: 301, headers: { location: "/repo/index.v2.json" } };
        if (url === "/downgrade/index.v2.json")
          return { status: 302, headers: { location: `http://127.0.0.1:1/repo/index.v2.json` } };
        if (url === "/loop/index.v2.json") return { status: 302, headers: { location: "/loop/index.v2.json" } };
        if (url.startsWith("/repo/manifests/e/Evil/Mismatch/1.0/"))
          return { status: 200, body: corpusFile("manifests/7/7zip/7zip/16.0.4/7zip.7zip.yaml").toString("utf8") };
        if (url.startsWith("/big/manifests/"))
          return {
            status: 200,
            body: "#".repeat(1024 * 1024 + 10),
            headers: { "content-length": String(1024 * 1024 + 10) },
          };
        if (url === "/big/index.v2.json") return { status: 200, body: index };
        if (url.startsWith("/repo/manifests/")) {
          try {
            return { status: 200, body: corpusFile(url.slice("/repo/".length)).toString("utf8") };
          } catch {
            return { status: 404, body: "" };
          }
        }
        return { status: 404, body: "" };
      },
      { cert: pki.serverCertPem, key: pki.serverKeyPem },
    );
    base = `${server.origin}/repo/`;
    transport = createFetchTransport({ trustedCaPem: pki.caCertPem });
    http = catalogHttp(createHttpPipeline({ transport: transport.send, retry: { sleep: async () => undefined } }));
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  it("searches the index without listing the tree", async () => {
    const source = await openCatalogSource(base, { http });
    server.received.length = 0;
    const hits = await searchCatalog([source], "notepad");
    assert.equal(hits[0]!.id, "Notepad++.Notepad++");
    assert.deepEqual(
      server.received.map((r) => r.url),
      ["/repo/index.v2.json"],
    );
  });

  it("shows a multi-file version from three files (version, installer, default locale) as the folder does", async () => {
    const source = new WingetHttpsSource(base, http);
    server.received.length = 0;
    const remote = await showProduct(source, "Notepad++.Notepad++");
    const paths = server.received.map((r) => r.url).filter((u) => u.includes("/manifests/"));
    assert.deepEqual(paths, [
      "/repo/manifests/n/Notepad%2B%2B/Notepad%2B%2B/8.9.8.1/Notepad%2B%2B.Notepad%2B%2B.yaml",
      "/repo/manifests/n/Notepad%2B%2B/Notepad%2B%2B/8.9.8.1/Notepad%2B%2B.Notepad%2B%2B.installer.yaml",
      "/repo/manifests/n/Notepad%2B%2B/Notepad%2B%2B/8.9.8.1/Notepad%2B%2B.Notepad%2B%2B.locale.en-US.yaml",
    ]);
    const local = await showProduct(await WingetFolderSource.open(WINGET_PKGS), "Notepad++.Notepad++");
    assert.deepEqual(remote.installer, local.installer);
    assert.deepEqual(remote.definition!.detection, local.definition!.detection);
    assert.equal(remote.definition!.install.command, local.definition!.install.command);
  });

  it("reads a singleton with one request and takes the newest of the index's Versions", async () => {
    const source = new WingetHttpsSource(base, http);
    assert.deepEqual(await source.versions("7zip.7zip"), ["26.03", "16.0.4"]);
    server.received.length = 0;
    const r = await showProduct(source, "7zip.7zip", { version: "16.0.4" });
    assert.equal(r.installer.type, "msi");
    assert.equal(server.received.filter((x) => x.url.includes("/manifests/")).length, 1);
  });

  it("follows a redirect to HTTPS, refuses one to http:// and stops a loop", async () => {
    const moved = new WingetHttpsSource(`${server.origin}/moved/`, http);
    assert.equal((await moved.index()).entries.length, 3);
    await assert.rejects(
      new WingetHttpsSource(`${server.origin}/downgrade/`, http).index(),
      rejectsWith("InsecureUrl"),
    );
    await assert.rejects(
      new WingetHttpsSource(`${server.origin}/loop/`, http).index(),
      (e: unknown) => isPublisherError(e) && e.code === "TooManyRedirects" && e.kind === "network",
    );
  });

  it("refuses a manifest over 1 MiB without keeping it, and one that is another package", async () => {
    await assert.rejects(
      showProduct(new WingetHttpsSource(`${server.origin}/big/`, http), "7zip.7zip"),
      ResponseTooLargeError,
    );
    await assert.rejects(
      showProduct(new WingetHttpsSource(base, http), "Evil.Mismatch"),
      rejectsWith("ManifestMismatch"),
    );
  });

  it("says which file is missing (404) and when the index does not exist", async () => {
    await assert.rejects(
      showProduct(new WingetHttpsSource(base, http), "7zip.7zip", { version: "1.0" }),
      rejectsWith("PackageVersionNotFound", /answered 404/),
    );
    await assert.rejects(
      new WingetHttpsSource(`${server.origin}/none/`, http).index(),
      rejectsWith("CatalogIndexNotFound"),
    );
  });

  it("never trusts a server outside the configured CAs", async () => {
    const plain = createFetchTransport();
    try {
      const untrusting = catalogHttp(createHttpPipeline({ transport: plain.send, retry: { maxAttempts: 1 } }));
      await assert.rejects(
        new WingetHttpsSource(base, untrusting).index(),
        (e: unknown) => e instanceof NetworkError && e.failure === "tls",
      );
    } finally {
      await plain.close();
    }
  });

  it("refuses source URLs that are not HTTPS or carry credentials", async () => {
    await assert.rejects(openCatalogSource("http://vendor.example/winget/", { http }), rejectsWith("InsecureUrl"));
    await assert.rejects(openCatalogSource("ftp://vendor.example/", { http }), rejectsWith("InsecureUrl"));
    assert.throws(
      () => new WingetHttpsSource("https://user:secret@vendor.example/winget/", http),
      (e: unknown) => rejectsWith("UrlWithCredentials")(e) && !(e as Error).message.includes("secret"),
    );
  });

  it("resolves configured names, relative folders, and the built-in community default", async () => {
    const config = {
      sources: { mirror: { type: "winget" as const, url: base }, local: { type: "winget" as const, path: "pkgs" } },
    };
    const mirror = await openCatalogSource("mirror", { http, config });
    assert.equal(mirror.label, `winget source ${base}`);
    const local = await openCatalogSource("local", {
      http,
      config,
      configFile: join(WINGET_PKGS, "..", "config.yaml"),
    });
    assert.equal(local.kind, "winget");
    const community = await openCatalogSource(undefined, { http });
    assert.match(community.label, /raw\.githubusercontent\.com\/microsoft\/winget-pkgs/);
    await assert.rejects(openCatalogSource("nowhere-at-all", { http }), rejectsWith("UnknownCatalogSource"));
  });
});
