import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";

/** A temporary folder for the calling test file (removed after it), handing out a fresh sub-folder per call. */
export function useScratch(prefix: string): () => Promise<string> {
  let root = "";
  let n = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return async () => {
    const dir = join(root, `case-${n++}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };
}
