import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  configPaths,
  parseProfilesFile,
  resolveSettings,
  stringifyProfilesFile,
  withProfile,
} from "../../src/core/config/profile.js";
import type { ProfilesFile, SettingsFlags } from "../../src/core/config/profile.js";
import { PublisherError } from "../../src/core/errors.js";

const A = "11111111-1111-4111-8111-111111111111";
const B = "22222222-2222-4222-8222-222222222222";

const FILE: ProfilesFile = parseProfilesFile(
  `
defaultProfile: contoso
profiles:
  contoso:
    tenant: contoso.onmicrosoft.com
    clientId: ${A}
    credential: { type: secret, expiresOn: "2027-01-31" }
  gov:
    tenant: gov.onmicrosoft.us
    clientId: ${B}
    cloud: usgov-dod
    credential: { type: certificate, path: /certs/gov.pfx, passwordFile: /certs/gov.pw }
    proxy: http://proxy.gov:8080
`,
  "config.yaml",
);

const paths = configPaths({ env: { XDG_CONFIG_HOME: "/xdg" }, platform: "linux", home: "/home/u" });

/** `file: null` = no profiles file */
function resolve(env: NodeJS.ProcessEnv, flags: SettingsFlags = {}, file: ProfilesFile | null = FILE) {
  return resolveSettings({ file: file ?? undefined, fileName: paths.file, paths, platform: "linux", env, flags });
}

function rejects(fn: () => unknown, code: string, pattern: RegExp, kind = "config"): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof PublisherError && e.kind === kind && e.code === code && pattern.test(e.message),
  );
}

describe("profiles: locations", () => {
  it("XDG_CONFIG_HOME, ~/.config, %APPDATA% and --config", () => {
    assert.equal(paths.file, "/xdg/intune-publisher/config.yaml");
    assert.equal(paths.secretsDir, "/xdg/intune-publisher/secrets");
    assert.equal(
      configPaths({ env: {}, platform: "linux", home: "/home/u" }).file,
      "/home/u/.config/intune-publisher/config.yaml",
    );
    // a relative XDG_CONFIG_HOME is invalid per the spec and ignored
    assert.equal(
      configPaths({ env: { XDG_CONFIG_HOME: "rel" }, platform: "darwin", home: "/Users/u" }).file,
      "/Users/u/.config/intune-publisher/config.yaml",
    );
    const win = configPaths({
      env: { APPDATA: "C:\\Users\\u\\AppData\\Roaming" },
      platform: "win32",
      home: "C:\\Users\\u",
    });
    assert.equal(win.file, "C:\\Users\\u\\AppData\\Roaming\\intune-publisher\\config.yaml");
    assert.equal(win.secretsDir, "C:\\Users\\u\\AppData\\Roaming\\intune-publisher\\secrets");
    const custom = configPaths({ env: {}, platform: "linux", home: "/h", configFile: "/etc/ip/profiles.yaml" });
    assert.deepEqual(custom, { dir: "/etc/ip", file: "/etc/ip/profiles.yaml", secretsDir: "/etc/ip/secrets" });
  });
});

describe("profiles: empty folder variables count as unset", () => {
  it("XDG_CONFIG_HOME, APPDATA and HOME set but empty fall back to the defaults", () => {
    assert.equal(
      configPaths({ env: { XDG_CONFIG_HOME: "" }, platform: "linux", home: "/home/u" }).file,
      "/home/u/.config/intune-publisher/config.yaml",
    );
    assert.equal(
      configPaths({ env: { APPDATA: "" }, platform: "win32", home: "C:\\Users\\u" }).file,
      "C:\\Users\\u\\AppData\\Roaming\\intune-publisher\\config.yaml",
    );
  });
});

describe("profiles: partial configuration (exit 11)", () => {
  const incomplete = (fn: () => unknown, pattern: RegExp, hint?: RegExp): void =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof PublisherError);
      assert.equal(e.kind, "incompleteConfig");
      assert.equal(e.code, "IncompleteConfiguration");
      assert.match(e.message, pattern);
      if (hint) assert.match(e.hint ?? "", hint);
      return true;
    });

  it("names the missing setting and what was given: client id and secret without a tenant", () => {
    incomplete(
      () => resolve({ AZURE_CLIENT_ID: A, AZURE_CLIENT_SECRET: "s3cret-value" }, {}, null),
      /no tenant is set; given: AZURE_CLIENT_ID, AZURE_CLIENT_SECRET\.$/,
      /Set AZURE_TENANT_ID .*--tenant.*local tenant is used only when nothing is configured, or with --cloud local/,
    );
  });

  it("variables set but empty (a CI system's missing secret) count as configured", () => {
    incomplete(
      () => resolve({ AZURE_TENANT_ID: "", AZURE_CLIENT_ID: "", AZURE_CLIENT_SECRET: "" }, {}, null),
      /no tenant or client ID is set; given: AZURE_TENANT_ID \(set but empty\), AZURE_CLIENT_ID \(set but empty\), AZURE_CLIENT_SECRET \(set but empty\)/,
      /set but empty is how CI passes a missing secret/,
    );
    incomplete(() => resolve({ AZURE_AUTHORITY_HOST: " " }, {}, null), /AZURE_AUTHORITY_HOST \(set but empty\)/);
  });

  it("a tenant flag, a cloud flag or an empty profiles file each count as configured", () => {
    incomplete(() => resolve({}, { tenant: "contoso.onmicrosoft.com" }, null), /no client ID is set; given: --tenant/);
    incomplete(() => resolve({}, { cloud: "usgov" }, null), /given: --cloud/);
    incomplete(() => resolve({}, {}, { profiles: {} }), /given: the profiles file .*config\.yaml \(no profiles\)/);
  });

  it("nothing at all is still NoConfiguration (exit 8; publish then uses the local tenant)", () => {
    rejects(
      () => resolve({ HTTPS_PROXY: "http://p:3128" }, { caCertificate: "/ca.pem" }, null),
      "NoConfiguration",
      /No tenant or client ID/,
    );
  });
});

describe("profiles: file format", () => {
  it("rejects unknown keys and bad values, naming the field", () => {
    rejects(
      () =>
        parseProfilesFile(
          "profiles:\n  x:\n    tenant: t\n    clientId: nope\n    credential: {type: secret}\n",
          "f.yaml",
        ),
      "InvalidConfiguration",
      /profiles\.x\.clientId: must be a GUID/,
    );
    rejects(
      () =>
        parseProfilesFile(
          `profiles:\n  x:\n    tenant: t\n    clientId: ${A}\n    secret: oops\n    credential: {type: secret}\n`,
          "f.yaml",
        ),
      "InvalidConfiguration",
      /secret/,
    );
    rejects(() => parseProfilesFile("profiles: [", "f.yaml"), "InvalidConfiguration", /not valid YAML/);
    assert.deepEqual(parseProfilesFile("", "f.yaml"), { profiles: {} });
  });

  it("round-trips, and the first profile becomes the default", () => {
    const next = withProfile({ profiles: {} }, "p1", {
      tenant: "t.onmicrosoft.com",
      clientId: A,
      cloud: "china",
      credential: { type: "federated", tokenFile: "/var/run/token" },
    });
    assert.equal(next.defaultProfile, "p1");
    assert.deepEqual(parseProfilesFile(stringifyProfilesFile(next), "x"), next);
  });
});

describe("profiles: catalog sources in the same file", () => {
  const text = `profiles: {}\ncatalog:\n  defaultSource: mirror\n  sources:\n    mirror: { type: winget, url: "https://mirror.example/winget/" }\n    ours: { type: entries, path: catalog }\n`;

  it("reads them, refusing a winget source with both url and path, or an unknown type", () => {
    const file = parseProfilesFile(text, "f.yaml");
    assert.equal(file.catalog?.defaultSource, "mirror");
    assert.deepEqual(file.catalog?.sources.ours, { type: "entries", path: "catalog" });
    rejects(
      () =>
        parseProfilesFile(
          "profiles: {}\ncatalog:\n  sources:\n    x: { type: winget, url: https://a/, path: b }\n",
          "f.yaml",
        ),
      "InvalidConfiguration",
      /catalog\.sources\.x: a winget source has either url or path/,
    );
    rejects(
      () => parseProfilesFile("profiles: {}\ncatalog:\n  sources:\n    x: { type: apt, path: b }\n", "f.yaml"),
      "InvalidConfiguration",
      /catalog\.sources\.x/,
    );
  });

  it("keeps them when a profile is added (connect init rewrites the file)", () => {
    const next = withProfile(parseProfilesFile(text, "f.yaml"), "p1", {
      tenant: "t.onmicrosoft.com",
      clientId: A,
      cloud: "global",
      credential: { type: "secret" },
    });
    assert.equal(next.catalog?.defaultSource, "mirror");
    assert.deepEqual(parseProfilesFile(stringifyProfilesFile(next), "x"), next);
  });
});

describe("profiles: effective settings", () => {
  it("uses the default profile and its secret file beside the config", () => {
    const s = resolve({});
    assert.equal(s.profileName, "contoso");
    assert.equal(s.endpoints.authority, "https://login.microsoftonline.com/contoso.onmicrosoft.com");
    assert.deepEqual(s.credential, {
      type: "secret",
      from: "file",
      path: "/xdg/intune-publisher/secrets/contoso.secret",
      expiresOn: "2027-01-31",
    });
    assert.equal(s.proxy, undefined);
  });

  it("--profile picks another; its cloud, certificate and proxy apply", () => {
    const s = resolve({}, { profile: "gov" });
    assert.equal(s.endpoints.graphBaseUrl, "https://dod-graph.microsoft.us/beta");
    assert.equal(s.endpoints.authorityHost, "https://login.microsoftonline.us");
    assert.equal(s.credential.type, "certificate");
    assert.deepEqual(s.credential.type === "certificate" && s.credential.password, {
      from: "file",
      path: "/certs/gov.pw",
    });
    assert.equal(s.proxy, "http://proxy.gov:8080");
  });

  it("an unknown profile is a configuration error listing the known ones", () => {
    assert.throws(
      () => resolve({}, { profile: "nope" }),
      (e: unknown) => e instanceof PublisherError && e.kind === "config" && /contoso, gov/.test(e.hint ?? ""),
    );
  });

  it("flags beat the environment, which beats the profile", () => {
    const env = { AZURE_TENANT_ID: "env.onmicrosoft.com", AZURE_CLIENT_ID: B };
    const s = resolve(env, { profile: "contoso", tenant: "flag.onmicrosoft.com" });
    assert.equal(s.endpoints.tenant, "flag.onmicrosoft.com");
    assert.equal(s.clientId, B);
    assert.equal(s.sources["tenant"], "flag");
    assert.equal(s.sources["clientId"], "env AZURE_CLIENT_ID");
  });

  it("AZURE_AUTHORITY_HOST changes the authority and, without --cloud, the cloud", () => {
    const s = resolve({ AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" }, { profile: "contoso" });
    assert.equal(s.endpoints.cloud, "usgov");
    assert.equal(s.endpoints.graphBaseUrl, "https://graph.microsoft.us/beta");
  });

  it("environment credentials replace the profile's, in @azure/identity's order", () => {
    assert.deepEqual(resolve({ AZURE_CLIENT_SECRET: "x", AZURE_CLIENT_CERTIFICATE_PATH: "/c.pem" }).credential, {
      type: "secret",
      from: "env",
      expiresOn: undefined,
    });
    const cert = resolve({
      AZURE_CLIENT_CERTIFICATE_PATH: "/c.pfx",
      AZURE_CLIENT_CERTIFICATE_PASSWORD: "pw",
      AZURE_FEDERATED_TOKEN_FILE: "/t",
    }).credential;
    assert.equal(cert.type, "certificate");
    assert.deepEqual(cert.type === "certificate" && cert.password, { from: "env" });
    assert.deepEqual(resolve({ AZURE_FEDERATED_TOKEN_FILE: "/var/run/secrets/token" }).credential, {
      type: "federated",
      tokenFile: "/var/run/secrets/token",
    });
  });

  it("works from the environment alone, with no profiles file", () => {
    const s = resolve(
      {
        AZURE_TENANT_ID: "env.onmicrosoft.com",
        AZURE_CLIENT_ID: A,
        AZURE_CLIENT_SECRET: "x",
        HTTPS_PROXY: "http://p:3128",
        NO_PROXY: "localhost, .corp",
      },
      {},
      null,
    );
    assert.equal(s.profileName, undefined);
    assert.equal(s.endpoints.cloud, "global");
    assert.equal(s.proxy, "http://p:3128");
    assert.equal(s.noProxy, "localhost, .corp");
  });

  it("explains what is missing when nothing is configured", () => {
    rejects(
      () => resolve({}, {}, null),
      "NoConfiguration",
      /No tenant or client ID is configured \(no profiles file at/,
    );
    rejects(
      () => resolve({ AZURE_TENANT_ID: "t.onmicrosoft.com", AZURE_CLIENT_ID: A }, {}, null),
      "NoCredential",
      /incomplete: no credential is set; given: AZURE_TENANT_ID, AZURE_CLIENT_ID\./,
      "incompleteConfig",
    );
    rejects(() => resolve({}, { cloud: "mars" }), "InvalidConfiguration", /Unknown cloud "mars"/);
    rejects(() => resolve({ AZURE_CLIENT_ID: "nope" }), "InvalidConfiguration", /not a GUID/);
  });
});
