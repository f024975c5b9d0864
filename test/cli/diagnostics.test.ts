// `diagnostics`: the support bundle. Secrets of every kind are planted in the profiles, the secrets folder and the
// run logs; the zip, read back with CPython, has the expected entries and none of them, in any usual encoding.
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { emulatorHomeEnv, runCli } from "../support/cli.js";
import { extractEntry, listZip } from "../support/independent.js";
import { useScratch } from "../support/scratch.js";

const scratch = useScratch("ip-diagnostics-");
const random = (n = 24): string => randomBytes(n).toString("base64url");

/** Every form a secret could take in a file: as is, base64, base64url, URL-encoded, JSON-escaped. */
const forms = (s: string): string[] => [
  s,
  Buffer.from(s).toString("base64"),
  Buffer.from(s).toString("base64url"),
  encodeURIComponent(s),
  JSON.stringify(s).slice(1, -1),
];

describe("diagnostics: the support bundle", () => {
  it("holds versions, settings, the connection test, logs and the local tenant's state, and no secret", async () => {
    const home = await scratch();
    const proxyPassword = `pp-${random(12)}`;
    // The proxy password in the environment (a profile keeps only the user; its password has its own file).
    const env = await emulatorHomeEnv(home, join(home, "emulator"), {
      HTTPS_PROXY: `http://proxyuser:${proxyPassword}@proxy.contoso.example:3128`,
    });
    const clientSecret = `cs~${random()}`;
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    // A line of the key's body: what a leak of the PEM would show.
    const keyLine = pem.split("\n")[5]!;
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
    const assertion = `${b64({ alg: "RS256", kid: "k" })}.${b64({ sub: "repo:contoso/apps:ref:refs/heads/main" })}.${random(64)}`;
    const bearer = random(48);
    const sasSig = random(32);
    const packageKey = randomBytes(32).toString("base64");

    const configDir = join(home, "config", "intune-publisher");
    await mkdir(join(configDir, "secrets"), { recursive: true });
    await writeFile(
      join(configDir, "config.yaml"),
      [
        "defaultProfile: contoso",
        "profiles:",
        "  contoso:",
        "    tenant: contoso.onmicrosoft.com",
        "    clientId: 3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098",
        "    credential: { type: secret }",
        "    proxy: http://proxyuser@proxy.contoso.example:3128",
        "",
      ].join("\n"),
    );
    await writeFile(join(configDir, "secrets", "contoso.secret"), `${clientSecret}\n`, { mode: 0o600 });
    await writeFile(join(configDir, "secrets", "contoso.proxy-password"), proxyPassword, { mode: 0o600 });
    const logDir = join(home, "state", "intune-publisher", "logs");
    await mkdir(logDir, { recursive: true });
    // A log as a broken or older version might have written it: nothing redacted.
    const leaky = [
      { msg: "token request", body: `client_secret=${clientSecret}&client_assertion=${assertion}` },
      { msg: "said", text: `the secret is ${clientSecret}; assertion ${assertion}` },
      { msg: "request", headers: { authorization: `Bearer ${bearer}` } },
      { msg: "key", text: pem },
      { msg: "put block", url: `https://x.blob.core.windows.net/c/b?sv=2024-11-04&sr=b&sp=w&sig=${sasSig}` },
      {
        msg: "commit",
        body: { fileEncryptionInfo: { encryptionKey: packageKey, profileIdentifier: "ProfileVersion1" } },
      },
      { msg: "proxy", url: `http://proxyuser:${proxyPassword}@proxy.contoso.example:3128` },
    ];
    await writeFile(
      join(logDir, "run-20261201T100000.000Z-1.jsonl"),
      leaky.map((l) => JSON.stringify(l)).join("\n") + "\n",
    );

    const out = join(home, "bundle.zip");
    const r = await runCli(["diagnostics", "--cloud", "local", "--out", out, "--output", "json"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stat(out)).mode & 0o777, 0o600);
    const names = listZip(out).map((e) => e.name);
    for (const n of [
      "about.json",
      "settings.json",
      "connection-test.json",
      "logs/run-20261201T100000.000Z-1.jsonl",
      "local-tenant.json",
    ])
      assert.ok(names.includes(n), `${n} in ${names.join(", ")}`);

    const text = new Map<string, string>();
    for (const n of names) {
      const dest = join(home, "x", n.replace(/\//g, "_"));
      await mkdir(join(home, "x"), { recursive: true });
      extractEntry(out, n, dest);
      text.set(n, await readFile(dest, "utf8"));
    }
    const planted = { clientSecret, proxyPassword, keyLine, assertion, bearer, sasSig, packageKey };
    for (const [what, value] of Object.entries(planted))
      for (const form of forms(value))
        for (const [n, t] of text) assert.ok(!t.includes(form), `${what} (${form.slice(0, 12)}…) found in ${n}`);
    assert.ok(!(r.stdout + r.stderr).includes(clientSecret));

    const about = JSON.parse(text.get("about.json")!) as { node: string; os: { platform: string } };
    assert.equal(about.node, process.versions.node);
    assert.equal(about.os.platform, process.platform);
    const settings = text.get("settings.json")!;
    assert.match(settings, /"proxy": "http:\/\/proxyuser@proxy\.contoso\.example:3128"/);
    assert.match(settings, /"clientId": "3d2b1a0f-9e8d-4c7b-a6f5-e4d3c2b1a098"/);
    assert.match(settings, /"HTTPS_PROXY": "http:\/\/proxyuser@proxy\.contoso\.example:3128"/);
    const connection = JSON.parse(text.get("connection-test.json")!) as { permissions?: unknown[] };
    assert.ok(Array.isArray(connection.permissions), text.get("connection-test.json"));
    // The log keeps what is not secret.
    assert.match(text.get("logs/run-20261201T100000.000Z-1.jsonl")!, /ProfileVersion1/);

    // An existing bundle is kept unless --force.
    const again = await runCli(["diagnostics", "--cloud", "local", "--out", out], env);
    assert.equal(again.code, EXIT_CODES.input, again.stderr);
    assert.match(again.stderr, /already exists: not overwritten/);
    assert.doesNotMatch(again.stderr, /\n\s+at /, "no stack trace");
    const forced = await runCli(["diagnostics", "--cloud", "local", "--out", out, "--force"], env);
    assert.equal(forced.code, 0, forced.stderr);
  });
});
