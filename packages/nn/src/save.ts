/**
 * `torch.save(obj, f)` / `torch.load(f)` as the seeds use them (`torch.save(model.stateDict(), "mnist.pth")`,
 * `model.loadStateDict(await torch.load("mnist.pth"))`), in PyTorch's argument order and with PyTorch 1.13's
 * signatures. The format is safetensors, never pickle, so Python reads Cinder's files with
 * `safetensors.torch.load_file` and Cinder reads Python's `safetensors.torch.save_file` output.
 *
 * `f` is, as PyTorch's, "a file-like object or a string":
 * - a path (Node; written atomically by `saveSafetensors`) or a `file:` URL;
 * - `"indexeddb://name"` (browsers: IndexedDB database "cinder", object store "files", key "name"; as tfjs's URLs);
 * - for `save`, nothing (or `null`): the bytes are returned as a `Uint8Array` (`new Blob([bytes])`, `bytes.buffer`),
 *   or a writable (`{ write(bytes) }` such as a Node `FileHandle`, a `WritableStream`, a file system writable);
 * - for `load`, bytes (`Uint8Array`, `ArrayBuffer`, any `ArrayBufferView`), a `Blob`/`File`, a `Response`, a
 *   `ReadableStream`, or a URL (`http(s):`, `blob:`, `data:`, and in browsers a relative one) fetched with `fetch`.
 *
 * A state dict (a Map of name -> tensor) is stored as it is: its keys are the file's tensor names, and `load`
 * returns a Map in file order (PyTorch's OrderedDict), the form `loadStateDict` takes; so does a file with no Cinder
 * metadata (one written by Python). Any other object (a plain object of tensors, a checkpoint
 * `{ model: model.stateDict(), optimizer: opt.stateDict(), epoch }`, a single tensor) is stored with its tensors
 * flattened under dotted keys (`model.fc1.weight`, `optimizer.state.0.momentum_buffer`) and its shape, with the
 * numbers, strings, booleans and nulls in it, as JSON in the `__metadata__` entry "cinder.layout"; `load` rebuilds it.
 */
import {
  ArgumentError,
  arg,
  type CallsOf,
  isPlainObject,
  type Kind,
  k,
  type ParsedOf,
  signature,
  Tensor,
} from "@cinder/tensor";
import { Module } from "./module";
import { deserializeSafetensorsWithMetadata, SafetensorsError, serializeSafetensors } from "./safetensors";
import { loadSafetensorsWithMetadata, saveSafetensors } from "./safetensors-files";

/** Something `save` writes to besides a path: `{ write(bytes) }` (a Node FileHandle or stream, a file system writable) or a WritableStream. */
type Writable = { write(bytes: Uint8Array): unknown } | WritableStream<Uint8Array>;
/** Where `save` writes: a path, a `file:` URL, `"indexeddb://name"`, or a writable. */
export type SaveTarget = string | URL | Writable;
/** What `load` reads: a path or URL string, a URL, `"indexeddb://name"`, bytes, a Blob, a Response or a stream. */
export type LoadSource =
  | string
  | URL
  | ArrayBufferLike
  | ArrayBufferView
  | Blob
  | Response
  | ReadableStream<Uint8Array>
  | {
      /** Reads the whole file (a Node `FileHandle`, or any object with this method). */
      readFile(): Promise<Uint8Array>;
    };
/**
 * PyTorch's `map_location`: a device (`"cpu"`, `"webgpu"`), a mapping from the stored location (always `"cpu"`:
 * safetensors records none) to a device, or a function `(tensor, location) => tensor` (or `null` to keep it;
 * it may return a promise).
 */
export type MapLocation =
  | string
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | ((tensor: Tensor, location: string) => Tensor | null | undefined | Promise<Tensor | null | undefined>);

/** The metadata key holding the layout of an object that is not a flat state dict. */
const LAYOUT_KEY = "cinder.layout";
const IDB_SCHEME = "indexeddb://";
const IDB_DATABASE = "cinder";
const IDB_STORE = "files";
/** The location every loaded tensor comes from (safetensors records no device). */
const STORED_LOCATION = "cpu";

const PICKLE_SAVE = "Cinder writes safetensors, never pickle";
const PICKLE_LOAD = "Cinder reads safetensors, never pickle";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isWritable = (v: unknown): v is Writable =>
  isObject(v) && (typeof v.write === "function" || typeof v.getWriter === "function");
const isBuffer = (v: unknown): v is ArrayBufferLike =>
  v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer);
const isReadable = (v: unknown): boolean =>
  isBuffer(v) ||
  ArrayBuffer.isView(v) ||
  (isObject(v) &&
    (typeof v.arrayBuffer === "function" ||
      typeof v.getReader === "function" ||
      typeof v.readFile === "function"));

const SAVE = signature(
  "save",
  [
    arg(
      "obj",
      // k.any's `where`: a trailing plain object is the value to save, not the options
      k.where<unknown>(
        k.any,
        (v) => isObject(v) || v instanceof Module,
        "object (a state dict, a tensor, or Maps, objects and arrays of them)",
      ) as Kind<object>,
    ),
    arg.opt(
      "f",
      k.test<SaveTarget>(
        'str (a path or "indexeddb://name"), URL or file-like',
        (v) => (typeof v === "string" && v !== "") || v instanceof URL || isWritable(v),
      ),
    ),
    arg.unsupported("pickleModule", null, PICKLE_SAVE),
    arg.unsupported("pickleProtocol", 2, PICKLE_SAVE),
    arg.unsupported("_useNewZipfileSerialization", true, PICKLE_SAVE),
  ],
  [],
  { torch: "torch.save" },
);

const LOAD = signature(
  "load",
  [
    arg(
      "f",
      k.test<LoadSource>(
        'str (a path, URL or "indexeddb://name"), URL, bytes, Blob, Response or stream',
        (v) => (typeof v === "string" && v !== "") || v instanceof URL || isReadable(v),
      ),
    ),
    arg.opt(
      "mapLocation",
      k.test<MapLocation>(
        "device, dict or callable",
        (v) =>
          (typeof v === "string" && v !== "") ||
          typeof v === "function" ||
          v instanceof Map ||
          (isPlainObject(v) && Object.values(v).every((d) => typeof d === "string")),
      ),
    ),
    arg.unsupported("pickleModule", null, PICKLE_LOAD),
  ],
  // Cinder always loads weights only (a safetensors file holds nothing else): both values mean that
  [arg("weightsOnly", k.bool, false)],
  { torch: "torch.load" },
);

// ---------------------------------------------------------------------------------------------------- layout

/** The JSON shape of a saved object: its tensors by the name they are stored under, its other values as they are. */
type Layout =
  | { tensor: string }
  | { map: [string | number, Layout][] }
  | { dict: [string, Layout][] }
  | { list: Layout[] }
  | { value: string | number | boolean | null }
  | { float: "nan" | "inf" | "-inf" }
  | { undefined: true };

/** `obj` as the tensors to store and, unless it is a flat state dict, its layout. */
function flatten(obj: object): { tensors: Map<string, Tensor>; layout: Layout | null } {
  const tensors = new Map<string, Tensor>();
  if (obj instanceof Map && [...obj].every(([key, v]) => typeof key === "string" && v instanceof Tensor)) {
    for (const [key, v] of obj as Map<string, Tensor>) tensors.set(key, v);
    return { tensors, layout: null };
  }
  const where = new Map<string, string>(); // tensor name -> where in obj it came from
  const open = new Set<object>();
  const at = (path: readonly (string | number)[]) =>
    `obj${path.map((p) => (typeof p === "number" ? `[${p}]` : `[${JSON.stringify(p)}]`)).join("")}`;
  const walk = (v: unknown, path: (string | number)[]): Layout => {
    if (v instanceof Tensor) {
      const name = path.length ? path.join(".") : "tensor";
      const first = where.get(name);
      if (first !== undefined) {
        throw new TypeError(
          `save(): ${at(path)} and ${first} would both be stored as the tensor "${name}"; rename one (tensors are stored under their dotted paths)`,
        );
      }
      where.set(name, at(path));
      tensors.set(name, v);
      return { tensor: name };
    }
    if (v === null || typeof v === "string" || typeof v === "boolean") return { value: v };
    if (v === undefined) return { undefined: true };
    if (typeof v === "number") {
      if (Number.isFinite(v)) return { value: v };
      return { float: Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf" };
    }
    if (v instanceof Module) {
      throw new TypeError(
        `save(): ${at(path)} is a module (${v.constructor.name}); PyTorch would pickle the module's code, Cinder saves tensors: torch.save(model.stateDict(), f), then model.loadStateDict(await torch.load(f))`,
      );
    }
    if (typeof v !== "object" || !(v instanceof Map || Array.isArray(v) || isPlainObject(v))) {
      const what = typeof v === "object" ? ((v as object).constructor?.name ?? "object") : typeof v;
      throw new TypeError(
        `save(): cannot save ${at(path)} (${what}): a saved object holds tensors, Maps, plain objects, arrays, numbers, strings, booleans and null`,
      );
    }
    if (open.has(v)) throw new TypeError(`save(): ${at(path)} contains itself`);
    open.add(v);
    let out: Layout;
    if (v instanceof Map) {
      const entries: [string | number, Layout][] = [];
      for (const [key, x] of v) {
        if (typeof key !== "string" && typeof key !== "number")
          throw new TypeError(
            `save(): the Map at ${at(path)} has a ${typeof key} key; keys must be strings or numbers`,
          );
        entries.push([key, walk(x, [...path, key])]);
      }
      out = { map: entries };
    } else if (Array.isArray(v)) out = { list: v.map((x, i) => walk(x, [...path, i])) };
    else out = { dict: Object.entries(v).map(([key, x]) => [key, walk(x, [...path, key])]) };
    open.delete(v);
    return out;
  };
  return { tensors, layout: walk(obj, []) };
}

/** The object a layout describes, with its tensors from the file. */
function unflatten(layout: unknown, tensors: Map<string, Tensor>, source: string): unknown {
  const bad = (why: string): never => {
    throw new SafetensorsError(`load(): ${source}: the "${LAYOUT_KEY}" metadata is not valid: ${why}`);
  };
  const build = (node: unknown): unknown => {
    if (!isObject(node) || Array.isArray(node)) return bad(`expected an object, got ${JSON.stringify(node)}`);
    if ("tensor" in node) {
      const t = tensors.get(node.tensor as string);
      return t ?? bad(`it names the tensor ${JSON.stringify(node.tensor)}, which the file does not hold`);
    }
    if ("value" in node) return node.value;
    if ("float" in node)
      return node.float === "nan" ? Number.NaN : node.float === "inf" ? Infinity : Number.NEGATIVE_INFINITY;
    if ("undefined" in node) return undefined;
    if (Array.isArray(node.list)) return node.list.map(build);
    if (Array.isArray(node.map))
      return new Map((node.map as [unknown, unknown][]).map(([key, x]) => [key, build(x)]));
    if (Array.isArray(node.dict)) {
      const out: Record<string, unknown> = {};
      for (const [key, x] of node.dict as [string, unknown][]) {
        // defineProperty: a key "__proto__" is data, not the prototype
        Object.defineProperty(out, key, {
          value: build(x),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return bad(`unknown entry ${JSON.stringify(node).slice(0, 80)}`);
  };
  return build(layout);
}

// ---------------------------------------------------------------------------------------------------- targets

const isNode = (): boolean => typeof process !== "undefined" && typeof process.versions?.node === "string";

/** A `file:` URL's path (POSIX, or a Windows drive path). */
function fileUrlPath(url: URL): string {
  if (url.host && url.host !== "localhost")
    throw new TypeError(`a file: URL with a host is not a local file: ${url}`);
  const p = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

/** What a string or URL target is: an IndexedDB name, a file path, or a URL to fetch. */
function classify(f: string | URL): { idb: string } | { path: string } | { url: string } {
  const s = typeof f === "string" ? f : f.href;
  if (s.startsWith(IDB_SCHEME)) {
    const name = s.slice(IDB_SCHEME.length);
    if (!name) throw new TypeError(`"${s}" names no entry: write "indexeddb://<name>"`);
    return { idb: name };
  }
  // a scheme of two letters or more (a Windows drive letter "C:" is a path)
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(s)?.[1]?.toLowerCase();
  if (scheme === "file") return { path: fileUrlPath(new URL(s)) };
  if (scheme) return { url: s };
  return { path: s };
}

/** A relative URL resolved against the page (browsers, where a string that is not a URL is fetched). */
function pageUrl(s: string): string {
  const base = typeof document !== "undefined" ? document.baseURI : globalThis.location?.href;
  return base ? new URL(s, base).href : s;
}

function indexedDbFactory(who: string): IDBFactory {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) {
    throw new Error(
      `${who}: "${IDB_SCHEME}" needs IndexedDB, which this environment does not have${isNode() ? " (Node: use a file path)" : ""}`,
    );
  }
  return factory;
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function openDatabase(who: string): Promise<IDBDatabase> {
  const req = indexedDbFactory(who).open(IDB_DATABASE, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(IDB_STORE)) req.result.createObjectStore(IDB_STORE);
  };
  return done(req);
}

/** Run `body` in a transaction of the files store and wait until the transaction completes. */
async function inStore<T>(
  who: string,
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDatabase(who);
  try {
    const tx = db.transaction(IDB_STORE, mode);
    const result = done(body(tx.objectStore(IDB_STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error(`${who}: the IndexedDB transaction was aborted`));
    });
    return await result;
  } finally {
    db.close();
  }
}

/** One saved file in IndexedDB. */
interface StoredFile {
  bytes: Uint8Array;
  size: number;
  savedAt: string;
  format: "safetensors";
}

/** The bytes of a safetensors file of `tensors`, reading tensors on other devices asynchronously. */
async function toBytes(
  tensors: Map<string, Tensor>,
  metadata: Record<string, string>,
): Promise<Uint8Array<ArrayBuffer>> {
  const cpu = new Map<string, Tensor>();
  for (const [name, t] of tensors) cpu.set(name, t.device === "cpu" ? t : await t.toAsync("cpu"));
  return serializeSafetensors(cpu, metadata);
}

async function readAll(f: Exclude<LoadSource, string | URL>): Promise<Uint8Array> {
  if (f instanceof Uint8Array) return f;
  if (isBuffer(f)) return new Uint8Array(f);
  if (ArrayBuffer.isView(f)) return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  if (typeof Response !== "undefined" && f instanceof Response && !f.ok) {
    throw new Error(
      `load(): the response for ${f.url || "the request"} is ${f.status} ${f.statusText}`.trim(),
    );
  }
  if ("arrayBuffer" in f && typeof f.arrayBuffer === "function") return new Uint8Array(await f.arrayBuffer());
  if ("getReader" in f && typeof f.getReader === "function")
    return new Uint8Array(await new Response(f as ReadableStream<Uint8Array>).arrayBuffer());
  const b = await (f as { readFile(): Promise<Uint8Array> }).readFile();
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let r: Response;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new Error(`load(): fetching ${url} failed: ${(e as Error).message}`, { cause: e });
  }
  if (!r.ok) throw new Error(`load(): fetching ${url} failed: ${r.status} ${r.statusText}`.trim());
  return new Uint8Array(await r.arrayBuffer());
}

/** The device a string or dict `map_location` sends the stored location to. */
function mappedDevice(m: MapLocation | null): string | undefined {
  if (m === null || typeof m === "function") return undefined;
  if (typeof m === "string") return m;
  if (m instanceof Map) return m.get(STORED_LOCATION);
  return Object.hasOwn(m, STORED_LOCATION) ? (m as Record<string, string>)[STORED_LOCATION] : undefined;
}

// ---------------------------------------------------------------------------------------------------- save/load

async function saveImpl({ obj, f }: ParsedOf<typeof SAVE>): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const { tensors, layout } = flatten(obj);
  const metadata: Record<string, string> = { format: "pt" };
  if (layout) metadata[LAYOUT_KEY] = JSON.stringify(layout);
  if (f === null) return toBytes(tensors, metadata);
  if (typeof f === "string" || f instanceof URL) {
    const where = classify(f);
    if ("path" in where) {
      if (!isNode()) {
        throw new Error(
          `save(): there is no file system here to write "${where.path}" to: call save(obj) for the bytes, or save to "indexeddb://name"`,
        );
      }
      await saveSafetensors(tensors, where.path, metadata);
    } else if ("idb" in where) {
      const bytes = await toBytes(tensors, metadata);
      const record: StoredFile = {
        bytes,
        size: bytes.length,
        savedAt: new Date().toISOString(),
        format: "safetensors",
      };
      await inStore("save()", "readwrite", (store) => store.put(record, where.idb));
    } else {
      throw new TypeError(
        `save(): cannot write to ${where.url}: save to a path, "indexeddb://name", a writable, or call save(obj) for the bytes`,
      );
    }
    return undefined;
  }
  const bytes = await toBytes(tensors, metadata);
  if ("getWriter" in f && typeof f.getWriter === "function") {
    const writer = f.getWriter();
    try {
      await writer.write(bytes);
    } finally {
      writer.releaseLock();
    }
  } else await (f as { write(bytes: Uint8Array): unknown }).write(bytes);
  return undefined;
}

async function loadImpl({ f, mapLocation }: ParsedOf<typeof LOAD>): Promise<unknown> {
  const device = mappedDevice(mapLocation);
  let result: { tensors: Map<string, Tensor>; metadata: Record<string, string> };
  let source: string;
  if (typeof f === "string" || f instanceof URL) {
    const where = classify(f);
    if ("path" in where && isNode()) {
      source = where.path;
      result = await loadSafetensorsWithMetadata(where.path, { device });
    } else {
      let bytes: Uint8Array;
      if ("idb" in where) {
        source = `${IDB_SCHEME}${where.idb}`;
        const record = await inStore<StoredFile | undefined>("load()", "readonly", (store) =>
          store.get(where.idb),
        );
        if (!record) {
          throw new Error(
            `load(): nothing is saved under "${source}" (IndexedDB database "${IDB_DATABASE}", store "${IDB_STORE}")`,
          );
        }
        bytes = record.bytes instanceof Uint8Array ? record.bytes : new Uint8Array(record.bytes);
      } else {
        source = "url" in where ? where.url : pageUrl(where.path);
        bytes = await fetchBytes(source);
      }
      result = deserializeSafetensorsWithMetadata(bytes, source, { device });
    }
  } else {
    source = f instanceof Blob && "name" in f && f.name ? String(f.name) : "<bytes>";
    result = deserializeSafetensorsWithMetadata(await readAll(f), source, { device });
  }
  let { tensors } = result;
  if (typeof mapLocation === "function") {
    const mapped = new Map<string, Tensor>();
    for (const [name, t] of tensors) {
      const r = await mapLocation(t, STORED_LOCATION);
      if (r !== null && r !== undefined && !(r instanceof Tensor)) {
        throw new TypeError(
          `load(): map_location returned ${typeof r} for "${name}"; it must return a Tensor or null`,
        );
      }
      mapped.set(name, r ?? t);
    }
    tensors = mapped;
  }
  const layout = result.metadata[LAYOUT_KEY];
  if (layout === undefined) return tensors;
  let parsed: unknown;
  try {
    parsed = JSON.parse(layout);
  } catch (e) {
    throw new SafetensorsError(
      `load(): ${source}: the "${LAYOUT_KEY}" metadata is not JSON (${(e as Error).message})`,
    );
  }
  return unflatten(parsed, tensors, source);
}

/** `torch.save` (see the module doc): the bytes when `f` is left out, nothing otherwise. */
export interface SaveFn {
  (obj: object, f?: null): Promise<Uint8Array<ArrayBuffer>>;
  (...args: CallsOf<typeof SAVE>): Promise<undefined>;
  readonly signature: typeof SAVE;
}
/** `torch.load` (see the module doc): a Map of tensors for a state dict, the saved object otherwise. */
export interface LoadFn {
  // NoInfer: `model.loadStateDict(await load(f))` gives T its default, not a type from loadStateDict's parameter
  <T = Map<string, Tensor>>(...args: CallsOf<typeof LOAD>): Promise<NoInfer<T>>;
  readonly signature: typeof LOAD;
}

/**
 * `torch.save(obj, f=None, pickle_module=..., pickle_protocol=2, _use_new_zipfile_serialization=True)`: write `obj`
 * (a state dict, a tensor, or Maps, objects and arrays of them) as safetensors to `f`: a path (Node, atomically), a
 * `file:` URL, `"indexeddb://name"` or a writable; with no `f`, return the bytes. The pickle parameters only take
 * their defaults. `torch.save("x.pt", sd)` (the file first) is an error that gives the order.
 *
 *   await torch.save(model.stateDict(), "mnist.safetensors");
 *   const bytes = await torch.save(model.stateDict());            // Uint8Array; new Blob([bytes])
 *   await torch.save(model.stateDict(), "indexeddb://mnist");     // browsers
 */
export const save = Object.defineProperties(
  async (...args: unknown[]): Promise<Uint8Array<ArrayBuffer> | undefined> => {
    if (typeof args[0] === "string" && args.length >= 2 && isObject(args[1])) {
      throw new ArgumentError(
        `save(): the object comes first, then the file: save(obj, f), as PyTorch's torch.save(obj, f); got the string ${JSON.stringify(args[0])} first (write torch.save(model.stateDict(), ${JSON.stringify(args[0])}))`,
      );
    }
    return saveImpl(SAVE.parse(args as never));
  },
  { name: { value: "save" }, signature: { value: SAVE, enumerable: true } },
) as unknown as SaveFn;

/**
 * `torch.load(f, map_location=None, pickle_module=None, *, weights_only=False)`: read a safetensors file written by
 * `save` or by Python's `safetensors.torch.save_file`. `f` is a path (Node), a URL (fetched), `"indexeddb://name"`,
 * bytes, a Blob or a Response. A state dict comes back as a Map in file order (PyTorch's OrderedDict), other saved
 * objects as they were saved. `mapLocation` puts the tensors on a device (`"cpu"`, `"webgpu"`), through a mapping
 * `{ cpu: "webgpu" }`, or through a function `(tensor, location) => tensor`; without it they are on the CPU.
 * Corrupt or truncated data is a `SafetensorsError` naming the source, the tensor and the byte offset.
 *
 *   model.loadStateDict(await torch.load("mnist.safetensors"));
 *   const sd = await torch.load(await fetch("/mnist.safetensors"), { mapLocation: "webgpu" });
 */
export const load = Object.defineProperties(
  async (...args: unknown[]): Promise<unknown> => loadImpl(LOAD.parse(args as never)),
  { name: { value: "load" }, signature: { value: LOAD, enumerable: true } },
) as unknown as LoadFn;
