/**
 * The lock file's schema, in its own module: zod (≈ 14 MiB of a download's resident memory) is loaded only when a
 * lock file exists and is read, not by every process that downloads (bench/README.md, download).
 */
import { z } from "zod";
import { LOCK_VERSION } from "./lock-file.js";
import type { LockRow } from "./lock-file.js";

export const rowSchema = z.strictObject({
  /** product id (PackageIdentifier or catalog entry id), or the URL when none was given */
  id: z.string().min(1),
  version: z.string().min(1),
  url: z.string().min(1),
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits"),
  recorded: z.string().min(1),
});

export const fileSchema = z.strictObject({
  lockVersion: z.literal(LOCK_VERSION),
  downloads: z.array(rowSchema),
});

// The row type lock-file.ts declares by hand is the schema's output, both ways.
const sameRow: [LockRow, z.output<typeof rowSchema>] extends [z.output<typeof rowSchema>, LockRow] ? true : never =
  true;
void sameRow;
