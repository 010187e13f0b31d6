import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../../tests/assert.ts";
import { crc32 } from "./crc.ts";
import {
  decodeGuid,
  decodeName,
  deriveGuid,
  encodeGpt,
  encodeGuid,
  encodeName,
  GPT_ENTRIES_SECTORS,
  GptError,
  type GptTable,
  gptUsableRange,
  hasProtectiveMbr,
  LINUX_DATA_TYPE_GUID,
  readGpt,
  SECTOR_SIZE,
  validateTable,
} from "./gpt.ts";

/** A sparse in-memory disk: only the sectors written exist, the rest read as zeros. */
class SparseDisk {
  sectors = new Map<number, Uint8Array>();
  constructor(readonly totalSectors: number) {}
  write(lba: number, data: Uint8Array): void {
    for (let i = 0; i < data.length / SECTOR_SIZE; i++) {
      this.sectors.set(lba + i, data.slice(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    }
  }
  read = (lba: number, count: number): Promise<Uint8Array> => {
    const out = new Uint8Array(count * SECTOR_SIZE);
    for (let i = 0; i < count; i++) {
      const s = this.sectors.get(lba + i);
      if (s) out.set(s, i * SECTOR_SIZE);
    }
    return Promise.resolve(out);
  };
  sector(lba: number): Uint8Array {
    let s = this.sectors.get(lba);
    if (!s) {
      s = new Uint8Array(SECTOR_SIZE);
      this.sectors.set(lba, s);
    }
    return s;
  }
}

function writeTable(table: GptTable, totalSectors = table.totalSectors): SparseDisk {
  const disk = new SparseDisk(totalSectors);
  const img = encodeGpt(table);
  disk.write(0, img.head);
  disk.write(img.tailLba, img.tail);
  return disk;
}

function u64(bytes: Uint8Array, at: number): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true));
}

function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}

/** Recomputes the header CRC of a header sector after a deliberate edit. */
function resealHeader(sector: Uint8Array): void {
  const copy = sector.slice(0, 92);
  copy.fill(0, 16, 20);
  new DataView(sector.buffer, sector.byteOffset).setUint32(16, crc32(copy), true);
}

/** The default image's shape: 64 MiB, the StateFS area and the two system slots. */
const TOTAL_SECTORS = 131072;
const table: GptTable = {
  totalSectors: TOTAL_SECTORS,
  diskGuid: await deriveGuid("gpt-test disk"),
  ...gptUsableRange(TOTAL_SECTORS),
  partitions: await Promise.all(
    ([["nexus-state", 2048, 63487], ["system-a", 63488, 96255], [
      "system-b",
      96256,
      129023,
    ]] as const)
      .map(async ([name, firstLba, lastLba], i) => ({
        index: i + 1,
        typeGuid: LINUX_DATA_TYPE_GUID,
        uniqueGuid: await deriveGuid(`gpt-test ${name}`),
        firstLba,
        lastLba,
        attributes: 0n,
        name,
      })),
  ),
};
const LAST = table.totalSectors - 1;

Deno.test("GUIDs encode mixed-endian on disk and decode back", () => {
  const bytes = encodeGuid(LINUX_DATA_TYPE_GUID);
  assertEquals(
    Array.from(bytes),
    [
      0xaf,
      0x3d,
      0xc6,
      0x0f,
      0x83,
      0x84,
      0x72,
      0x47,
      0x8e,
      0x79,
      0x3d,
      0x69,
      0xd8,
      0x47,
      0x7d,
      0xe4,
    ],
  );
  assertEquals(decodeGuid(bytes), LINUX_DATA_TYPE_GUID);
  assertEquals(decodeGuid(encodeGuid(LINUX_DATA_TYPE_GUID.toLowerCase())), LINUX_DATA_TYPE_GUID);
  assertThrows(() => encodeGuid("0FC63DAF-8483-4772-8E79"), GptError);
  assertThrows(() => encodeGuid("ZZC63DAF-8483-4772-8E79-3D69D8477DE4"), GptError);
});

Deno.test("derived GUIDs are stable, seed-dependent, RFC 9562 version 8", async () => {
  const a = await deriveGuid("seed-a");
  assertEquals(await deriveGuid("seed-a"), a);
  assert(a !== await deriveGuid("seed-b"));
  assertMatch(a, /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
});

Deno.test("partition names are NUL-padded UTF-16LE, at most 36 code units", () => {
  const bytes = encodeName("nexus-state");
  assertEquals(bytes.length, 72);
  assertEquals(Array.from(bytes.subarray(0, 4)), [0x6e, 0, 0x65, 0]);
  assert(bytes.subarray(22).every((b) => b === 0));
  assertEquals(decodeName(bytes), "nexus-state");
  assertEquals(decodeName(encodeName("zustand-ü€")), "zustand-ü€");
  assertEquals(decodeName(encodeName("x".repeat(36))), "x".repeat(36));
  assertThrows(() => encodeName("x".repeat(37)), GptError, "longer than 36");
});

Deno.test("GPT round trip: the default table reads back identical from both copies", async () => {
  const disk = writeTable(table);
  const r = await readGpt(disk.read, table.totalSectors);
  assertEquals(r.problems, []);
  assertEquals(r.source, "primary");
  assertEquals(r.table, table);
  assert(r.backup.ok);
  assertEquals(r.backup.partitions, table.partitions);
  assertEquals(table.partitions.map((p) => p.name), ["nexus-state", "system-a", "system-b"]);
});

Deno.test("protective MBR and primary header sit where UEFI puts them", () => {
  const { head } = encodeGpt(table);
  const mbr = head.subarray(0, SECTOR_SIZE);
  assert(hasProtectiveMbr(mbr));
  assertEquals(mbr[446 + 4], 0xee);
  assertEquals(u32(mbr, 446 + 8), 1);
  assertEquals(u32(mbr, 446 + 12), LAST);
  assertEquals([mbr[510], mbr[511]], [0x55, 0xaa]);
  const hdr = head.subarray(SECTOR_SIZE, 2 * SECTOR_SIZE);
  assertEquals(new TextDecoder().decode(hdr.subarray(0, 8)), "EFI PART");
  assertEquals(u32(hdr, 8), 0x00010000);
  assertEquals(u32(hdr, 12), 92);
  assertEquals(u64(hdr, 24), 1);
  assertEquals(u64(hdr, 32), LAST);
  assertEquals(u64(hdr, 40), 34);
  assertEquals(u64(hdr, 48), LAST - 33);
  assertEquals(u64(hdr, 72), 2);
  assertEquals(u32(hdr, 80), 128);
  assertEquals(u32(hdr, 84), 128);
  assertEquals(u32(hdr, 88), crc32(head.subarray(2 * SECTOR_SIZE, 34 * SECTOR_SIZE)));
  assert(hdr.subarray(92).every((b) => b === 0), "rest of the header sector is zero");
});

Deno.test("backup header mirrors the primary at the last LBA with its own entry array", () => {
  const { head, tail, tailLba } = encodeGpt(table);
  assertEquals(tailLba, LAST - GPT_ENTRIES_SECTORS);
  const entries = tail.subarray(0, GPT_ENTRIES_SECTORS * SECTOR_SIZE);
  assertEquals(entries, head.subarray(2 * SECTOR_SIZE));
  const bk = tail.subarray(GPT_ENTRIES_SECTORS * SECTOR_SIZE);
  assertEquals(u64(bk, 24), LAST);
  assertEquals(u64(bk, 32), 1);
  assertEquals(u64(bk, 72), LAST - GPT_ENTRIES_SECTORS);
  const pri = head.subarray(SECTOR_SIZE, 2 * SECTOR_SIZE);
  assertEquals(bk.subarray(40, 72), pri.subarray(40, 72), "usable range and disk GUID");
  assertEquals(bk.subarray(80, 92), pri.subarray(80, 92), "entry count, size and CRC");
});

Deno.test("a damaged primary header is detected and the backup still yields the table", async () => {
  const disk = writeTable(table);
  disk.sector(1)[40] ^= 0x01;
  const r = await readGpt(disk.read, table.totalSectors);
  assertEquals(r.source, "backup");
  assertEquals(r.table, table);
  assertEquals(r.problems.map((p) => p.code), ["HEADER_CRC"]);
  assertMatch(r.problems[0].message, /primary GPT header CRC mismatch/);
});

Deno.test("a damaged primary entry array fails its CRC", async () => {
  const disk = writeTable(table);
  disk.sector(2)[60] ^= 0xff; // inside partition 1's name
  const r = await readGpt(disk.read, table.totalSectors);
  assertEquals(r.source, "backup");
  assertEquals(r.table, table);
  assertEquals(r.problems.map((p) => p.code), ["ENTRIES_CRC"]);
});

Deno.test("a damaged backup header or array is reported while the primary is used", async () => {
  const a = writeTable(table);
  a.sector(LAST)[100] = 1; // beyond the CRC'd 92 bytes: harmless
  assertEquals((await readGpt(a.read, table.totalSectors)).problems, []);
  a.sector(LAST)[60] ^= 0x10;
  const ra = await readGpt(a.read, table.totalSectors);
  assertEquals(ra.source, "primary");
  assertEquals(ra.problems.map((p) => p.code), ["HEADER_CRC"]);
  assertMatch(ra.problems[0].message, /^backup/);
  const b = writeTable(table);
  b.sector(LAST - GPT_ENTRIES_SECTORS)[32] ^= 0x01;
  assertEquals((await readGpt(b.read, table.totalSectors)).problems.map((p) => p.code), [
    "ENTRIES_CRC",
  ]);
});

Deno.test("both copies destroyed: readGpt throws the primary's reason", async () => {
  const disk = writeTable(table);
  disk.sector(1)[0] = 0;
  disk.sector(LAST)[0] = 0;
  const err = await assertRejects(() => readGpt(disk.read, table.totalSectors), GptError);
  assertEquals(err.code, "BAD_SIGNATURE");
  assertMatch(err.message, /primary GPT header at LBA 1/);
});

Deno.test("a missing protective MBR is a problem", async () => {
  const disk = writeTable(table);
  disk.sector(0)[446 + 4] = 0x83;
  assertEquals((await readGpt(disk.read, table.totalSectors)).problems.map((p) => p.code), [
    "NO_PROTECTIVE_MBR",
  ]);
  disk.sector(0)[446 + 4] = 0xee;
  disk.sector(0)[511] = 0;
  assertEquals((await readGpt(disk.read, table.totalSectors)).problems.map((p) => p.code), [
    "NO_PROTECTIVE_MBR",
  ]);
});

Deno.test("a grown disk (backup no longer at the end) is detected", async () => {
  const disk = writeTable(table);
  const r = await readGpt(disk.read, table.totalSectors + 2048);
  assertEquals(r.problems.map((p) => p.code), ["BACKUP_MISPLACED"]);
  assertMatch(r.problems[0].message, /disk ends at/);
});

Deno.test("copies that are each valid but disagree are detected", async () => {
  const disk = writeTable(table);
  const other = {
    ...table,
    partitions: table.partitions.map((p) => ({ ...p, name: p.name + "x" })),
  };
  const img = encodeGpt(other);
  disk.write(img.tailLba, img.tail);
  const r = await readGpt(disk.read, table.totalSectors);
  assertEquals(r.problems.map((p) => p.code), ["BACKUP_MISMATCH"]);
  assertEquals(r.table, table);
});

Deno.test("an entry outside the usable range is rejected even with valid CRCs", async () => {
  const disk = writeTable(table);
  for (const [hdrLba, arrLba] of [[1, 2], [LAST, LAST - GPT_ENTRIES_SECTORS]]) {
    const arr = new Uint8Array(await disk.read(arrLba, GPT_ENTRIES_SECTORS));
    new DataView(arr.buffer).setBigUint64(40, BigInt(LAST), true); // entry 1 last LBA
    disk.write(arrLba, arr);
    const hdr = disk.sector(hdrLba);
    new DataView(hdr.buffer).setUint32(88, crc32(arr), true);
    resealHeader(hdr);
  }
  const err = await assertRejects(() => readGpt(disk.read, table.totalSectors), GptError);
  assertEquals(err.code, "BAD_ENTRY");
  assertMatch(err.message, /outside the usable range/);
});

Deno.test("overlapping entries are rejected on read and on write", async () => {
  const bad = {
    ...table,
    partitions: [table.partitions[0], {
      ...table.partitions[1],
      firstLba: table.partitions[0].lastLba,
    }],
  };
  assertThrows(() => encodeGpt(bad), GptError, "overlap");
  const disk = writeTable(table);
  for (const [hdrLba, arrLba] of [[1, 2], [LAST, LAST - GPT_ENTRIES_SECTORS]]) {
    const arr = new Uint8Array(await disk.read(arrLba, GPT_ENTRIES_SECTORS));
    new DataView(arr.buffer).setBigUint64(128 + 32, BigInt(table.partitions[0].lastLba), true);
    disk.write(arrLba, arr);
    const hdr = disk.sector(hdrLba);
    new DataView(hdr.buffer).setUint32(88, crc32(arr), true);
    resealHeader(hdr);
  }
  const err = await assertRejects(() => readGpt(disk.read, table.totalSectors), GptError);
  assertEquals(err.code, "BAD_ENTRY");
  assertMatch(err.message, /overlap/);
});

Deno.test("a header with a valid CRC but impossible geometry is rejected", async () => {
  const disk = writeTable(table);
  for (const lba of [1, LAST]) {
    const hdr = disk.sector(lba);
    new DataView(hdr.buffer).setUint32(80, 1 << 20, true); // entry count
    resealHeader(hdr);
  }
  const err = await assertRejects(() => readGpt(disk.read, table.totalSectors), GptError);
  assertEquals(err.code, "BAD_HEADER");
});

Deno.test("validateTable refuses tables that do not fit", () => {
  const p = table.partitions[0];
  assertEquals(
    assertThrows(() => validateTable({ ...table, totalSectors: 60 }), GptError).code,
    "TOO_SMALL",
  );
  assertThrows(
    () => validateTable({ ...table, partitions: [{ ...p, lastLba: LAST }] }),
    GptError,
    "outside the usable range",
  );
  assertThrows(
    () => validateTable({ ...table, partitions: [{ ...p, firstLba: 10 }] }),
    GptError,
    "outside the usable range",
  );
  assertThrows(() => validateTable({ ...table, partitions: [p, { ...p, name: "b" }] }), GptError);
  assertThrows(
    () =>
      validateTable({
        ...table,
        partitions: [{ ...p, typeGuid: "00000000-0000-0000-0000-000000000000" }],
      }),
    GptError,
    "unused entry",
  );
  assertThrows(() => validateTable({ ...table, diskGuid: "nope" }), GptError, "disk GUID");
});

Deno.test("readGpt refuses a disk too small to hold a GPT", async () => {
  const disk = new SparseDisk(40);
  const err = await assertRejects(() => readGpt(disk.read, 40), GptError);
  assertEquals(err.code, "TOO_SMALL");
});
