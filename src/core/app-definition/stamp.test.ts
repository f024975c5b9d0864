import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { InternalError } from "../errors.js";
import type { OwnershipStamp } from "./stamp.js";
import { contentHash, formatStamp, readStamp, stampLength, stampNotes, userNotesOf } from "./stamp.js";

const stamp: OwnershipStamp = {
  id: "contoso-notes",
  version: "2.4.1",
  contentHash: `sha256:${"ab".repeat(32)}`,
};

describe("ownership stamp", () => {
  it("has the documented one-line format", () => {
    assert.equal(
      formatStamp(stamp),
      `intune-publisher:{"v":1,"id":"contoso-notes","version":"2.4.1","contentHash":"sha256:${"ab".repeat(32)}"}`,
    );
    // stampLength is the longest line: room for the rollback flag too.
    assert.equal(stampLength(stamp.id, stamp.version), formatStamp({ ...stamp, rolledBack: true }).length);
    const record = { ...stamp, targets: ["0000000a", "0000000b"], esp: ["0000000c"], rolledBack: true };
    assert.equal(stampLength(stamp.id, stamp.version, { targets: 2, esp: 1 }), formatStamp(record).length);
  });

  it("records managed targets and profiles, sorted, and the rollback flag; round-trips", () => {
    const record = { ...stamp, targets: ["ffffffff", "0000000a"], esp: ["0000000c"], rolledBack: true };
    const line = formatStamp(record);
    assert.equal(
      line,
      `intune-publisher:{"v":1,"id":"contoso-notes","version":"2.4.1","contentHash":"sha256:${"ab".repeat(32)}","t":["0000000a","ffffffff"],"e":["0000000c"],"rb":true}`,
    );
    const back = readStamp(line);
    assert.equal(back.status, "valid");
    if (back.status === "valid") assert.deepEqual(back.stamp, { ...record, targets: ["0000000a", "ffffffff"] });
    // Empty records are left out, so a stamp without targeting reads as before.
    assert.equal(formatStamp({ ...stamp, targets: [], esp: [] }), formatStamp(stamp));
    // A digest that is not 8 hex digits makes the stamp invalid (never trusted).
    assert.equal(readStamp(line.replace("0000000a", "xyz")).status, "invalid");
  });

  it("keeps the user's notes and round-trips", () => {
    const notes = stampNotes("Owned by Workplace.\nSecond line.  \n\n", stamp);
    assert.equal(notes, `Owned by Workplace.\nSecond line.\n${formatStamp(stamp)}`);
    assert.deepEqual(readStamp(notes), { status: "valid", stamp, userNotes: "Owned by Workplace.\nSecond line." });
    // Re-stamping replaces, never duplicates.
    const next = { ...stamp, version: "2.5.0" };
    const again = stampNotes(notes, next);
    assert.equal(again, `Owned by Workplace.\nSecond line.\n${formatStamp(next)}`);
    assert.deepEqual(readStamp(again), {
      status: "valid",
      stamp: next,
      userNotes: "Owned by Workplace.\nSecond line.",
    });
  });

  it("is the whole notes when there are no user notes", () => {
    for (const empty of [undefined, null, "", "  \n"]) {
      const notes = stampNotes(empty, stamp);
      assert.equal(notes, formatStamp(stamp));
      assert.deepEqual(readStamp(notes), { status: "valid", stamp, userNotes: "" });
    }
  });

  it("survives CRLF line endings and text an admin added after it", () => {
    const notes = `Hello\r\n${formatStamp(stamp)}\r\nEdited in the portal`;
    const r = readStamp(notes);
    assert.equal(r.status, "valid");
    assert.deepEqual(r.status === "valid" && r.stamp, stamp);
    assert.equal(r.userNotes, "Hello\nEdited in the portal");
  });

  it("reports an absent stamp", () => {
    assert.deepEqual(readStamp(null), { status: "absent", userNotes: "" });
    assert.deepEqual(readStamp("[WinTuner|winget|7zip.7zip]"), {
      status: "absent",
      userNotes: "[WinTuner|winget|7zip.7zip]",
    });
  });

  it("reports tampered stamps as invalid, never as valid", () => {
    const line = formatStamp(stamp);
    const cases: [string, RegExp][] = [
      [line.slice(0, -1), /not JSON/],
      [line.replace('"v":1', '"v":2'), /^v:/],
      [line.replace("contoso-notes", "Contoso Notes"), /^id:/],
      [line.replace(/sha256:[0-9a-f]+/, "sha256:1234"), /^contentHash:/],
      [line.replace('"2.4.1"', "2.41"), /^version:/],
      [line.replace("}", ',"extra":true}'), /extra/i],
      [`${line}\n${line}`, /2 stamp lines/],
      ["intune-publisher:", /not JSON/],
    ];
    for (const [notes, reason] of cases) {
      const r = readStamp(`Some notes\n${notes}`);
      assert.equal(r.status, "invalid", notes);
      assert.match(r.status === "invalid" ? r.reason : "", reason, notes);
      assert.equal(r.userNotes, "Some notes");
    }
  });

  it("refuses to write a malformed stamp", () => {
    assert.throws(() => stampNotes("x", { ...stamp, id: "Not A Slug" }), InternalError);
    assert.throws(() => stampNotes("x", { ...stamp, version: "1\n2" }), InternalError);
    assert.throws(() => stampNotes("x", { ...stamp, contentHash: "md5:00" }), InternalError);
  });

  it("userNotesOf strips every stamp line", () => {
    assert.equal(userNotesOf(`a\n${formatStamp(stamp)}\nb`), "a\nb");
  });
});

describe("contentHash", () => {
  const digest = createHash("sha256").update("inner zip").digest("base64");

  it("is sha256: + 64 hex digits and depends on the digest", () => {
    const a = contentHash({ kind: "intunewin", fileDigest: digest });
    assert.match(a, /^sha256:[0-9a-f]{64}$/);
    assert.equal(a, contentHash({ kind: "intunewin", fileDigest: digest }));
    const other = createHash("sha256").update("other").digest("base64");
    assert.notEqual(a, contentHash({ kind: "intunewin", fileDigest: other }));
    // Independent computation of the documented canonical text.
    const expected = createHash("sha256").update(`intune-publisher/content/v1\nintunewin\n${digest}\n`).digest("hex");
    assert.equal(a, `sha256:${expected}`);
  });

  it("hashes a source tree independently of listing order", () => {
    const f1 = { path: "app/a.txt", size: 3, sha256: "1".repeat(64) };
    const f2 = { path: "install.ps1", size: 10, sha256: "2".repeat(64) };
    const h = contentHash({ kind: "sourceTree", setupFile: "install.ps1", files: [f1, f2] });
    assert.equal(h, contentHash({ kind: "sourceTree", setupFile: "install.ps1", files: [f2, f1] }));
    assert.notEqual(h, contentHash({ kind: "sourceTree", setupFile: "app/a.txt", files: [f1, f2] }));
    assert.notEqual(h, contentHash({ kind: "sourceTree", setupFile: "install.ps1", files: [f1, { ...f2, size: 11 }] }));
    assert.notEqual(h, contentHash({ kind: "sourceTree", setupFile: "install.ps1", files: [f1] }));
  });

  it("rejects malformed inputs as bugs", () => {
    assert.throws(() => contentHash({ kind: "intunewin", fileDigest: "abc" }), InternalError);
    const f = { path: "a", size: 1, sha256: "0".repeat(64) };
    assert.throws(() => contentHash({ kind: "sourceTree", setupFile: "a", files: [f, f] }), InternalError);
    assert.throws(
      () => contentHash({ kind: "sourceTree", setupFile: "a", files: [{ ...f, sha256: "xyz" }] }),
      InternalError,
    );
  });
});
