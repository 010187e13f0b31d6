import { assertEquals, assertMatch, assertRejects, assertThrows } from "../../tests/assert.ts";
import { GOLDEN_PUT_RECORD } from "../../tests/helpers.ts";
import {
  encodeGpt,
  type GptPartition,
  gptUsableRange,
  LINUX_DATA_TYPE_GUID,
  SECTOR_SIZE,
  STATEFS_TYPE_GUID,
} from "../statefs/gpt.ts";
import { MemoryBlockDevice, StateFs } from "../statefs/mod.ts";
import { discoverDisk, DiskLayoutError, pickStateFsPartition, scanBlank } from "./discover.ts";

const SECTORS = 4096;

function reader(bytes: Uint8Array) {
  return (lba: number, count: number) =>
    Promise.resolve(bytes.slice(lba * SECTOR_SIZE, (lba + count) * SECTOR_SIZE));
}

function part(index: number, name: string, type = LINUX_DATA_TYPE_GUID): GptPartition {
  const first = 2048 + (index - 1) * 512;
  return {
    index,
    typeGuid: type,
    uniqueGuid: `00000000-0000-4000-8000-${index.toString(16).padStart(12, "0")}`,
    firstLba: first,
    lastLba: first + 511,
    attributes: 0n,
    name,
  };
}

function gptDisk(partitions: GptPartition[]): Uint8Array {
  const bytes = new Uint8Array(SECTORS * SECTOR_SIZE);
  const gpt = encodeGpt({
    totalSectors: SECTORS,
    diskGuid: "6E657875-7300-4000-8000-000000000001",
    ...gptUsableRange(SECTORS),
    partitions,
  });
  bytes.set(gpt.head, 0);
  bytes.set(gpt.tail, gpt.tailLba * SECTOR_SIZE);
  return bytes;
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await assertRejects(() => p, DiskLayoutError);
  return err.code;
}

Deno.test("scanBlank: zeros are blank; an interrupted format is garbage; anything else is data", async () => {
  const bytes = new Uint8Array(1024 * SECTOR_SIZE);
  assertEquals(await scanBlank(reader(bytes), 0, 1024), { blank: true, interruptedFormat: false });
  const dev = MemoryBlockDevice.fromBytes(bytes);
  await StateFs.format(dev);
  const formatted = (await dev.read(0, 1024)).slice();
  formatted.fill(0, 0, SECTOR_SIZE); // the superblock write never landed
  assertEquals(await scanBlank(reader(formatted), 0, 1024), {
    blank: true,
    interruptedFormat: true,
  });
  formatted[SECTOR_SIZE + 30] ^= 1; // a checkpoint that is not Checkpoint{1, 0} is data
  assertEquals(await scanBlank(reader(formatted), 0, 1024), { blank: false, firstDataBlock: 1 });
  for (const at of [0, 511, 512 * 129 + 3, 1024 * SECTOR_SIZE - 1]) {
    const b = new Uint8Array(1024 * SECTOR_SIZE);
    b[at] = 0x80;
    assertEquals(await scanBlank(reader(b), 0, 1024), {
      blank: false,
      firstDataBlock: Math.floor(at / SECTOR_SIZE),
    });
  }
});

Deno.test("discoverDisk: whole-device shapes (NXS2, legacy journal, blank) and refusals", async () => {
  const dev = new MemoryBlockDevice(SECTORS);
  await StateFs.format(dev);
  const nxs2 = await dev.read(0, SECTORS);
  assertEquals((await discoverDisk(reader(nxs2), SECTORS)).kind, "whole-device");
  assertEquals(await discoverDisk(reader(nxs2), SECTORS), {
    kind: "whole-device",
    content: "nxs2",
    warnings: [],
  });
  const legacy = new Uint8Array(SECTORS * SECTOR_SIZE);
  legacy.set(GOLDEN_PUT_RECORD, 0);
  assertEquals((await discoverDisk(reader(legacy), SECTORS)).kind, "whole-device");
  const blank = new Uint8Array(SECTORS * SECTOR_SIZE);
  assertEquals(await discoverDisk(reader(blank), SECTORS), {
    kind: "whole-device",
    content: "blank",
    warnings: [],
  });
  const stray = new Uint8Array(SECTORS * SECTOR_SIZE);
  stray[2000 * SECTOR_SIZE] = 9;
  const err = await assertRejects(() => discoverDisk(reader(stray), SECTORS), DiskLayoutError);
  assertEquals(err.code, "NOT_BLANK");
  assertMatch(err.message, /sector 0 is zero but sector 2000 holds data/);
  const noise = new Uint8Array(SECTORS * SECTOR_SIZE).fill(0x5a);
  assertEquals(await code(discoverDisk(reader(noise), SECTORS)), "NOT_AN_IMAGE");
});

Deno.test("discoverDisk: a GPT with only its backup copy left is a GPT, never a blank disk", async () => {
  const bytes = gptDisk([part(1, "nexus-state", STATEFS_TYPE_GUID)]);
  bytes.fill(0, 0, 34 * SECTOR_SIZE); // MBR, primary header and primary array gone
  const shape = await discoverDisk(reader(bytes), SECTORS);
  if (shape.kind !== "gpt") throw new Error("expected a GPT");
  assertEquals(shape.gpt.source, "backup");
  assertEquals([shape.partition.name, shape.foundBy], ["nexus-state", "type"]);
  assertMatch(shape.warnings.join("\n"), /no protective MBR[\s\S]*using the backup GPT/);
  // Both copies gone: nothing to go on, and not blank either.
  bytes.fill(0, (SECTORS - 1) * SECTOR_SIZE);
  assertEquals(await code(discoverDisk(reader(bytes), SECTORS)), "NOT_BLANK");
});

Deno.test("pickStateFsPartition: type first, then nexus-state, then state; exact name when asked", () => {
  const typed = part(2, "whatever", STATEFS_TYPE_GUID);
  assertEquals(pickStateFsPartition([part(1, "nexus-state"), typed]), {
    partition: typed,
    foundBy: "type",
  });
  assertEquals(pickStateFsPartition([part(1, "state"), part(2, "nexus-state")]).partition.index, 2);
  assertEquals(pickStateFsPartition([part(1, "boot"), part(2, "state")]).partition.index, 2);
  assertEquals(pickStateFsPartition([typed, part(3, "x")], "x").partition.index, 3);
  const none = assertThrows(() => pickStateFsPartition([part(1, "boot")]), DiskLayoutError);
  assertEquals(none.code, "NO_PARTITION");
  const two = assertThrows(
    () => pickStateFsPartition([typed, part(3, "y", STATEFS_TYPE_GUID)]),
    DiskLayoutError,
  );
  assertEquals(two.code, "AMBIGUOUS_PARTITION");
  const missing = assertThrows(() => pickStateFsPartition([typed], "nope"), DiskLayoutError);
  assertMatch(missing.message, /no partition named "nope" \(partitions: whatever\)/);
});
