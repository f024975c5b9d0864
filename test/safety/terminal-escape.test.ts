/**
 * Names read from a package are data, not terminal commands: `inspect` of a package whose Detection.xml Name holds
 * an OSC title sequence, BEL, a clear-screen CSI and a C1 CSI prints them escaped (table) or as JSON escapes that
 * decode back to the name (json), and an error line quoting such a name is escaped too. The package is our own
 * packager's output with Detection.xml rewritten, zipped again by CPython.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { PassThrough } from "node:stream";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { drawStatusLine, escapeControl, SafeOutput } from "../../src/cli/safe-output.js";
import { SecretRegistry } from "../../src/clients/http/redact.js";
import { packageFolder } from "../../src/intunewin/package.js";
import { runCli } from "../support/cli.js";
import { extractEntry, writeOuterZip } from "../support/independent.js";
import { useScratch } from "../support/scratch.js";

const scratch = useScratch("ip-terminal-");
/** OSC 0 (set the window title) ended by BEL, a clear-screen CSI, a C1 CSI (0x9B) and a backspace. */
const EVIL = "\x1b]0;pwned\x07Evil\x1b[2J\u009b31m\b";
const EVIL_SHOWN = "\\x1b]0;pwned\\x07Evil\\x1b[2J\\u009b31m\\x08";
/** Any control character a terminal acts on, other than tab and line feed. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("control characters in printed data are escaped", () => {
  let dir: string;
  let evilName: string;
  let evilFile: string;

  before(async () => {
    dir = await scratch();
    const src = join(dir, "src");
    await mkdir(src);
    await writeFile(join(src, "setup.cmd"), "@echo off\r\n");
    const out = join(dir, "out");
    await packageFolder({ sourceDir: src, setupFile: "setup.cmd", outDir: out });
    const pkg = join(out, "setup.intunewin");
    const xml = join(dir, "Detection.xml");
    const payload = join(dir, "IntunePackage.intunewin");
    extractEntry(pkg, "IntuneWinPackage/Metadata/Detection.xml", xml);
    extractEntry(pkg, "IntuneWinPackage/Contents/IntunePackage.intunewin", payload);
    const detection = await readFile(xml, "utf8");
    assert.match(detection, /<Name>setup\.cmd<\/Name>/);
    evilName = join(dir, "evil-name.intunewin");
    writeOuterZip(evilName, payload, detection.replace("<Name>setup.cmd</Name>", `<Name>${EVIL}</Name>`));
    // A FileName naming no entry: the error quotes it.
    evilFile = join(dir, "evil-file.intunewin");
    writeOuterZip(
      evilFile,
      payload,
      detection.replace("<FileName>IntunePackage.intunewin</FileName>", `<FileName>${EVIL}.bin</FileName>`),
    );
  });

  it("inspect (table) shows the Name's control characters as escapes", async () => {
    const r = await runCli(["inspect", evilName], {});
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, RAW_CONTROL);
    assert.match(r.stdout, new RegExp(`^Name +${EVIL_SHOWN.replace(/[\\[\]]/g, "\\$&")}$`, "m"));
  });

  it("inspect --output json stays JSON and decodes back to the exact name", async () => {
    const r = await runCli(["inspect", evilName, "--output", "json"], {});
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, RAW_CONTROL);
    assert.equal((JSON.parse(r.stdout) as { Name: string }).Name, EVIL);
  });

  it("an error line quoting such a name is escaped", async () => {
    const r = await runCli(["inspect", evilFile], {});
    assert.equal(r.code, EXIT_CODES.input, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, RAW_CONTROL);
    assert.match(r.stderr, /^error: .*\\x1b\]0;pwned\\x07Evil\\x1b\[2J\\u009b31m\\x08\.bin/m);
  });

  it("the tool's own progress line keeps its \\r and ESC[K; the text inside it is escaped", () => {
    const target = new PassThrough();
    let seen = "";
    target.on("data", (d: Buffer) => (seen += d.toString("utf8")));
    const out = new SafeOutput(target, new SecretRegistry());
    drawStatusLine(out, `packaging ${EVIL} 50%`);
    out.write("done\r\n");
    assert.equal(seen, `\rpackaging ${EVIL_SHOWN} 50%\x1b[K` + "done\n");
    assert.equal(escapeControl("tab\tand\nline"), "tab\tand\nline");
  });
});
