/**
 * The ownership stamp: a machine-readable last line in the app's `notes` that lets `publish` find the app it made
 * again (idempotent publishing). Format, one line, canonical JSON with the keys in this order:
 *
 *     intune-publisher:{"v":1,"id":"contoso-notes","version":"2.4.1","contentHash":"sha256:<64 hex>"}
 *
 * Optional keys after those (versions and targeting), left out when empty:
 * - `t`: the assignment targets this tool set on the app (8-hex digests, `targetDigest`), so a re-run can tell an
 *   assignment it made (and may remove when the definition drops it) from one an admin added (kept);
 * - `e`: the same for the Enrollment Status Page profiles it added the app to;
 * - `rb`: true when `rollback` moved away from this app: it is no longer the current version.
 *
 * The admin's own notes come first, then one newline, then the stamp. Pure functions, no I/O.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { InternalError } from "../errors.js";

export const STAMP_PREFIX = "intune-publisher:";
export const STAMP_FORMAT_VERSION = 1;

/** Definition ids: a lowercase slug, so they are safe in notes, file names and logs. */
export const DEFINITION_ID_PATTERN = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
export const MAX_VERSION_LENGTH = 64;
const CONTENT_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

export interface OwnershipStamp {
  /** The definition's stable `id`. */
  id: string;
  /** The definition's `version` (displayVersion). */
  version: string;
  /** `contentHash(...)` of the content that was committed: `sha256:` + 64 lowercase hex digits. */
  contentHash: string;
  /** digests of the assignment targets this tool manages on the app */
  targets?: readonly string[];
  /** digests of the ESP profiles this tool added the app to */
  esp?: readonly string[];
  /** rolled back from: not the current version any more */
  rolledBack?: boolean;
}

const DIGEST = /^[0-9a-f]{8}$/;

/** 8 hex digits of SHA-256: short, stable ids for targets and profiles recorded in the stamp. */
export function shortDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

const stampJsonSchema = z.strictObject({
  v: z.literal(STAMP_FORMAT_VERSION),
  id: z.string().regex(DEFINITION_ID_PATTERN),
  version: z
    .string()
    .min(1)
    .max(MAX_VERSION_LENGTH)
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/),
  contentHash: z.string().regex(CONTENT_HASH_PATTERN),
  t: z.array(z.string().regex(DIGEST)).max(200).optional(),
  e: z.array(z.string().regex(DIGEST)).max(100).optional(),
  rb: z.literal(true).optional(),
});

export type StampReading =
  /** No stamp line: an app we did not make (or whose stamp an admin deleted). */
  | { status: "absent"; userNotes: string }
  | { status: "valid"; stamp: OwnershipStamp; userNotes: string }
  /** A stamp line that does not parse or validate, or more than one: an edited stamp; never trust it. */
  | { status: "invalid"; reason: string; userNotes: string };

function isStampLine(line: string): boolean {
  return line.trimStart().startsWith(STAMP_PREFIX);
}

/** The stamp line for `stamp`; throws InternalError when the stamp itself is malformed (a bug in the caller). */
export function formatStamp(stamp: OwnershipStamp): string {
  const json = {
    v: STAMP_FORMAT_VERSION,
    id: stamp.id,
    version: stamp.version,
    contentHash: stamp.contentHash,
    ...(stamp.targets && stamp.targets.length > 0 ? { t: [...stamp.targets].sort() } : {}),
    ...(stamp.esp && stamp.esp.length > 0 ? { e: [...stamp.esp].sort() } : {}),
    ...(stamp.rolledBack ? { rb: true as const } : {}),
  };
  const r = stampJsonSchema.safeParse(json);
  if (!r.success) throw new InternalError(`Malformed ownership stamp: ${r.error.issues[0]?.message ?? "invalid"}.`);
  return STAMP_PREFIX + JSON.stringify(json);
}

/** `notes` without any stamp line, trailing whitespace removed (line endings kept as written). */
export function userNotesOf(notes: string | null | undefined): string {
  if (!notes) return "";
  return notes
    .split(/\r?\n/)
    .filter((l) => !isStampLine(l))
    .join("\n")
    .trimEnd();
}

/** The notes to send: the admin's notes (any old stamp removed), a newline, the stamp line. */
export function stampNotes(userNotes: string | null | undefined, stamp: OwnershipStamp): string {
  const line = formatStamp(stamp);
  const own = userNotesOf(userNotes);
  return own === "" ? line : `${own}\n${line}`;
}

/** Reads the stamp from an app's `notes` as Graph returns them (CRLF tolerated; text after the stamp allowed). */
export function readStamp(notes: string | null | undefined): StampReading {
  const userNotes = userNotesOf(notes);
  const lines = (notes ?? "").split(/\r?\n/).filter(isStampLine);
  if (lines.length === 0) return { status: "absent", userNotes };
  if (lines.length > 1) return { status: "invalid", reason: `${lines.length} stamp lines`, userNotes };
  const text = lines[0]!.trim().slice(STAMP_PREFIX.length);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: "invalid", reason: "the stamp is not JSON", userNotes };
  }
  const r = stampJsonSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { status: "invalid", reason: `${where}${issue?.message ?? "invalid stamp"}`, userNotes };
  }
  const { id, version, contentHash, t, e, rb } = r.data;
  return {
    status: "valid",
    stamp: {
      id,
      version,
      contentHash,
      ...(t === undefined ? {} : { targets: t }),
      ...(e === undefined ? {} : { esp: e }),
      ...(rb === undefined ? {} : { rolledBack: true }),
    },
    userNotes,
  };
}

/**
 * Length of the longest stamp line for this id and version (content hashes have a fixed length), with room for
 * `targets` assignment digests, `esp` profile digests and the rollback flag.
 */
export function stampLength(id: string, version: string, extra: { targets?: number; esp?: number } = {}): number {
  const list = (n: number) => (n > 0 ? `[${Array.from({ length: n }, () => '"00000000"').join(",")}]` : undefined);
  const t = list(extra.targets ?? 0);
  const e = list(extra.esp ?? 0);
  return (
    STAMP_PREFIX +
    JSON.stringify({ v: STAMP_FORMAT_VERSION, id, version, contentHash: `sha256:${"0".repeat(64)}` }).slice(0, -1) +
    (t ? `,"t":${t}` : "") +
    (e ? `,"e":${e}` : "") +
    ',"rb":true}'
  ).length;
}

// ---------------------------------------------------------------------------------------------------------------
// Content hash

/**
 * What identifies the content of one definition. The publish use case computes the parts (it does the I/O):
 * - `intunewin`: the package's Detection.xml `FileDigest` (base64 SHA-256 of the inner zip), for a prebuilt
 *   `.intunewin` or one we just packaged;
 * - `sourceTree`: every file of the source folder (path relative to it with `/`, size, hex SHA-256) and the setup
 *   file; lets a re-run decide "nothing to do" without packaging.
 * The two kinds never give the same hash, so switching kinds is seen as new content.
 */
export type ContentIdentity =
  | { kind: "intunewin"; fileDigest: string }
  | {
      kind: "sourceTree";
      setupFile: string;
      files: readonly { path: string; size: number; sha256: string }[];
    };

const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** `sha256:` + hex SHA-256 of a canonical text of the identity (domain-separated, order-independent). */
export function contentHash(identity: ContentIdentity): string {
  const h = createHash("sha256");
  if (identity.kind === "intunewin") {
    if (!BASE64_SHA256.test(identity.fileDigest)) {
      throw new InternalError("contentHash: fileDigest is not a base64 SHA-256 digest.");
    }
    h.update(`intune-publisher/content/v1\nintunewin\n${identity.fileDigest}\n`);
  } else {
    h.update(`intune-publisher/content/v1\nsourceTree\n${identity.setupFile}\n`);
    const files = [...identity.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!;
      if (i > 0 && files[i - 1]!.path === f.path) throw new InternalError(`contentHash: duplicate path ${f.path}.`);
      if (!HEX_SHA256.test(f.sha256) || !Number.isSafeInteger(f.size) || f.size < 0 || /[\t\n]/.test(f.path)) {
        throw new InternalError(`contentHash: malformed entry for ${f.path}.`);
      }
      h.update(`${f.path}\t${f.size}\t${f.sha256.toLowerCase()}\n`);
    }
  }
  return `sha256:${h.digest("hex")}`;
}
