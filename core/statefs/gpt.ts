/**
 * GUID Partition Table writer and reader (UEFI spec, chapter 5): protective MBR at LBA 0,
 * primary header at LBA 1, the 128-entry partition array from LBA 2, and the backup array and
 * backup header at the end of the disk, each header and array guarded by a CRC-32 (IEEE).
 * Images written here list cleanly with `sfdisk --dump` and `fdisk -l`.
 *
 * It sits in the block-device layer because both sides need one codec: `images/` writes and
 * inspects image files with it, and statefsd reads the table through its virtio-blk driver to
 * find its partition (services may import core, never images/).
 *
 * @module
 */

import { crc32 } from "./crc.ts";

/** Bytes per logical sector; nexus images always use 512. */
export const SECTOR_SIZE = 512;
/** Number of partition entries written (the UEFI minimum array size of 16 KiB). */
export const GPT_ENTRY_COUNT = 128;
/** Bytes per partition entry written. */
export const GPT_ENTRY_SIZE = 128;
/** Sectors taken by one copy of the partition entry array (128 x 128 bytes). */
export const GPT_ENTRIES_SECTORS: number = (GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) / SECTOR_SIZE;
/** Bytes of the header that its CRC covers (revision 1.0). */
export const GPT_HEADER_SIZE = 92;
/** Sectors at the start of the disk before the first usable LBA: MBR, header, array. */
export const GPT_HEAD_SECTORS: number = 2 + GPT_ENTRIES_SECTORS;
/** Sectors at the end of the disk after the last usable LBA: backup array, backup header. */
export const GPT_TAIL_SECTORS: number = GPT_ENTRIES_SECTORS + 1;
/** Longest partition name in UTF-16 code units (72 bytes). */
export const GPT_NAME_MAX = 36;
/** Partition type GUID "Linux filesystem data", the type of nexus's partitions other than StateFS. */
export const LINUX_DATA_TYPE_GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
/**
 * Partition type GUID of a StateFS partition: one fixed random (version 4) GUID that names the
 * format, so statefsd and the image tools find the partition whatever it is called
 * (docs/disk.md).
 */
export const STATEFS_TYPE_GUID = "5A09FE42-0A99-4CD6-AB09-B21EF493168F";

const SIGNATURE = "EFI PART";
const REVISION = 0x00010000;
// A corrupt-but-CRC-valid header must not make the reader allocate without bound.
const MAX_ENTRY_ARRAY_BYTES = 1 << 20;

/** Stable codes for GPT failures. */
export type GptErrorCode =
  | "TOO_SMALL"
  | "NO_PROTECTIVE_MBR"
  | "BAD_SIGNATURE"
  | "BAD_HEADER"
  | "HEADER_CRC"
  | "ENTRIES_CRC"
  | "BAD_ENTRY"
  | "BACKUP_MISMATCH"
  | "BACKUP_MISPLACED"
  | "BAD_TABLE";

/** A GPT that cannot be written or read as given, with a stable code. */
export class GptError extends Error {
  /** Creates an error with a stable `code` and a human message. */
  constructor(readonly code: GptErrorCode, message: string) {
    super(message);
    this.name = "GptError";
  }
}

/** One used partition entry. */
export interface GptPartition {
  /** 1-based position in the entry array (the number `fdisk` shows). */
  index: number;
  /** Partition type GUID, upper-case canonical text. */
  typeGuid: string;
  /** Unique partition GUID, upper-case canonical text. */
  uniqueGuid: string;
  /** First sector of the partition. */
  firstLba: number;
  /** Last sector of the partition (inclusive, as GPT stores it). */
  lastLba: number;
  /** Attribute bits. */
  attributes: bigint;
  /** Partition name (UTF-16LE on disk, at most 36 code units). */
  name: string;
}

/** A whole partition table: disk geometry, disk GUID and used entries. */
export interface GptTable {
  /** Size of the disk in sectors. */
  totalSectors: number;
  /** Disk GUID, upper-case canonical text. */
  diskGuid: string;
  /** First sector a partition may use. */
  firstUsableLba: number;
  /** Last sector a partition may use. */
  lastUsableLba: number;
  /** Used entries, in array order. */
  partitions: GptPartition[];
}

/** A parsed GPT header. */
export interface GptHeader {
  /** Header revision (0x00010000). */
  revision: number;
  /** Bytes of header covered by the header CRC. */
  headerSize: number;
  /** Stored header CRC-32. */
  headerCrc: number;
  /** Sector this header says it lives at. */
  myLba: number;
  /** Sector of the other copy of the header. */
  alternateLba: number;
  /** First sector a partition may use. */
  firstUsableLba: number;
  /** Last sector a partition may use. */
  lastUsableLba: number;
  /** Disk GUID. */
  diskGuid: string;
  /** First sector of this copy's entry array. */
  entriesLba: number;
  /** Number of entries in the array. */
  entryCount: number;
  /** Bytes per entry. */
  entrySize: number;
  /** Stored CRC-32 of the entry array. */
  entriesCrc: number;
}

/** The usable sector range of a disk with the standard 128-entry arrays. */
export function gptUsableRange(
  totalSectors: number,
): { firstUsableLba: number; lastUsableLba: number } {
  return {
    firstUsableLba: GPT_HEAD_SECTORS,
    lastUsableLba: totalSectors - GPT_TAIL_SECTORS - 1,
  };
}

// ---------------------------------------------------------------------------------------------
// GUIDs

const GUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i;

/** Whether `text` is a GUID in canonical 8-4-4-4-12 hex form. */
export function isGuid(text: string): boolean {
  return GUID_RE.test(text);
}

/**
 * Encodes a canonical GUID into the 16-byte on-disk form: the first three fields little-endian,
 * the last two as written (the "mixed-endian" layout UEFI uses).
 */
export function encodeGuid(text: string): Uint8Array {
  if (!isGuid(text)) throw new GptError("BAD_TABLE", `not a GUID: "${text}"`);
  const be = Uint8Array.fromHex(text.replaceAll("-", ""));
  const out = be.slice();
  out.set([be[3], be[2], be[1], be[0], be[5], be[4], be[7], be[6]], 0);
  return out;
}

/** Decodes the 16-byte on-disk form of a GUID into upper-case canonical text. */
export function decodeGuid(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new GptError("BAD_TABLE", "a GUID is 16 bytes");
  const b = bytes;
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  const hex = Uint8Array.from(order, (i) => b[i]).toHex().toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/**
 * Derives a GUID from `seed` (SHA-256, first 16 bytes) with the RFC 9562 version 8
 * ("custom") and variant bits set, so the same recipe always yields the same GUIDs.
 */
export async function deriveGuid(seed: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed)),
  );
  const b = digest.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toHex().toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

// ---------------------------------------------------------------------------------------------
// Names

/** Encodes a partition name as 72 bytes of NUL-padded UTF-16LE. */
export function encodeName(name: string): Uint8Array {
  if (name.length > GPT_NAME_MAX) {
    throw new GptError(
      "BAD_TABLE",
      `partition name "${name}" is longer than ${GPT_NAME_MAX} UTF-16 code units`,
    );
  }
  const out = new Uint8Array(GPT_NAME_MAX * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < name.length; i++) dv.setUint16(2 * i, name.charCodeAt(i), true);
  return out;
}

/** Decodes a 72-byte UTF-16LE partition name, stopping at the first NUL. */
export function decodeName(bytes: Uint8Array): string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const u = dv.getUint16(i, true);
    if (u === 0) break;
    units.push(u);
  }
  return String.fromCharCode(...units);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The bytes of a GPT: what goes at LBA 0 and what goes at the end of the disk. */
export interface GptImage {
  /** Protective MBR, primary header and primary entry array (LBA 0 .. 33). */
  head: Uint8Array;
  /** Backup entry array and backup header (the last 33 sectors). */
  tail: Uint8Array;
  /** Sector where `tail` starts. */
  tailLba: number;
}

/** Checks that `table` is a valid GPT for its disk: geometry, GUIDs, names, no overlaps. */
export function validateTable(table: GptTable): void {
  const { totalSectors } = table;
  if (
    !Number.isSafeInteger(totalSectors) || totalSectors < GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1
  ) {
    throw new GptError(
      "TOO_SMALL",
      `a GPT disk needs at least ${
        GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1
      } sectors, got ${totalSectors}`,
    );
  }
  const usable = gptUsableRange(totalSectors);
  if (
    table.firstUsableLba < usable.firstUsableLba || table.lastUsableLba > usable.lastUsableLba ||
    table.firstUsableLba > table.lastUsableLba
  ) {
    throw new GptError(
      "BAD_TABLE",
      `usable range ${table.firstUsableLba}..${table.lastUsableLba} does not fit the disk`,
    );
  }
  if (!isGuid(table.diskGuid)) throw new GptError("BAD_TABLE", `bad disk GUID "${table.diskGuid}"`);
  if (table.partitions.length > GPT_ENTRY_COUNT) {
    throw new GptError("BAD_TABLE", `at most ${GPT_ENTRY_COUNT} partitions`);
  }
  const seen = new Set<number>();
  const sorted = [...table.partitions].sort((a, b) => a.firstLba - b.firstLba);
  for (const p of table.partitions) {
    if (
      !Number.isInteger(p.index) || p.index < 1 || p.index > GPT_ENTRY_COUNT || seen.has(p.index)
    ) {
      throw new GptError("BAD_TABLE", `partition "${p.name}": bad or repeated index ${p.index}`);
    }
    seen.add(p.index);
    if (!isGuid(p.typeGuid) || !isGuid(p.uniqueGuid)) {
      throw new GptError("BAD_TABLE", `partition "${p.name}": bad GUID`);
    }
    if (/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(p.typeGuid)) {
      throw new GptError(
        "BAD_TABLE",
        `partition "${p.name}": the zero type GUID marks an unused entry`,
      );
    }
    if (
      !Number.isSafeInteger(p.firstLba) || !Number.isSafeInteger(p.lastLba) ||
      p.firstLba < table.firstUsableLba || p.lastLba > table.lastUsableLba || p.firstLba > p.lastLba
    ) {
      throw new GptError(
        "BAD_TABLE",
        `partition "${p.name}": sectors ${p.firstLba}..${p.lastLba} outside the usable range ${table.firstUsableLba}..${table.lastUsableLba}`,
      );
    }
    encodeName(p.name);
  }
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].firstLba <= sorted[i - 1].lastLba) {
      throw new GptError(
        "BAD_TABLE",
        `partitions "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`,
      );
    }
  }
}

function encodeEntries(partitions: GptPartition[]): Uint8Array {
  const out = new Uint8Array(GPT_ENTRY_COUNT * GPT_ENTRY_SIZE);
  const dv = new DataView(out.buffer);
  for (const p of partitions) {
    const at = (p.index - 1) * GPT_ENTRY_SIZE;
    out.set(encodeGuid(p.typeGuid), at);
    out.set(encodeGuid(p.uniqueGuid), at + 16);
    dv.setBigUint64(at + 32, BigInt(p.firstLba), true);
    dv.setBigUint64(at + 40, BigInt(p.lastLba), true);
    dv.setBigUint64(at + 48, p.attributes, true);
    out.set(encodeName(p.name), at + 56);
  }
  return out;
}

function encodeHeader(
  table: GptTable,
  myLba: number,
  alternateLba: number,
  entriesLba: number,
  entriesCrc: number,
): Uint8Array {
  const out = new Uint8Array(SECTOR_SIZE);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(SIGNATURE), 0);
  dv.setUint32(8, REVISION, true);
  dv.setUint32(12, GPT_HEADER_SIZE, true);
  dv.setBigUint64(24, BigInt(myLba), true);
  dv.setBigUint64(32, BigInt(alternateLba), true);
  dv.setBigUint64(40, BigInt(table.firstUsableLba), true);
  dv.setBigUint64(48, BigInt(table.lastUsableLba), true);
  out.set(encodeGuid(table.diskGuid), 56);
  dv.setBigUint64(72, BigInt(entriesLba), true);
  dv.setUint32(80, GPT_ENTRY_COUNT, true);
  dv.setUint32(84, GPT_ENTRY_SIZE, true);
  dv.setUint32(88, entriesCrc, true);
  dv.setUint32(16, crc32(out.subarray(0, GPT_HEADER_SIZE)), true);
  return out;
}

/** Encodes the protective MBR: one partition of type 0xEE covering the disk from LBA 1. */
export function encodeProtectiveMbr(totalSectors: number): Uint8Array {
  const out = new Uint8Array(SECTOR_SIZE);
  const dv = new DataView(out.buffer);
  const at = 446;
  out[at] = 0x00; // not bootable
  out.set([0x00, 0x02, 0x00], at + 1); // CHS of LBA 1
  out[at + 4] = 0xee;
  out.set([0xff, 0xff, 0xff], at + 5); // CHS "beyond addressing"
  dv.setUint32(at + 8, 1, true);
  dv.setUint32(at + 12, Math.min(totalSectors - 1, 0xffffffff), true);
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
}

/** Encodes `table` into the head and tail byte ranges of a disk. */
export function encodeGpt(table: GptTable): GptImage {
  validateTable(table);
  const last = table.totalSectors - 1;
  const entries = encodeEntries(table.partitions);
  const entriesCrc = crc32(entries);
  const backupEntriesLba = last - GPT_ENTRIES_SECTORS;
  const head = new Uint8Array(GPT_HEAD_SECTORS * SECTOR_SIZE);
  head.set(encodeProtectiveMbr(table.totalSectors), 0);
  head.set(encodeHeader(table, 1, last, 2, entriesCrc), SECTOR_SIZE);
  head.set(entries, 2 * SECTOR_SIZE);
  const tail = new Uint8Array(GPT_TAIL_SECTORS * SECTOR_SIZE);
  tail.set(entries, 0);
  tail.set(encodeHeader(table, last, 1, backupEntriesLba, entriesCrc), entries.length);
  return { head, tail, tailLba: backupEntriesLba };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Whether `sector` (LBA 0) carries an MBR signature with a protective 0xEE partition. */
export function hasProtectiveMbr(sector: Uint8Array): boolean {
  if (sector.length < SECTOR_SIZE || sector[510] !== 0x55 || sector[511] !== 0xaa) return false;
  for (let i = 0; i < 4; i++) {
    if (sector[446 + 16 * i + 4] === 0xee) return true;
  }
  return false;
}

/** Whether `sector` starts with the GPT header signature "EFI PART". */
export function hasGptSignature(sector: Uint8Array): boolean {
  return new TextDecoder().decode(sector.subarray(0, 8)) === SIGNATURE;
}

function u64(dv: DataView, at: number, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new GptError("BAD_HEADER", `${what} ${v} is out of range`);
  }
  return Number(v);
}

/**
 * Parses and checks one header sector: signature, size, CRC, and that it sits at
 * `expectedLba` on a disk of `totalSectors` sectors.
 */
export function parseGptHeader(
  sector: Uint8Array,
  expectedLba: number,
  totalSectors: number,
): GptHeader {
  const where = expectedLba === 1 ? "primary" : "backup";
  if (!hasGptSignature(sector)) {
    throw new GptError(
      "BAD_SIGNATURE",
      `${where} GPT header at LBA ${expectedLba}: no "EFI PART" signature`,
    );
  }
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const headerSize = dv.getUint32(12, true);
  if (headerSize < GPT_HEADER_SIZE || headerSize > SECTOR_SIZE) {
    throw new GptError("BAD_HEADER", `${where} GPT header: bad header size ${headerSize}`);
  }
  const headerCrc = dv.getUint32(16, true);
  const copy = sector.slice(0, headerSize);
  copy.fill(0, 16, 20);
  const computed = crc32(copy);
  if (computed !== headerCrc) {
    throw new GptError(
      "HEADER_CRC",
      `${where} GPT header CRC mismatch (stored 0x${hex32(headerCrc)}, computed 0x${
        hex32(computed)
      })`,
    );
  }
  const h: GptHeader = {
    revision: dv.getUint32(8, true),
    headerSize,
    headerCrc,
    myLba: u64(dv, 24, "header LBA"),
    alternateLba: u64(dv, 32, "alternate LBA"),
    firstUsableLba: u64(dv, 40, "first usable LBA"),
    lastUsableLba: u64(dv, 48, "last usable LBA"),
    diskGuid: decodeGuid(sector.slice(56, 72)),
    entriesLba: u64(dv, 72, "entry array LBA"),
    entryCount: dv.getUint32(80, true),
    entrySize: dv.getUint32(84, true),
    entriesCrc: dv.getUint32(88, true),
  };
  if (h.myLba !== expectedLba) {
    throw new GptError(
      "BAD_HEADER",
      `${where} GPT header claims LBA ${h.myLba}, found at ${expectedLba}`,
    );
  }
  if (h.entrySize < 128 || (h.entrySize & (h.entrySize - 1)) !== 0) {
    throw new GptError("BAD_HEADER", `${where} GPT header: bad entry size ${h.entrySize}`);
  }
  const arrayBytes = h.entryCount * h.entrySize;
  if (h.entryCount === 0 || arrayBytes > MAX_ENTRY_ARRAY_BYTES) {
    throw new GptError("BAD_HEADER", `${where} GPT header: bad entry count ${h.entryCount}`);
  }
  const arraySectors = Math.ceil(arrayBytes / SECTOR_SIZE);
  if (
    h.firstUsableLba > h.lastUsableLba || h.lastUsableLba >= totalSectors ||
    h.entriesLba < 2 || h.entriesLba + arraySectors > totalSectors
  ) {
    throw new GptError(
      "BAD_HEADER",
      `${where} GPT header does not fit a disk of ${totalSectors} sectors`,
    );
  }
  return h;
}

/** Sectors the entry array described by `h` occupies. */
export function entryArraySectors(h: GptHeader): number {
  return Math.ceil((h.entryCount * h.entrySize) / SECTOR_SIZE);
}

/** Checks the entry array CRC of `bytes` against `h` and returns the used entries. */
export function parseGptEntries(bytes: Uint8Array, h: GptHeader): GptPartition[] {
  const where = h.myLba === 1 ? "primary" : "backup";
  const array = bytes.subarray(0, h.entryCount * h.entrySize);
  const computed = crc32(array);
  if (computed !== h.entriesCrc) {
    throw new GptError(
      "ENTRIES_CRC",
      `${where} GPT entry array CRC mismatch (stored 0x${hex32(h.entriesCrc)}, computed 0x${
        hex32(computed)
      })`,
    );
  }
  const dv = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const parts: GptPartition[] = [];
  for (let i = 0; i < h.entryCount; i++) {
    const at = i * h.entrySize;
    const typeBytes = array.subarray(at, at + 16);
    if (typeBytes.every((b) => b === 0)) continue;
    const p: GptPartition = {
      index: i + 1,
      typeGuid: decodeGuid(array.slice(at, at + 16)),
      uniqueGuid: decodeGuid(array.slice(at + 16, at + 32)),
      firstLba: u64(dv, at + 32, `partition ${i + 1} first LBA`),
      lastLba: u64(dv, at + 40, `partition ${i + 1} last LBA`),
      attributes: dv.getBigUint64(at + 48, true),
      name: decodeName(array.subarray(at + 56, at + 128)),
    };
    if (p.firstLba < h.firstUsableLba || p.lastLba > h.lastUsableLba || p.firstLba > p.lastLba) {
      throw new GptError(
        "BAD_ENTRY",
        `${where} GPT partition ${p.index} ("${p.name}") spans sectors ${p.firstLba}..${p.lastLba}, outside the usable range ${h.firstUsableLba}..${h.lastUsableLba}`,
      );
    }
    parts.push(p);
  }
  const sorted = [...parts].sort((a, b) => a.firstLba - b.firstLba);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].firstLba <= sorted[i - 1].lastLba) {
      throw new GptError(
        "BAD_ENTRY",
        `${where} GPT partitions ${sorted[i - 1].index} and ${sorted[i].index} overlap`,
      );
    }
  }
  return parts;
}

/** Reads `count` sectors starting at `lba`. */
export type SectorReader = (lba: number, count: number) => Promise<Uint8Array>;

/** One copy (primary or backup) of the GPT, as read. */
export type GptCopy =
  | { ok: true; header: GptHeader; partitions: GptPartition[] }
  | { ok: false; error: GptError };

/** Everything {@link readGpt} learned about a disk's partition table. */
export interface GptReadResult {
  /** The table, from the primary copy when it is valid, otherwise from the backup. */
  table: GptTable;
  /** Which copy `table` came from. */
  source: "primary" | "backup";
  /** The primary copy (LBA 1). */
  primary: GptCopy;
  /** The backup copy (last LBA). */
  backup: GptCopy;
  /** Every inconsistency found; empty when both copies are valid and agree. */
  problems: GptError[];
}

async function readCopy(read: SectorReader, lba: number, totalSectors: number): Promise<GptCopy> {
  try {
    const header = parseGptHeader(await read(lba, 1), lba, totalSectors);
    const entries = await read(header.entriesLba, entryArraySectors(header));
    return { ok: true, header, partitions: parseGptEntries(entries, header) };
  } catch (err) {
    if (err instanceof GptError) return { ok: false, error: err };
    throw err;
  }
}

function sameEntries(a: GptPartition[], b: GptPartition[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i];
    return p.index === q.index && p.typeGuid === q.typeGuid && p.uniqueGuid === q.uniqueGuid &&
      p.firstLba === q.firstLba && p.lastLba === q.lastLba && p.attributes === q.attributes &&
      p.name === q.name;
  });
}

/**
 * Reads the GPT of a disk of `totalSectors` sectors: protective MBR, both headers and both
 * entry arrays. Returns the table with every problem found (a damaged or disagreeing copy);
 * throws {@link GptError} only when no usable copy exists.
 */
export async function readGpt(read: SectorReader, totalSectors: number): Promise<GptReadResult> {
  if (totalSectors < GPT_HEAD_SECTORS + GPT_TAIL_SECTORS + 1) {
    throw new GptError("TOO_SMALL", `${totalSectors} sectors is too small for a GPT disk`);
  }
  const problems: GptError[] = [];
  if (!hasProtectiveMbr(await read(0, 1))) {
    problems.push(new GptError("NO_PROTECTIVE_MBR", "LBA 0 holds no protective MBR (type 0xEE)"));
  }
  const last = totalSectors - 1;
  const primary = await readCopy(read, 1, totalSectors);
  let backupLba = last;
  if (primary.ok && primary.header.alternateLba !== last) {
    problems.push(
      new GptError(
        "BACKUP_MISPLACED",
        `primary GPT header puts the backup at LBA ${primary.header.alternateLba}, but the disk ends at ${last} (grown after the table was written?)`,
      ),
    );
    if (primary.header.alternateLba < totalSectors) backupLba = primary.header.alternateLba;
  }
  const backup = await readCopy(read, backupLba, totalSectors);
  if (!primary.ok) problems.push(primary.error);
  if (!backup.ok) problems.push(backup.error);
  if (primary.ok && backup.ok) {
    const p = primary.header;
    const b = backup.header;
    if (
      p.diskGuid !== b.diskGuid || p.firstUsableLba !== b.firstUsableLba ||
      p.lastUsableLba !== b.lastUsableLba || b.alternateLba !== 1 ||
      p.entriesCrc !== b.entriesCrc || !sameEntries(primary.partitions, backup.partitions)
    ) {
      problems.push(new GptError("BACKUP_MISMATCH", "primary and backup GPT disagree"));
    }
  }
  const chosen = primary.ok ? primary : backup.ok ? backup : undefined;
  if (!chosen) {
    throw problems.find((p) => p.code !== "NO_PROTECTIVE_MBR") ?? problems[0];
  }
  const h = chosen.header;
  return {
    table: {
      totalSectors,
      diskGuid: h.diskGuid,
      firstUsableLba: h.firstUsableLba,
      lastUsableLba: h.lastUsableLba,
      partitions: chosen.partitions,
    },
    source: primary.ok ? "primary" : "backup",
    primary,
    backup,
    problems,
  };
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

// ---------------------------------------------------------------------------------------------
// Repair

/** Whole sectors a repair writes at `lba`, and why. */
export interface SectorWrite {
  /** First sector written. */
  lba: number;
  /** The new bytes (a whole number of sectors). */
  data: Uint8Array;
  /** What the write fixes, for the report. */
  why: string;
}

/** What {@link planGptRepair} decided. */
export interface GptRepairPlan {
  /** The table both copies will hold. */
  table: GptTable;
  /** Which copy it came from. */
  source: "primary" | "backup";
  /** Sector writes, only of sectors whose bytes change, in disk order. */
  writes: SectorWrite[];
  /** Problems the repair leaves (it never rewrites a real MBR partition table). */
  left: string[];
}

function sameSector(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Plans the writes that make a disk's GPT whole from the copy {@link readGpt} trusts: a damaged
 * or missing copy is rewritten from the other; a backup that is not at the last LBA (a disk
 * grown after the table was written) moves there, the last usable LBA grows with it and the old
 * backup header is zeroed so it cannot be mistaken for a table later; a missing protective MBR
 * is written (keeping LBA 0's boot-code bytes), an outdated one gets its size. Only sectors
 * whose bytes change are listed. Throws {@link GptError} when no copy is usable, when both
 * copies are valid but disagree (nothing says which is right), or when the table does not fit
 * the disk.
 */
export async function planGptRepair(
  read: SectorReader,
  totalSectors: number,
): Promise<GptRepairPlan> {
  const gpt = await readGpt(read, totalSectors);
  const disagree = gpt.problems.find((p) => p.code === "BACKUP_MISMATCH");
  if (disagree) throw disagree;
  const last = totalSectors - 1;
  const chosen = (gpt.primary.ok ? gpt.primary : gpt.backup) as Extract<GptCopy, { ok: true }>;
  const oldBackupLba = gpt.primary.ok ? gpt.primary.header.alternateLba : last;
  const grown = oldBackupLba < last;
  const table: GptTable = {
    ...gpt.table,
    lastUsableLba: grown ? gptUsableRange(totalSectors).lastUsableLba : gpt.table.lastUsableLba,
  };
  const enc = encodeGpt(table);
  const writes: SectorWrite[] = [];
  const left: string[] = [];
  const want = async (lba: number, data: Uint8Array, why: string) => {
    for (let i = 0; i < data.length / SECTOR_SIZE; i++) {
      const next = data.subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE);
      if (!sameSector(await read(lba + i, 1), next)) {
        writes.push({ lba: lba + i, data: next.slice(), why });
      }
    }
  };
  const lba0 = await read(0, 1);
  if (hasProtectiveMbr(lba0)) {
    const fixed = lba0.slice();
    for (let i = 0; i < 4; i++) {
      const at = 446 + 16 * i;
      if (fixed[at + 4] === 0xee) {
        new DataView(fixed.buffer).setUint32(at + 12, Math.min(last, 0xffffffff), true);
      }
    }
    await want(0, fixed, "protective MBR size");
  } else if (lba0[510] === 0x55 && lba0[511] === 0xaa) {
    left.push("LBA 0 holds an MBR partition table without a protective entry; left as is");
  } else {
    const mbr = encodeProtectiveMbr(totalSectors);
    mbr.set(lba0.subarray(0, 440), 0);
    await want(0, mbr, "protective MBR");
  }
  const primaryWhy = gpt.primary.ok ? "primary GPT (grown disk)" : "primary GPT from the backup";
  await want(1, enc.head.subarray(SECTOR_SIZE), primaryWhy);
  if (grown && gpt.primary.ok && hasGptSignature(await read(oldBackupLba, 1))) {
    await want(oldBackupLba, new Uint8Array(SECTOR_SIZE), "stale backup GPT header");
  }
  const backupWhy = grown
    ? "backup GPT moved to the last LBA"
    : gpt.backup.ok
    ? "backup GPT"
    : "backup GPT from the primary";
  await want(enc.tailLba, enc.tail, backupWhy);
  writes.sort((a, b) => a.lba - b.lba);
  return { table, source: chosen === gpt.primary ? "primary" : "backup", writes, left };
}
