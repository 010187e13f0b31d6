/**
 * StateFS against SQLite (`node:sqlite`, WAL, synchronous=FULL) on the same file system (a temp
 * directory on disk), with real fsyncs (`fdatasync` through FileBlockDevice.sync):
 *
 * - put+sync: one put made durable per operation (SQLite: one autocommit INSERT per operation);
 * - batch: 1,000 puts then one sync (SQLite: BEGIN, 1,000 INSERTs, COMMIT);
 * - replay: open a StateFS whose journal holds 32 MiB of records and replay it into memory
 *   (SQLite: open the database holding the same rows and read every row into a Map), against
 *   the floor of reading as many bytes and computing their CRC32-C;
 * - put+sync without the synced-end mark that each sync writes into the superblock: the cost of
 *   making a lost synced tail detectable.
 *
 * The put benchmarks use a 32 MiB device, the size of the default image's StateFS partition, so
 * automatic compactions happen at their natural rate and are part of the cost.
 *
 * Run with `deno task bench` (or `deno bench -A core/statefs/engine_bench.ts`).
 */
import { DatabaseSync } from "node:sqlite";
import { FileBlockDevice } from "./devices.ts";
import { StateFs } from "./engine.ts";
import { crc32c } from "./crc.ts";

const dir = Deno.makeTempDirSync({ prefix: "nexus-statefs-bench-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const VALUE = new Uint8Array(100).map((_, i) => (i * 7) & 0xff);
const KEYS = Array.from({ length: 4096 }, (_, i) => `/state/bench/key-${i}`);

/**
 * Creates the image file. `allocated` writes it out in full: a disk's sectors exist before
 * StateFS writes them, whereas a sparse file makes the first write to each file-system block
 * an allocation that `fdatasync` must journal (SQLite's files are allocated after warm-up too).
 */
function imageFile(path: string, bytes: number, allocated: boolean): void {
  const f = Deno.openSync(path, { create: true, write: true, truncate: true });
  if (allocated) {
    const zeros = new Uint8Array(1024 * 1024);
    for (let done = 0; done < bytes; done += zeros.length) f.writeSync(zeros);
    f.syncSync();
  } else {
    f.truncateSync(bytes);
  }
  f.close();
}

async function engine(name: string, mib: number, confirmSyncs = true): Promise<StateFs> {
  const path = `${dir}/${name}.img`;
  imageFile(path, mib * 1024 * 1024, true);
  const dev = await FileBlockDevice.open(path);
  await StateFs.format(dev);
  return StateFs.open(dev, { maxReplayRecords: 10_000_000, confirmSyncs });
}

function sqlite(name: string): DatabaseSync {
  const db = new DatabaseSync(`${dir}/${name}.db`);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)");
  return db;
}

// (a) one durable put per operation --------------------------------------------------------

const fsA = await engine("a", 32);
let ia = 0;
Deno.bench({
  name: "statefs put+sync",
  group: "put+sync per operation",
  baseline: true,
  n: 3000,
  async fn() {
    await fsA.put(KEYS[ia++ % KEYS.length], VALUE);
    await fsA.sync();
  },
});

// The same without the synced-end mark each sync writes into the superblock (its cost).
const fsN = await engine("n", 32, false);
let ina = 0;
Deno.bench({
  name: "statefs put+sync, no synced-end mark",
  group: "put+sync per operation",
  n: 3000,
  async fn() {
    await fsN.put(KEYS[ina++ % KEYS.length], VALUE);
    await fsN.sync();
  },
});

const dbA = sqlite("a");
const insA = dbA.prepare("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
let ja = 0;
Deno.bench({
  name: "sqlite insert (autocommit)",
  group: "put+sync per operation",
  n: 3000,
  fn() {
    insA.run(KEYS[ja++ % KEYS.length], VALUE);
  },
});

// (b) 1,000 puts then one sync -------------------------------------------------------------

const fsB = await engine("b", 32);
let ib = 0;
Deno.bench({
  name: "statefs 1000 puts + sync",
  group: "1000 puts then one sync",
  baseline: true,
  n: 100,
  async fn() {
    for (let i = 0; i < 1000; i++) await fsB.put(KEYS[ib++ % KEYS.length], VALUE);
    await fsB.sync();
  },
});

const dbB = sqlite("b");
const insB = dbB.prepare("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
let jb = 0;
Deno.bench({
  name: "sqlite 1000 inserts in one transaction",
  group: "1000 puts then one sync",
  n: 100,
  fn() {
    dbB.exec("BEGIN");
    for (let i = 0; i < 1000; i++) insB.run(KEYS[jb++ % KEYS.length], VALUE);
    dbB.exec("COMMIT");
  },
});

// (c) open + replay of a 32 MiB journal ----------------------------------------------------

const JOURNAL_BYTES = 32 * 1024 * 1024;

/** Fills a StateFS and a SQLite database with the same rows; returns the StateFS image path. */
async function buildReplay(name: string, valueSize: number): Promise<string> {
  const path = `${dir}/${name}.img`;
  imageFile(path, 80 * 1024 * 1024, false);
  const dev = await FileBlockDevice.open(path);
  await StateFs.format(dev);
  const fs = await StateFs.open(dev, { maxReplayRecords: 10_000_000 });
  const db = sqlite(name);
  const ins = db.prepare("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
  const value = new Uint8Array(valueSize).map((_, i) => (i * 13) & 0xff);
  db.exec("BEGIN");
  for (let i = 0; fs.stats().bytesUsed < JOURNAL_BYTES; i++) {
    const key = `/state/replay/${name}/${i.toString().padStart(8, "0")}`;
    await fs.put(key, value);
    ins.run(key, value);
  }
  db.exec("COMMIT");
  db.close();
  await fs.sync();
  dev.close();
  return path;
}

// The first opens of a process run on memory it has never touched (page faults, heap growth) and
// cost several times a later one, for every contender; ten runs averaged mostly measured that.
const REPLAY_RUNS = 30;
const REPLAY_WARMUP = 5;

for (const valueSize of [1024, 128]) {
  const name = `replay${valueSize}`;
  const path = await buildReplay(name, valueSize);
  const group = `open + replay 32 MiB journal, ${valueSize}-byte values`;
  Deno.bench({
    name: `statefs open+replay (${valueSize} B values)`,
    group,
    baseline: true,
    n: REPLAY_RUNS,
    warmup: REPLAY_WARMUP,
    async fn() {
      const dev = await FileBlockDevice.open(path, { readOnly: true });
      const fs = await StateFs.open(dev, { maxReplayRecords: 10_000_000 });
      if (fs.stats().bytesUsed < JOURNAL_BYTES) throw new Error("short journal");
      dev.close();
    },
  });
  Deno.bench({
    name: `read the journal bytes + CRC32-C (${valueSize} B values)`,
    group,
    n: REPLAY_RUNS,
    warmup: REPLAY_WARMUP,
    async fn() {
      // The floor: read as many bytes as the journal holds, in the same 1 MiB requests, and
      // checksum them, with nothing decoded or indexed.
      const dev = await FileBlockDevice.open(path, { readOnly: true });
      let crc = 0;
      for (let b = 0; b * 512 < JOURNAL_BYTES + 1024 * 1024; b += 2048) {
        crc = crc32c(await dev.read(1 + b, 2048), crc);
      }
      dev.close();
      if (crc === 0x12345678) throw new Error("unlikely");
    },
  });
  Deno.bench({
    name: `sqlite open + read all rows (${valueSize} B values)`,
    group,
    n: REPLAY_RUNS,
    warmup: REPLAY_WARMUP,
    fn() {
      const db = new DatabaseSync(`${dir}/${name}.db`);
      const rows = new Map<string, Uint8Array>();
      for (const row of db.prepare("SELECT key, value FROM kv").iterate()) {
        rows.set(row.key as string, row.value as Uint8Array);
      }
      db.close();
      if (rows.size === 0) throw new Error("empty database");
    },
  });
}
