// `--verbose` shows what helps in the OpenID metadata (issuer, token endpoint) and still redacts secrets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { homeEnv, runCli } from "../support/cli.js";
import { useScratch } from "../support/scratch.js";

const scratch = useScratch("ip-verbose-");

describe("--verbose", () => {
  it("the OpenID metadata answer shows issuer and token endpoint; tokens and assertions stay redacted", async () => {
    const home = await scratch();
    const r = await runCli(["connect", "test", "--cloud", "local", "--verbose", "--no-log-file"], homeEnv(home));
    assert.equal(r.code, 0, r.stderr);
    const line = r.stderr.split("\n").find((l) => /^log: <-- 200 GET .*openid-configuration/.test(l)) ?? "";
    assert.ok(line !== "", r.stderr);
    const body = JSON.parse(line.slice(line.indexOf(" body=") + 6)) as Record<string, unknown>;
    const authority = /GET (https:\/\/[^/]+\/[^/]+)\/v2\.0\//.exec(line)?.[1] ?? "";
    assert.equal(body["issuer"], `${authority}/v2.0`);
    assert.equal(body["token_endpoint"], `${authority}/oauth2/v2.0/token`);
    assert.match(String(body["jwks_uri"]), /^https:\/\//);
    // The token request and answer: no assertion, secret or access token shows.
    assert.doesNotMatch(r.stderr, /eyJ[A-Za-z0-9_-]{10,}/);
    const token = r.stderr.split("\n").find((l) => /^log: <-- 200 POST .*\/oauth2\/v2\.0\/token/.test(l)) ?? "";
    assert.match(token, /"access_token":"REDACTED"/);
    assert.match(r.stderr, /^log: --> POST .*\/token\S* headers=.* body=<\d+ bytes>$/m, "the form body as its size");
  });
});
