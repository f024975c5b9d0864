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

/** The same, one batch of records per chunk of text: millions of records cost one await per chunk, not per record. */
export async function* parseCsvBatches(chunks: AsyncIterable<string>, where: string): AsyncGenerator<string[][]> {
  const parser = new CsvParser(where);
  let out: string[][] = [];
  const keep = (record: readonly string[]): void => void out.push([...record]);
  for await (const chunk of chunks) {
    parser.write(chunk, keep);
    if (out.length > 0) yield out;
    out = [];
  }
  parser.end(keep);
  if (out.length > 0) yield out;
}

/**
 * The parser itself, synchronous: `write` each chunk of text, then `end`; each record is handed to `onRecord` as it
 * completes, in one array the parser reuses (copy it to keep it). Nothing outlives a chunk but the record in progress,
 * so millions of records leave no garbage old enough to be promoted. Runs of ordinary characters are copied as slices
 * (indexOf), not character by character.
 */
export class CsvParser {
  private record: string[] = [];
  private field = "";
  private quoted = false; // inside a quoted field
  private afterQuote = false; // a quoted field just closed
  private fieldStarted = false;
  private line = 1;
  private recordLine = 1;
  private pendingCr = false;

  constructor(private readonly where: string) {}

  private bad(what: string): Error {
    return inventoryError(
      "MalformedReport",
      `${this.where}: line ${this.recordLine} is not valid CSV: ${what}.`,
      "Export the report again; if it persists, the report is damaged at the source.",
    );
  }

  private endField(): void {
    if (this.record.length >= CSV_LIMITS.maxColumns) throw this.bad(`more than ${CSV_LIMITS.maxColumns} columns`);
    this.record.push(this.field);
    this.field = "";
    this.afterQuote = false;
    this.fieldStarted = false;
  }

  private tooLong(): Error {
    return this.bad(`a field over ${CSV_LIMITS.maxFieldChars} characters`);
  }

  write(chunk: string, onRecord: (record: readonly string[]) => void): void {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      let c = chunk[i];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === "\n") continue;
      }
      if (this.quoted) {
        // copy up to the next quote in one slice
        const q = chunk.indexOf('"', i);
        const end = q === -1 ? n : q;
        if (end > i) {
          const run = chunk.slice(i, end);
          for (let k = run.indexOf("\n"); k !== -1; k = run.indexOf("\n", k + 1)) this.line++;
          this.field += run;
          if (this.field.length > CSV_LIMITS.maxFieldChars) throw this.tooLong();
          i = end;
          if (q === -1) break;
        }
        c = chunk[i];
        if (chunk[i + 1] === '"') {
          this.field += '"';
          i++;
        } else {
          // at a chunk's end the next chunk decides: a doubled quote split across chunks
          this.quoted = false;
          this.afterQuote = true;
        }
      } else if (c === '"') {
        if (this.afterQuote) {
          // "" split across two chunks: a literal quote inside the field
          this.field += '"';
          this.quoted = true;
          this.afterQuote = false;
        } else if (this.fieldStarted) throw this.bad("a quote inside an unquoted field");
        else {
          this.quoted = true;
          this.fieldStarted = true;
        }
      } else if (c === ",") {
        this.endField();
      } else if (c === "\r" || c === "\n") {
        this.endField();
        onRecord(this.record);
        this.record.length = 0;
        this.pendingCr = c === "\r";
        this.line++;
        this.recordLine = this.line;
      } else {
        if (this.afterQuote) throw this.bad("text after a closing quote");
        this.field += c;
        this.fieldStarted = true;
      }
      if (this.field.length > CSV_LIMITS.maxFieldChars) throw this.tooLong();
    }
  }

  end(onRecord: (record: readonly string[]) => void): void {
    if (this.quoted) throw this.bad("a quoted field is not closed before the end of the report");
    if (this.fieldStarted || this.afterQuote || this.record.length > 0) {
      this.endField();
      onRecord(this.record);
      this.record.length = 0;
    }
  }
}
