import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * State behind a narrow interface (docs/DESIGN.md, "The local tenant's shape": per-resource handlers, state behind
 * interfaces). Entities are plain JSON objects, one collection per (tenant, name). The in-memory store is the default.
 */

export interface Entity {
  id: string;
}

export interface Collection<T extends Entity> {
  get(id: string): T | undefined;
  /** a snapshot in insertion order */
  list(): T[];
  size(): number;
  put(value: T): void;
  delete(id: string): boolean;
}

export interface Store {
  collection<T extends Entity>(tenantId: string, name: string): Collection<T>;
  /** every collection, for the admin API's state dump */
  dump(): Record<string, Record<string, Entity[]>>;
  clear(): void;
  /** true when nothing is stored (a fresh store gets the seed) */
  isEmpty(): boolean;
  /** writes pending changes, if the store persists */
  flush(): Promise<void>;
}

class MemoryCollection<T extends Entity> implements Collection<T> {
  readonly items = new Map<string, T>();
  constructor(private readonly changed: () => void = () => undefined) {}
  get(id: string): T | undefined {
    return this.items.get(id.toLowerCase());
  }
  list(): T[] {
    return [...this.items.values()];
  }
  size(): number {
    return this.items.size;
  }
  put(value: T): void {
    this.items.set(value.id.toLowerCase(), value);
    this.changed();
  }
  delete(id: string): boolean {
    const had = this.items.delete(id.toLowerCase());
    if (had) this.changed();
    return had;
  }
}

/** Ids are matched case-insensitively, as Graph matches GUID keys. */
export class MemoryStore implements Store {
  protected readonly collections = new Map<string, MemoryCollection<Entity>>();

  collection<T extends Entity>(tenantId: string, name: string): Collection<T> {
    const key = `${tenantId.toLowerCase()}/${name}`;
    let c = this.collections.get(key);
    if (!c) {
      c = new MemoryCollection<Entity>(() => this.changed());
      this.collections.set(key, c);
    }
    return c as unknown as Collection<T>;
  }

  /** hook for persisting subclasses */
  protected changed(): void {}

  isEmpty(): boolean {
    for (const c of this.collections.values()) if (c.size() > 0) return false;
    return true;
  }

  async flush(): Promise<void> {}

  dump(): Record<string, Record<string, Entity[]>> {
    const out: Record<string, Record<string, Entity[]>> = {};
    for (const [key, c] of this.collections) {
      const [tenant = "", name = ""] = key.split("/");
      (out[tenant] ??= {})[name] = c.list();
    }
    return out;
  }

  clear(): void {
    this.collections.clear();
    this.changed();
  }
}

/**
 * The in-memory store, saved as one JSON file shortly after each change and on `flush` (`--persist`,
 * docs/emulator.md). Writes go to a temporary file renamed over the old one, so a crash never leaves half a file.
 */
export class JsonFileStore extends MemoryStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {
    super();
  }

  static async open(path: string): Promise<JsonFileStore> {
    const store = new JsonFileStore(path);
    let text: string | undefined;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (text !== undefined) {
      const data = JSON.parse(text) as { version: number; collections: Record<string, Entity[]> };
      if (data.version !== 1) throw new Error(`${path}: unsupported state version ${String(data.version)}.`);
      for (const [key, items] of Object.entries(data.collections)) {
        const [tenant = "", name = ""] = key.split("/");
        const c = store.collection<Entity>(tenant, name) as MemoryCollection<Entity>;
        for (const item of items) c.items.set(item.id.toLowerCase(), item);
      }
    }
    return store;
  }

  protected override changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, 100);
    this.timer.unref();
  }

  private save(): Promise<void> {
    const collections: Record<string, Entity[]> = {};
    for (const [key, c] of this.collections) if (c.size() > 0) collections[key] = c.list();
    const text = JSON.stringify({ version: 1, collections });
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(`${this.path}.tmp`, text, { mode: 0o600 });
      await rename(`${this.path}.tmp`, this.path);
    });
    return this.writing;
  }

  override async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.save();
  }
}
