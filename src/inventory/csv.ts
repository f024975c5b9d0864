/**
 * A streaming RFC 4180 CSV parser: text chunks in, one record (string[]) at a time out, never the whole text held.
 * Hand-written because no CSV package is installed (and adding one needs the lead's approval); RFC 4180 is small:
 * fields separated by commas, records by CRLF (LF accepted), a field in double quotes may hold commas, line breaks
 * and doubled quotes. A malformed record (text after a closing quote, a quote inside an unquoted field, a quote
 * left open at the end) is an error naming its line: an inventory is complete or refused, never silently short.
 */
import { inventoryError } from "./errors.js";

export const CSV_LIMITS = {
  /** one field; a report's longest values are names (a few hundred characters) */
  maxFieldChars: 64 * 1024,
  /** Intune's export takes at most 256 selected columns */
  maxColumns: 256,
} as const;

export async function* parseCsv(chunks: AsyncIterable<string>, where: string): AsyncGenerator<string[]> {
  for await (const batch of parseCsvBatches(chunks, where)) yield* batch;
}

/**
 * The same, one batch of records per chunk of text: millions of records cost one await per chunk, not per record.
 * Runs of ordinary characters are copied as slices (indexOf), not character by character.
 */
export async function* parseCsvBatches(chunks: AsyncIterable<string>, where: string): AsyncGenerator<string[][]> {
  let record: string[] = [];
  let field = "";
  let quoted = false; // inside a quoted field
  let afterQuote = false; // a quoted field just closed
  let fieldStarted = false;
  let line = 1;
  let recordLine = 1;
  let pendingCr = false;
  const bad = (what: string): Error =>
    inventoryError(
      "MalformedReport",
      `${where}: line ${recordLine} is not valid CSV: ${what}.`,
      "Export the report again; if it persists, the report is damaged at the source.",
    );
  const endField = (): void => {
    if (record.length >= CSV_LIMITS.maxColumns) throw bad(`more than ${CSV_LIMITS.maxColumns} columns`);
    record.push(field);
    field = "";
    afterQuote = false;
    fieldStarted = false;
  };
  const tooLong = (): boolean => field.length > CSV_LIMITS.maxFieldChars;
  for await (const chunk of chunks) {
    const out: string[][] = [];
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      let c = chunk[i];
      if (pendingCr) {
        pendingCr = false;
        if (c === "\n") continue;
      }
      if (quoted) {
        // copy up to the next quote in one slice
        const q = chunk.indexOf('"', i);
        const end = q === -1 ? n : q;
        if (end > i) {
          const run = chunk.slice(i, end);
          for (let k = run.indexOf("\n"); k !== -1; k = run.indexOf("\n", k + 1)) line++;
          field += run;
          if (tooLong()) throw bad(`a field over ${CSV_LIMITS.maxFieldChars} characters`);
          i = end;
          if (q === -1) break;
        }
        c = chunk[i];
        if (chunk[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          // at a chunk's end the next chunk decides: a doubled quote split across chunks
          quoted = false;
          afterQuote = true;
        }
      } else if (c === '"') {
        if (afterQuote) {
          // "" split across two chunks: a literal quote inside the field
          field += '"';
          quoted = true;
          afterQuote = false;
        } else if (fieldStarted) throw bad("a quote inside an unquoted field");
        else {
          quoted = true;
          fieldStarted = true;
        }
      } else if (c === ",") {
        endField();
      } else if (c === "\r" || c === "\n") {
        endField();
        out.push(record);
        record = [];
        pendingCr = c === "\r";
        line++;
        recordLine = line;
      } else {
        if (afterQuote) throw bad("text after a closing quote");
        field += c;
        fieldStarted = true;
      }
      if (tooLong()) throw bad(`a field over ${CSV_LIMITS.maxFieldChars} characters`);
    }
    if (out.length > 0) yield out;
  }
  if (quoted) throw bad("a quoted field is not closed before the end of the report");
  if (fieldStarted || afterQuote || record.length > 0) {
    endField();
    yield [record];
  }
}
