import { z } from "zod";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "500MiB", "20 GB", "1.5GiB", "4096" → bytes (KiB/MiB/GiB and K/M/G are powers of 1024, KB/MB/GB of 1000). */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A flag holding a byte size; its error reads "--flag must be a size such as 500MiB or 20GiB, not "x"". */
export const byteSizeFlag = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    const bytes = parseByteSize(v);
    if (bytes === undefined) {
      ctx.addIssue({ code: "custom", message: `must be a size such as 500MiB or 20GiB, not "${v}"` });
      return z.NEVER;
    }
    return bytes;
  });

/** A flag holding a whole number of at least 1. */
export const countFlag = z
  .string()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined) return undefined;
    if (!/^\s*\d+\s*$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
      ctx.addIssue({ code: "custom", message: `must be a whole number of at least 1, not "${v}"` });
      return z.NEVER;
    }
    return Number(v);
  });
