/**
 * A server that echoes our request into its error text (the local tenant's `echoRequest` faults: Entra's
 * `error_description`, Graph's `error.message`, storage's `<Message>`) must not make any secret leave the process:
 * `connect test` and `publish`, with --verbose and a run log, through the real CLI entry. stdout, stderr and the log
 * file are searched for the client secret, the federated token, the client assertion, the private key, any bearer
 * token and any SAS signature.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSelfSignedCertificate } from "../../src/platform/certificates.js";
import { PUBLISHER_PERMISSIONS } from "../../emulator/seed.js";
import type { LocalTenant } from "../../emulator/server.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { keyLines, oidcToken } from "../support/secrets.js";
import { runCli } from "../support/cli.js";
import type { CliResult } from "../support/cli.js";
import { repoRoot } from "../support/paths.js";
import { useScratch } from "../support/scratch.js";
import { recordLocalTenant, localTenantFlags, startLocalTestTenant } from "../support/tenant.js";

const scratch = useScratch("ip-secrets-echo-");
const TENANT = "0c0ffee0-2222-4333-8444-555566667777";
const APP = "a1000000-0000-4000-8000-000000000001";
const SECRET = "Echo~secret.VALUE_0123456789-abcdefghij+/=";
const OIDC_ISSUER = "https://token.actions.githubusercontent.com";
const OIDC_SUBJECT = "repo:contoso/intune-apps:ref:refs/heads/main";
const OIDC_KID = "echo-issuer-key";

/** A secret and the forms in which a request carries it (form-encoded body, percent-encoded). */
function forms(s: string): string[] {
  return [s, encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2)];
}

/** Any JWT (a token, an assertion, a federated token). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/;
/** A bearer credential or a SAS signature with a value. */
const BEARER = /Bearer +(?!REDACTED)[A-Za-z0-9._~+/=-]{8,}/i;
const SIG = /sig(=|%3D)(?!REDACTED)[A-Za-z0-9%+/=]{8,}/i;

function assertClean(where: string, text: string, secrets: string[]): void {
  for (const s of secrets)
    for (const f of forms(s)) assert.ok(!text.includes(f), `${where} shows a secret (${f.slice(0, 6)}…)`);
  assert.doesNotMatch(text, JWT, `${where} shows a token`);
  assert.doesNotMatch(text, BEARER, `${where} shows a bearer credential`);
  assert.doesNotMatch(text, SIG, `${where} shows a SAS signature`);
  assert.doesNotMatch(text, /PRIVATE KEY/, `${where} shows a private key`);
}

async function assertRunClean(r: CliResult, log: string, secrets: string[]): Promise<string> {
  const text = await readFile(log, "utf8");
  assertClean("stdout", r.stdout, secrets);
  assertClean("stderr", r.stderr, secrets);
  assertClean("the run log", text, secrets);
  return text;
}

describe("a server echoing the request leaks no secret", () => {
  let lt: LocalTenant;
  let dir: string;
  let issuerKey: KeyObject;
  let keyPem: string;
  let federatedToken: string;

  before(async () => {
    dir = await scratch();
    const cert = await createSelfSignedCertificate({ subject: "publisher" });
    keyPem = cert.keyPem;
    const issuer = generateKeyPairSync("rsa", { modulusLength: 2048 });
    issuerKey = issuer.privateKey;
    lt = await startLocalTestTenant({
      seed: {
        tenants: [{ id: TENANT, domains: ["contoso.onmicrosoft.com"] }],
        appRegistrations: [
          {
            clientId: APP,
            displayName: "publisher",
            secrets: [{ value: SECRET }],
            certificates: [{ pem: cert.certPem }],
            federatedCredentials: [
              {
                name: "github-main",
                issuer: OIDC_ISSUER,
                subject: OIDC_SUBJECT,
                audiences: ["api://AzureADTokenExchange"],
                jwks: {
                  keys: [
                    {
                      ...(issuer.publicKey.export({ format: "jwk" }) as { kty: "RSA"; n: string; e: string }),
                      kid: OIDC_KID,
                    },
                  ],
                },
              },
            ],
            roles: [...PUBLISHER_PERMISSIONS],
          },
        ],
      },
    });
    await writeFile(join(dir, "ca.pem"), lt.caCertPem);
    await writeFile(join(dir, "cert.pem"), cert.certPem + cert.keyPem);
    federatedToken = oidcToken({ privateKey: issuerKey, kid: OIDC_KID, issuer: OIDC_ISSUER, subject: OIDC_SUBJECT });
    await writeFile(join(dir, "federated.jwt"), federatedToken);
  });

  after(async () => {
    await lt.close();
  });

  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, "xdg"),
    XDG_STATE_HOME: join(dir, "state"),
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: APP,
    ...extra,
  });
  const connectTest = (log: string, output: "json" | "table"): string[] => [
    "connect",
    "test",
    ...localTenantFlags(lt, join(dir, "ca.pem")),
    "--output",
    output,
    "--verbose",
    "--log-file",
    log,
  ];
  const TOKEN_PATH = `^/${TENANT}/oauth2/v2\\.0/token$`;

  for (const [name, credential, secrets] of [
    ["client secret", () => ({ AZURE_CLIENT_SECRET: SECRET }), () => [SECRET]],
    ["federated token", () => ({ AZURE_FEDERATED_TOKEN_FILE: join(dir, "federated.jwt") }), () => [federatedToken]],
    [
      "certificate (client assertion)",
      () => ({ AZURE_CLIENT_CERTIFICATE_PATH: join(dir, "cert.pem") }),
      () => keyLines(keyPem),
    ],
  ] as const) {
    it(`connect test, ${name}: the token endpoint quotes the request; nothing secret is printed or logged`, async () => {
      for (const output of ["json", "table"] as const) {
        lt.admin.addFault({ method: "POST", path: TOKEN_PATH, status: 400, echoRequest: true, count: 1 });
        const log = join(dir, `connect-${name.replace(/\W+/g, "-")}-${output}.jsonl`);
        const r = await runCli(connectTest(log, output), env(credential()));
        assert.equal(r.code, EXIT_CODES.auth, r.stderr);
        const text = await assertRunClean(r, log, secrets());
        // The echo did arrive, and was scrubbed: the form's other fields are still there.
        assert.match(text, /client_id=a1000000/);
        assert.match(r.stderr, /log: <-- 400 POST .*oauth2\/v2\.0\/token.*Request: POST/);
        assert.match(text, /REDACTED/);
      }
    });
  }

  it("connect test: Graph quotes the request (with its Authorization header); no bearer token anywhere", async () => {
    lt.admin.addFault({ method: "GET", path: "^/beta/", status: 400, echoRequest: true, count: 1000 });
    try {
      const log = join(dir, "connect-graph.jsonl");
      const r = await runCli(connectTest(log, "json"), env({ AZURE_CLIENT_SECRET: SECRET }));
      assert.notEqual(r.code, 0);
      const text = await assertRunClean(r, log, [SECRET]);
      assert.match(text, /Request: GET \/beta\/.*Bearer REDACTED/);
      assert.match(r.stderr, /Request: GET \/beta\/.*Bearer REDACTED/);
    } finally {
      lt.admin.clearFaults();
    }
  });

  describe("publish against the running local tenant", () => {
    let home: string;
    let definition: string;

    before(async () => {
      home = await scratch();
      const stateDir = join(home, "emulator");
      await recordLocalTenant(stateDir, lt, { clientSecret: SECRET });
      const apps = join(home, "apps");
      await cp(join(repoRoot(), "examples", "apps", "contoso-notes"), join(apps, "contoso-notes"), {
        recursive: true,
      });
      definition = join(apps, "contoso-notes.yaml");
      await cp(join(repoRoot(), "examples", "apps", "contoso-notes.yaml"), definition);
    });

    const publish = (log: string, ...extra: string[]) =>
      runCli(["publish", definition, "--verbose", "--log-file", log, ...extra], {
        HOME: home,
        XDG_STATE_HOME: join(home, "state"),
        XDG_CONFIG_HOME: join(home, "config"),
        INTUNE_PUBLISHER_EMULATOR_STATE: join(home, "emulator"),
      });

    it("Graph quotes the create request: the error line and the log hold no bearer token", async () => {
      lt.admin.addFault({
        method: "POST",
        path: "^/beta/deviceAppManagement/mobileApps$",
        status: 400,
        echoRequest: true,
        count: 1,
      });
      const log = join(home, "publish-graph.jsonl");
      const r = await publish(log);
      assert.equal(r.code, EXIT_CODES.graph, r.stderr);
      const text = await assertRunClean(r, log, [SECRET]);
      assert.match(r.stderr, /^error: .*Request: POST \/beta\/deviceAppManagement\/mobileApps.*REDACTED/m);
      assert.match(text, /"authorization\\*":\\*"Bearer REDACTED/);
    });

    it("storage quotes the Put Block request: no SAS signature in the output or the log", async () => {
      lt.admin.addFault({ method: "PUT", path: "^/devstoreaccount1/", status: 400, echoRequest: true, count: 1 });
      const log = join(home, "publish-storage.jsonl");
      const r = await publish(log, "--output", "json");
      assert.equal(r.code, EXIT_CODES.graph, r.stderr);
      const text = await assertRunClean(r, log, [SECRET]);
      assert.match(r.stderr, /Azure Storage answered 400 .*Request: PUT \/devstoreaccount1\/.*sig=REDACTED/);
      assert.match(text, /sig=REDACTED/);
    });
  });
});
