// Sections (§) cited here are those of docs/reference/graph-win32-upload.md.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MobileAppContentFileWire, UploadState } from "../../core/wire/graph.js";
import { PublisherError } from "../../core/errors.js";
import { UploadStateError, waitForUploadState } from "./wait.js";
import type { WaitOptions, WaitStage } from "./wait.js";

function file(uploadState: UploadState, expiry: string | null = null): MobileAppContentFileWire {
  return {
    id: "f",
    name: "IntunePackage.intunewin",
    size: 1,
    sizeEncrypted: 64,
    manifest: null,
    azureStorageUri: uploadState.endsWith("Success") ? "https://blob/x?sig=abc" : null,
    azureStorageUriExpirationDateTime: expiry,
    isCommitted: uploadState === "commitFileSuccess",
    isDependency: false,
    createdDateTime: "2026-01-01T00:00:00Z",
    uploadState,
  };
}

/** A fake clock moved only by the fake sleep, which records each wait. */
function harness(stage: WaitStage, states: UploadState[], extra: Partial<WaitOptions> = {}) {
  let now = 0;
  const waits: number[] = [];
  let reads = 0;
  const seen: UploadState[] = [];
  const options: WaitOptions = {
    stage,
    read: async () => file(states[Math.min(reads++, states.length - 1)]!),
    deadlineMs: 10_000,
    poll: { initialIntervalMs: 100, factor: 2, maxIntervalMs: 500 },
    clock: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    onState: (s) => seen.push(s),
    ...extra,
  };
  return { options, waits, seen, reads: () => reads };
}

describe("waitForUploadState", () => {
  it("polls with a growing interval until success, reporting each state once", async () => {
    const h = harness("sasRequest", [
      "azureStorageUriRequestPending",
      "azureStorageUriRequestPending",
      "azureStorageUriRequestPending",
      "azureStorageUriRequestPending",
      "azureStorageUriRequestSuccess",
    ]);
    const f = await waitForUploadState(h.options);
    assert.equal(f.uploadState, "azureStorageUriRequestSuccess");
    assert.deepEqual(h.waits, [100, 200, 400, 500]);
    assert.deepEqual(h.seen, ["azureStorageUriRequestPending", "azureStorageUriRequestSuccess"]);
  });

  it("returns at once, without reading, when the initial file is already done", async () => {
    const h = harness("sasRequest", ["azureStorageUriRequestPending"], {
      initial: file("azureStorageUriRequestSuccess"),
    });
    await waitForUploadState(h.options);
    assert.equal(h.reads(), 0);
  });

  for (const [stage, state, code] of [
    ["sasRequest", "azureStorageUriRequestFailed", "AzureStorageUriRequestFailed"],
    ["sasRequest", "azureStorageUriRequestTimedOut", "AzureStorageUriRequestTimedOut"],
    ["renewal", "azureStorageUriRenewalFailed", "AzureStorageUriRenewalFailed"],
    ["commit", "commitFileFailed", "CommitFileFailed"],
    ["commit", "commitFileTimedOut", "CommitFileTimedOut"],
  ] as const) {
    it(`${stage}: ${state} is a typed graph failure`, async () => {
      const h = harness(
        stage,
        ["commitFilePending", state].filter((s) => stage === "commit" || s === state) as UploadState[],
      );
      await assert.rejects(waitForUploadState(h.options), (e: unknown) => {
        assert.ok(e instanceof UploadStateError);
        assert.equal(e.kind, "graph");
        assert.equal(e.code, code);
        assert.equal(e.uploadState, state);
        return true;
      });
    });
  }

  it("a commit that never leaves …RequestSuccess ends at the deadline as a timeout (§2.7)", async () => {
    const h = harness("commit", ["azureStorageUriRequestSuccess"], { deadlineMs: 1000 });
    await assert.rejects(waitForUploadState(h.options), (e: unknown) => {
      assert.ok(e instanceof UploadStateError);
      assert.equal(e.kind, "timeout");
      assert.equal(e.code, "UploadStateDeadline");
      assert.equal(e.uploadState, "azureStorageUriRequestSuccess");
      return true;
    });
    assert.equal(
      h.waits.reduce((a, b) => a + b, 0),
      1000,
      "the last wait is cut to the deadline",
    );
  });

  it("fails at once on a state the stage never leads to", async () => {
    const h = harness("sasRequest", ["commitFileSuccess"]);
    await assert.rejects(waitForUploadState(h.options), { code: "UnexpectedUploadState" });
    assert.equal(h.reads(), 1);
  });

  it("renewal: a done test sees every state of this wait", async () => {
    const h = harness(
      "renewal",
      ["azureStorageUriRenewalSuccess", "azureStorageUriRenewalPending", "azureStorageUriRenewalSuccess"],
      {
        done: (f, seen) =>
          f.uploadState === "azureStorageUriRenewalSuccess" && seen.has("azureStorageUriRenewalPending"),
      },
    );
    await waitForUploadState(h.options);
    assert.equal(h.reads(), 3, "a RenewalSuccess left from before did not count");
  });

  it("stops when the signal aborts", async () => {
    const ac = new AbortController();
    const h = harness("commit", ["commitFilePending"], {
      signal: ac.signal,
      sleep: async () => ac.abort(),
    });
    await assert.rejects(waitForUploadState(h.options), (e: unknown) => {
      assert.ok(e instanceof PublisherError);
      assert.equal(e.kind, "cancelled");
      return true;
    });
  });
});
