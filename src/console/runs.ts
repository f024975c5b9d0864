/**
 * Publish runs started from the console: the engine's progress events (src/publish/publish.ts `onEvent`) become
 * Server-Sent Events, sent the moment they happen to every page following the run; a page that connects late gets
 * the run's earlier events first. Rate and ETA are worked out here from the byte counts the engine reports.
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { describeFailure } from "../publish/publish.js";
import type { DownloadEvent } from "../catalog/download/downloader.js";
import type { PublishEvent } from "../publish/publish.js";

/** What a run reports: the publish engine's events, and (sync) the installer downloads, by the row (app) they are for. */
export type RunEvent = PublishEvent | { type: "download"; id: string; event: DownloadEvent };
import type { ProgressMessage } from "./api.js";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Events kept per run for pages that connect late (a run of many apps stays far below). */
export const RUN_EVENTS_MAX = 20_000;

interface Run {
  events: string[];
  followers: Set<ServerResponse>;
  ended: boolean;
}

/** Bytes per second over the transfer so far, and the seconds left at that rate. */
class Meter {
  private start: number | undefined;
  constructor(private readonly now: () => number) {}
  measure(done: number, total: number): { rate: number | undefined; etaSeconds: number | undefined } {
    const t = this.now();
    if (this.start === undefined) this.start = t;
    const seconds = (t - this.start) / 1000;
    if (seconds <= 0 || done <= 0) return { rate: undefined, etaSeconds: undefined };
    const rate = done / seconds;
    return { rate, etaSeconds: Math.max(0, (total - done) / rate) };
  }
}

export class PublishRuns {
  private readonly runs = new Map<string, Run>();

  /** Starts `work` (which reports through `onEvent` and counts its apps) and returns the run's id at once. */
  start(
    work: (onEvent: (e: RunEvent) => void) => Promise<{ ok: number; failed: number }>,
    scrub: (text: string) => string,
  ): string {
    const id = randomBytes(9).toString("base64url");
    const run: Run = { events: [], followers: new Set(), ended: false };
    this.runs.set(id, run);
    const t0 = Date.now();
    const at = () => Date.now() - t0;
    const meters = new Map<string, Meter>();
    const meter = (key: string) => {
      let m = meters.get(key);
      if (m === undefined) meters.set(key, (m = new Meter(Date.now)));
      return m;
    };
    const emit = (m: DistributiveOmit<ProgressMessage, "sent">) => {
      const line = `data: ${scrub(JSON.stringify({ ...m, sent: Date.now() }))}\n\n`;
      if (run.events.length < RUN_EVENTS_MAX) run.events.push(line);
      for (const f of run.followers) f.write(line);
    };
    const onEvent = (e: RunEvent): void => {
      switch (e.type) {
        case "download": {
          const d = e.event;
          const id = e.id;
          if (d.type === "start")
            return emit({ type: "step", id, at: at(), step: "download", detail: `downloading ${d.url}` });
          if (d.type === "progress")
            return emit({
              type: "bytes",
              id,
              at: at(),
              phase: "downloading",
              done: d.bytes,
              total: d.total ?? 0,
              rate: d.rate,
              etaSeconds: d.etaSeconds,
            });
          if (d.type === "retry")
            return emit({ type: "stage", id, at: at(), stage: `download retry ${d.attempt}: ${d.reason}` });
          return;
        }
        case "step":
          return emit({ type: "step", id: e.id, at: at(), step: e.step, detail: e.detail });
        case "package":
          return emit({
            type: "bytes",
            id: e.id,
            at: at(),
            phase: "packaging",
            done: e.bytesRead,
            total: e.totalBytes,
            ...meter(`p:${e.id}`).measure(e.bytesRead, e.totalBytes),
          });
        case "upload": {
          const u = e.event;
          if (u.type === "bytes")
            return emit({
              type: "bytes",
              id: e.id,
              at: at(),
              phase: "uploading",
              done: u.bytesDone,
              total: u.totalBytes,
              ...meter(`u:${e.id}`).measure(u.bytesDone, u.totalBytes),
            });
          if (u.type === "stage") return emit({ type: "stage", id: e.id, at: at(), stage: u.stage });
          if (u.type === "renewed") return emit({ type: "stage", id: e.id, at: at(), stage: "upload URL renewed" });
          return;
        }
        case "done": {
          const o = e.outcome;
          return emit({
            type: "done",
            id: e.id,
            at: at(),
            status: o.status,
            action: o.action,
            appId: o.appId,
            message: o.status === "ok" ? (o.action === "nothing" ? "up to date" : "done") : describeFailure(o),
          });
        }
      }
    };
    const end = (ok: number, failed: number, error: string | undefined) => {
      emit({ type: "end", at: at(), ok, failed, error });
      run.ended = true;
      for (const f of run.followers) f.end();
      run.followers.clear();
    };
    work(onEvent).then(
      (r) => end(r.ok, r.failed, undefined),
      (e: unknown) => end(0, 0, e instanceof Error ? e.message : String(e)),
    );
    return id;
  }

  /**
   * A run of other messages (the tenants overview's "Test all"): `work` emits them as they happen, and its result
   * (or `onError`'s message when it throws) is the last one.
   */
  startMessages(
    work: (emit: (m: object) => void) => Promise<object>,
    onError: (message: string) => object,
    scrub: (text: string) => string,
  ): string {
    const id = randomBytes(9).toString("base64url");
    const run: Run = { events: [], followers: new Set(), ended: false };
    this.runs.set(id, run);
    const emit = (m: object) => {
      const line = `data: ${scrub(JSON.stringify(m))}\n\n`;
      if (run.events.length < RUN_EVENTS_MAX) run.events.push(line);
      for (const f of run.followers) f.write(line);
    };
    const end = (m: object) => {
      emit(m);
      run.ended = true;
      for (const f of run.followers) f.end();
      run.followers.clear();
    };
    work(emit).then(end, (e: unknown) => end(onError(e instanceof Error ? e.message : String(e))));
    return id;
  }

  /** Streams run `id` to `res` (earlier events first); false when there is no such run. */
  follow(id: string, res: ServerResponse): boolean {
    const run = this.runs.get(id);
    if (run === undefined) return false;
    res.statusCode = 200;
    res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    res.setHeader("Connection", "keep-alive");
    res.flushHeaders();
    for (const line of run.events) res.write(line);
    if (run.ended) {
      res.end();
      return true;
    }
    run.followers.add(res);
    res.on("close", () => run.followers.delete(res));
    return true;
  }

  close(): void {
    for (const run of this.runs.values()) for (const f of run.followers) f.end();
  }
}
